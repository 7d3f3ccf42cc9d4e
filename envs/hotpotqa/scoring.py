"""HotpotQA answer metrics as ReAct/BOLAA score them: SQuAD-style normalisation, token F1, exact match."""
from __future__ import annotations

import re
import string
from collections import Counter
from typing import Any, Mapping, Sequence

from harness import fact

LEVELS = ("easy", "medium", "hard")
_PUNCT = frozenset(string.punctuation)
_BINARY = ("yes", "no", "noanswer")


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def f1_score(prediction: str, gold: str) -> float:
    """Token F1; a yes/no/noanswer on either side only scores when both sides are equal."""
    pred, ref = normalize_answer(prediction), normalize_answer(gold)
    if (pred in _BINARY or ref in _BINARY) and pred != ref:
        return 0.0
    pred_tokens, ref_tokens = pred.split(), ref.split()
    same = sum((Counter(pred_tokens) & Counter(ref_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, gold: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(gold)


def aggregate(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    """Mean F1 per difficulty level, then the mean over the levels present (AgentTuning's eval_hotpot.py), in %."""
    by_level: dict[str, list[float]] = {}
    for rec in records:
        level = fact(rec, "level", "all")
        by_level.setdefault(level, []).append(float(rec.get("reward") or 0.0))
    if not by_level:
        return 0.0, {}
    means = {lvl: 100.0 * sum(v) / len(v) for lvl, v in by_level.items()}
    em = [bool((r.get("metrics") or {}).get("em")) for r in records]
    extra: dict[str, Any] = {f"f1_{lvl}": round(m, 4) for lvl, m in sorted(means.items())}
    extra["em"] = round(100.0 * sum(em) / len(em), 4)
    extra["levels"] = sorted(means)
    return sum(means.values()) / len(means), extra
