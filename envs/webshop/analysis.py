"""The text analysis of WebShop's search engine, reproduced in Python.

Upstream indexes and queries with pyserini 0.17.0 (Anserini 0.14.3 on Lucene 8), whose default English analyzer is:
Unicode word segmentation (Lucene's StandardTokenizer, UAX #29), removal of a trailing possessive ``'s``, lower-casing
(one code point at a time), removal of 33 English stop words, Porter stemming. Here:

- word segmentation follows UAX #29: pure-ASCII stretches of text go through a plain regular expression that applies
  the rules that can meet ASCII characters (letters and digits join, and so do ``_``, a letter ``:``/``.``/``'``
  letter, a digit ``,``/``;``/``.``/``'`` digit), the rest through the ``regex`` module's UAX #29 word boundaries
  (the two agree on ASCII text: tests/unit checks it); a segment is kept when it holds a letter, a
  digit, an ideograph, kana, a Southeast-Asian letter, or one of the symbols Lucene's tokenizer emits as emoji tokens
  (``LUCENE_SYMBOLS``: measured by indexing every assigned code point with Anserini 0.14.3 and reading the term
  vectors back); segments longer than 255 characters are cut into pieces of 255, as Lucene does;
- stemming is NLTK's Porter stemmer in ``MARTIN_EXTENSIONS`` mode (Martin Porter's reference implementation, of which
  Lucene's ``PorterStemmer`` is a port).

On the 1,000-product catalogue this gives term vectors identical to Lucene's for every document (tests/unit and the
README record the measurement).
"""
from __future__ import annotations

from functools import lru_cache

import re

import regex
from nltk.stem.porter import PorterStemmer

#: Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET
STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with".split())

MAX_TOKEN_LENGTH = 255

#: Code-point ranges that are not letters or digits but that Lucene 8's StandardTokenizer still emits as tokens
#: (emoji and pictographs, CJK radicals); measured, see the module docstring.
LUCENE_SYMBOLS = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122), (0x2194, 0x2199),
    (0x21A9, 0x21AA), (0x231A, 0x231B), (0x2328, 0x2328), (0x2388, 0x2388), (0x23CF, 0x23CF), (0x23E9, 0x23F3),
    (0x23F8, 0x23FA), (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x2605),
    (0x2607, 0x2612), (0x2614, 0x2685), (0x2690, 0x2705), (0x2708, 0x2712), (0x2714, 0x2714), (0x2716, 0x2716),
    (0x271D, 0x271D), (0x2721, 0x2721), (0x2728, 0x2728), (0x2733, 0x2734), (0x2744, 0x2744), (0x2747, 0x2747),
    (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757), (0x2763, 0x2767), (0x2795, 0x2797),
    (0x27A1, 0x27A1), (0x27B0, 0x27B0), (0x27BF, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50), (0x2B55, 0x2B55), (0x2E80, 0x2FD5), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297),
    (0x3299, 0x3299), (0x1F000, 0x1F0F5), (0x1F10D, 0x1F10F), (0x1F12F, 0x1F12F), (0x1F16C, 0x1F16F),
    (0x1F18E, 0x1F18E), (0x1F191, 0x1F19A), (0x1F1AD, 0x1F1AD), (0x1F201, 0x1F202), (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A), (0x1F250, 0x1F53D), (0x1F546, 0x1F64F), (0x1F680, 0x1F6FC),
    (0x1F7D5, 0x1F7F0), (0x1F8B0, 0x1F8B1), (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945), (0x1F947, 0x1FBCA),
)

_BOUNDARY = regex.compile(r"(?wV1)\b")
_TOKEN_CHAR = regex.compile(
    r"[\p{WB=ALetter}\p{WB=Hebrew_Letter}\p{WB=Numeric}\p{WB=Katakana}\p{Ideographic}\p{Script=Hiragana}"
    r"\p{Line_Break=Complex_Context}" + "".join(f"{chr(a)}-{chr(b)}" for a, b in LUCENE_SYMBOLS) + "]")
_APOSTROPHES = ("'", "\u2019", "\uff07")
_STEMMER = PorterStemmer(mode=PorterStemmer.MARTIN_EXTENSIONS)


_ASCII_WORD = re.compile(r"[A-Za-z0-9_]+(?:(?:(?<=[A-Za-z])[:.'](?=[A-Za-z])|(?<=[0-9])[,;.'](?=[0-9]))[A-Za-z0-9_]+)*")
_NON_ASCII_CHUNK = re.compile(r"(?<!\S)(\S*[^\x00-\x7f]\S*)")


def _cut(seg: str, out: list[str]) -> None:
    if len(seg) > MAX_TOKEN_LENGTH:
        out.extend(seg[i:i + MAX_TOKEN_LENGTH] for i in range(0, len(seg), MAX_TOKEN_LENGTH))
    else:
        out.append(seg)


def _tokenize_unicode(text: str, out: list[str]) -> None:
    for seg in _BOUNDARY.split(text):
        if seg and _TOKEN_CHAR.search(seg):
            _cut(seg, out)


def _tokenize_ascii(text: str, out: list[str]) -> None:
    segs = _ASCII_WORD.findall(text)
    if "_" in text:
        segs = [s for s in segs if s.strip("_")]  # a run of underscores alone is no token
    if segs and max(map(len, segs)) > MAX_TOKEN_LENGTH:
        for seg in segs:
            _cut(seg, out)
    else:
        out.extend(segs)


def tokenize(text: str) -> list[str]:
    """Word segments that Lucene's StandardTokenizer emits, in order (original case)."""
    out: list[str] = []
    if text.isascii():
        _tokenize_ascii(text, out)
        return out
    # word boundaries always fall around white space: the white-space delimited chunks that hold a non-ASCII
    # character take the Unicode path, the ASCII stretches between them the fast one
    for i, part in enumerate(_NON_ASCII_CHUNK.split(text)):
        if i % 2:
            _tokenize_unicode(part, out)
        elif part:
            _tokenize_ascii(part, out)
    return out


def tokenize_reference(text: str) -> list[str]:
    """The same segmentation through the ``regex`` module alone (slow; the yardstick for ``tokenize``)."""
    out: list[str] = []
    _tokenize_unicode(text, out)
    return out


def _lower(token: str) -> str:
    """Per-code-point lower-casing (Java's Character.toLowerCase): no final-sigma rule, dotted capital I -> i."""
    if token.isascii():
        return token.lower()
    return "".join("i" if c == "\u0130" else "\u03c3" if c == "\u03a3" else c.lower() for c in token)


@lru_cache(maxsize=1 << 20)
def stem(term: str) -> str:
    return _STEMMER.stem(term, to_lowercase=False)


def normalize(token: str) -> str | None:
    """Possessive, lower-case, stop word, stem: the term a token becomes, or None when it is dropped."""
    if len(token) >= 2 and token[-1] in "sS" and token[-2] in _APOSTROPHES:
        token = token[:-2]
    token = _lower(token)
    if not token or token in STOP_WORDS:
        return None
    return stem(token)


_TERMS: dict[str, str] = {}  # token -> term ("" when the token is dropped)


def analyze(text: str) -> list[str]:
    """The terms Lucene's index holds for ``text``, in order (with repeats)."""
    tokens = tokenize(text)
    terms = list(map(_TERMS.get, tokens))
    if None in terms:
        for k, token in enumerate(tokens):
            if terms[k] is None:
                term = normalize(token) or ""
                if len(_TERMS) < 4_000_000:
                    _TERMS[token] = term
                terms[k] = term
    return [t for t in terms if t]
