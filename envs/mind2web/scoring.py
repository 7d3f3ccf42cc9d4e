"""Mind2Web aggregates: step success rate (the paper's number), element accuracy, action F1 (means over steps, as
AgentBench.old's ``metric``), task success rate (Mind2Web's: every step of a task succeeds; tasks are grouped by the
``annotation_id`` fact) and the ranker's recall@k over the steps scored."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

RECALL_AT = (5, 10, 20, 50)


def _mean(values: list[float]) -> float:
    return 100.0 * sum(values) / len(values) if values else 0.0


def aggregate(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    if not records:
        return 0.0, {}
    metrics = [r.get("metrics") or {} for r in records]
    facts = [r.get("facts") or {} for r in records]
    success = [float(m.get("step_success", r.get("reward") or 0)) for m, r in zip(metrics, records)]
    extra: dict[str, Any] = {
        "element_acc": round(_mean([float(m.get("element_acc", 0)) for m in metrics]), 4),
        "action_f1": round(_mean([float(m.get("action_f1", 0)) for m in metrics]), 4),
    }
    tasks: dict[str, list[float]] = {}
    expected: dict[str, int] = {}
    for f, s in zip(facts, success):
        if "annotation_id" in f:
            tasks.setdefault(f["annotation_id"], []).append(s)
            expected[f["annotation_id"]] = int(f.get("task_steps", 0))
    complete = {a: v for a, v in tasks.items() if len(v) >= expected[a]}
    if complete:
        extra["task_sr"] = round(_mean([float(all(x == 1.0 for x in v)) for v in complete.values()]), 4)
        extra["tasks"] = len(complete)
    if len(complete) < len(tasks):
        extra["tasks_incomplete"] = len(tasks) - len(complete)  # not all their steps scored: left out of task_sr
    ranks = [f.get("best_positive_rank", "absent") for f in facts]
    if all(r != "absent" for r in ranks):
        for k in RECALL_AT:
            extra[f"recall@{k}"] = round(_mean([float(r is not None and r < k) for r in ranks]), 4)
        extra["ranker_top1"] = round(_mean([float(r == 0) for r in ranks]), 4)
    return _mean(success), extra
