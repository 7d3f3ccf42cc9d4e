"""MMLU (57 subjects, 14,042 test questions): 5-shot, option log-probabilities, micro-averaged accuracy."""
from collections import defaultdict
from typing import Any, Mapping, Sequence

from harness import Generation, TaskSpec, fact, register_agent, register_task


def aggregate(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    """Micro-averaged accuracy in percent, per-subject accuracies, and how the answers were chosen."""
    if not records:
        return 0.0, {}
    per: dict[str, list[float]] = defaultdict(list)
    methods: dict[str, int] = defaultdict(int)
    for r in records:
        m = r.get("metrics") or {}
        per[fact(r, "subject", "?")].append(float(r["reward"]))
        methods[m.get("method", "unknown")] += 1
    acc = 100.0 * sum(float(r["reward"]) for r in records) / len(records)
    metrics: dict[str, Any] = {
        "n": len(records),
        "subjects": {s: {"accuracy": 100.0 * sum(v) / len(v), "n": len(v)} for s, v in sorted(per.items())},
        "macro_accuracy": 100.0 * sum(sum(v) / len(v) for v in per.values()) / len(per),
        "methods": dict(methods),
    }
    if methods.get("generate"):
        metrics["deviation"] = f"{methods['generate']} answers generated and parsed instead of log-probability scoring"
    return acc, metrics


def register() -> TaskSpec:
    register_agent("mmlu", "envs.mmlu.agent:MMLUAgent")
    return register_task(TaskSpec(
        name="mmlu", category="general", env="envs.mmlu.env:MMLUEnv",
        splits={"test": 14042, "dev": 285}, default_split="test", metric="accuracy", unit="%", aggregate=aggregate,
        mean_score=True,
        description="MMLU, 5-shot chat turns; the option with the highest log-probability (generation as a fallback)",
        generation=Generation(max_new_tokens=32), agent="mmlu", data=("general/mmlu/test", "general/mmlu/dev"),
        max_turns=1,
    ))
