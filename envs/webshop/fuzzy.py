"""``token_set_ratio`` as WebShop's reward computes it: thefuzz 0.19.0 (WebShop's pinned requirement) without
python-Levenshtein, i.e. ratios from the standard library's ``difflib.SequenceMatcher``.

Later thefuzz releases (0.20 on) compute the ratio with rapidfuzz (an Indel distance), which differs from difflib's on
some strings; the README records how many reward cases that changes.

Semantics kept from thefuzz 0.19: a non-string argument is used as ``str(arg)`` (WebShop passes ``(name, value)``
tuples for synthetic goals' options); characters U+0080..U+00FF are deleted, every other non-word character becomes a
space, the text is lower-cased and stripped; tokens are white-space separated; the result is
``round(100 * ratio)`` (Python's rounding) of the best of three comparisons of the sorted token sets.
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any

_LATIN1 = {c: None for c in range(128, 256)}
_NON_WORD = re.compile(r"(?ui)\W")


def full_process(s: Any) -> str:
    text = s if type(s) is str else str(s)
    return _NON_WORD.sub(" ", text.translate(_LATIN1)).lower().strip()


def ratio(s1: str, s2: str) -> int:
    if s1 == s2:
        return 100
    if not s1 or not s2:
        return 0
    return int(round(100 * SequenceMatcher(None, s1, s2).ratio()))


def token_set_ratio(s1: Any, s2: Any) -> int:
    if s1 is None or s2 is None:
        return 0
    p1, p2 = full_process(s1), full_process(s2)
    if not p1 or not p2:
        return 0
    tokens1, tokens2 = set(p1.split()), set(p2.split())
    sect = " ".join(sorted(tokens1 & tokens2))
    combined_1to2 = (sect + " " + " ".join(sorted(tokens1 - tokens2))).strip()
    combined_2to1 = (sect + " " + " ".join(sorted(tokens2 - tokens1))).strip()
    sect = sect.strip()
    return max(ratio(sect, combined_1to2), ratio(sect, combined_2to1), ratio(combined_1to2, combined_2to1))
