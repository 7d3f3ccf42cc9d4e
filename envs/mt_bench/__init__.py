"""MT-Bench (80 two-turn questions): answers graded 1-10 by a judge model with FastChat's single-answer prompts."""
from collections import defaultdict
from typing import Any, Mapping, Sequence

from harness import Generation, TaskSpec, fact, register_agent, register_task


def aggregate(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    """Mean judge rating over every graded (question, turn), failed parses left out, as FastChat's show_result."""
    by_turn: dict[int, list[float]] = defaultdict(list)
    by_cat: dict[str, list[float]] = defaultdict(list)
    failures = 0
    for r in records:
        m = r.get("metrics") or {}
        for turn, score in enumerate(m.get("turn_scores") or [], start=1):
            if score == -1:
                failures += 1
                continue
            by_turn[turn].append(float(score))
            by_cat[fact(r, "category", "?")].append(float(score))
    scores = [s for v in by_turn.values() for s in v]
    if not scores:
        return 0.0, {"judge_parse_failures": failures, "ratings": 0}
    metrics: dict[str, Any] = {f"turn{t}": sum(v) / len(v) for t, v in sorted(by_turn.items())}
    metrics["categories"] = {c: sum(v) / len(v) for c, v in sorted(by_cat.items())}
    metrics["judge_parse_failures"] = failures
    metrics["ratings"] = len(scores)
    return sum(scores) / len(scores), metrics


def register() -> TaskSpec:
    register_agent("mt_bench", "envs.mt_bench.agent:MTBenchAgent")
    return register_task(TaskSpec(
        name="mt_bench", category="general", env="envs.mt_bench.env:MTBenchEnv",
        splits={"test": 80}, default_split="test", metric="judge score", unit="1-10", scale=10.0, decimals=2,
        aggregate=aggregate,
        description="MT-Bench: two turns per question, graded 1-10 by a judge model (FastChat single-answer grading)",
        generation=Generation(max_new_tokens=1024), agent="mt_bench", needs_judge=True, max_turns=2,
        data=("general/mt_bench/question.jsonl", "general/mt_bench/judge_prompts.jsonl"),
    ))
