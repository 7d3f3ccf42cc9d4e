"""DBBench scoring as AgentBench.old does it (pure Python; no database needed).

SELECT-type answers: the text after ``Final Answer:`` is read as a Python literal and turned into a list
(upstream calls ``list(eval(text))`` and falls back to ``[text]``); one value against one label compares as floats
when both parse, else as strings; otherwise the two are compared as sets. INSERT/UPDATE: the string form of the
table-hash query's result must equal ``answer_md5``. The task score is the mean of the SELECT, INSERT and UPDATE
accuracies, in percent.
"""
from __future__ import annotations

import ast
import operator
from typing import Any, Mapping, Sequence

from harness import fact, is_error

SELECT_TYPES = ("other", "counting", "comparison", "ranking", "aggregation-SUM", "aggregation-MIN",
                "aggregation-MAX", "aggregation-AVG")
MODIFY_TYPES = ("INSERT", "UPDATE", "DELETE")
CATEGORIES = ("SELECT", "INSERT", "UPDATE")


def category(typ: str) -> str:
    """INSERT / UPDATE / DELETE stay themselves; every other type belongs to the SELECT family."""
    return typ if typ in MODIFY_TYPES else "SELECT"


_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_}


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_value(e) for e in node.elts]
        return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values) if k is not None}
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and (abs(left) > 1e6 or abs(right) > 64):
            raise ValueError("exponent too large")
        if isinstance(node.op, ast.Mult) and (isinstance(left, (str, list)) or isinstance(right, (str, list))):
            raise ValueError("sequence repetition")
        return _BINOPS[type(node.op)](left, right)
    raise ValueError(f"not a literal: {type(node).__name__}")


def safe_eval(text: str) -> Any:
    """What upstream's ``eval`` gives for literal answers (lists, strings, numbers, arithmetic), without running code.

    Names, calls and attribute access raise ValueError; upstream would evaluate them (almost always to a NameError,
    which it also treats as "not a literal").
    """
    if len(text) > 100_000:
        raise ValueError("answer too long")
    tree = ast.parse(text.strip(" \t"), mode="eval")
    return _value(tree.body)


def parse_answer(text: str) -> list[Any]:
    """Upstream: ``list(eval(text))``, or ``[text]`` when that fails."""
    try:
        return list(safe_eval(text))
    except Exception:  # noqa: BLE001 - upstream catches everything here
        return [text]


def select_correct(answer_text: str, label: Sequence[str]) -> bool:
    ans = parse_answer(answer_text)
    cor = list(label)
    if len(ans) == 1 and len(cor) == 1:
        try:
            return float(ans[0]) == float(cor[0])
        except (ValueError, TypeError, OverflowError):
            return ans[0] == cor[0]
    try:
        return set(ans) == set(cor)
    except TypeError:  # unhashable members (a nested list): upstream counts it wrong
        return False


def modify_correct(table_hash: str, answer_md5: str) -> bool:
    return table_hash == answer_md5


def aggregate(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    """Main metric: mean of the SELECT, INSERT and UPDATE accuracies (percent); per-type accuracies beside it.

    A category absent from the records (a --limit run) is left out of the mean instead of counting as 0 (upstream
    divides by 3 regardless; on the full split both agree). The question type comes from the record's ``facts`` (the
    task data, known before the episode); records written before facts existed fall back to ``metrics``.
    """
    by_type: dict[str, list[float]] = {}
    rounds: list[int] = []
    for rec in records:
        if is_error(rec):  # errors are never scored (the runner leaves them out already)
            continue
        metrics = rec.get("metrics") or {}
        typ = fact(rec, "type")
        if not typ:
            raise ValueError(f"DBBench record {rec.get('index')!r} has no question type in facts or metrics")
        reward = float(rec.get("reward") or 0.0)
        by_type.setdefault(typ, []).append(reward)
        if category(typ) != typ:
            by_type.setdefault(category(typ), []).append(reward)
        if "rounds" in metrics:
            rounds.append(int(metrics["rounds"]))
    out: dict[str, Any] = {}
    for typ, values in sorted(by_type.items()):
        out[f"{typ}_accuracy"] = 100.0 * sum(values) / len(values)
        out[f"{typ}_n"] = len(values)
    present = [c for c in CATEGORIES if c in by_type]
    score = sum(out[f"{c}_accuracy"] for c in present) / len(present) if present else 0.0
    if rounds:
        out["average_rounds"] = sum(rounds) / len(rounds)
    return score, out
