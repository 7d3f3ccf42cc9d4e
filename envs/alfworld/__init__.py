"""ALFWorld (held-in): TextWorld household games, played with AgentBench.old's protocol (AgentTuning Table 4).

Two tasks: ``alfworld`` (the paper's setting) and ``alfworld_v0.2`` (AgentBench v0.2's variant, for comparisons with
the AgentBench leaderboard; outside the paper's categories). The env lives in ``env.py``; nothing heavy is imported here.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from harness import Generation, TaskSpec, fact, register_task

ENV = "envs.alfworld.env:AlfWorldEnv"
REQUIRES = ("alfworld", "textworld", "fast_downward", "nltk")
DATA = ("agentbench/alfworld/standard.json", "agentbench/alfworld/prompts", "alfworld/json_2.1.1",
        "agentbench/prompts/alfworld.json")


def success_rate(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    """Percent of games won, plus the rate per task type and the count of each final status."""
    if not records:
        return 0.0, {}
    by_type: dict[str, list[float]] = {}
    statuses: dict[str, int] = {}
    for r in records:
        category = fact(r, "category", "unknown")
        by_type.setdefault(category, []).append(float(r["reward"]))
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    score = 100.0 * sum(float(r["reward"]) for r in records) / len(records)
    per_type = {f"success_{k}": round(100.0 * sum(v) / len(v), 2) for k, v in sorted(by_type.items())}
    return score, {**per_type, "statuses": statuses, "won": sum(1 for r in records if float(r["reward"]) > 0)}


def register() -> None:
    common = dict(env=ENV, splits={"std": 50, "dev": 20}, default_split="std", metric="success rate",
                  aggregate=success_rate, mean_score=True, generation=Generation(max_new_tokens=128), concurrency=8,
                  thread_safe=False, requires=REQUIRES, data=DATA, max_turns=35, setup="envs.alfworld.setup:install")
    register_task(TaskSpec(name="alfworld", category="held_in", env_kwargs={"protocol": "agentbench_old"},
                           description="ALFWorld household games, AgentBench.old protocol (BLEU-mapped actions, "
                                       "no action list, 35 steps)", **common))
    register_task(TaskSpec(name="alfworld_v0.2", category="test", env_kwargs={"protocol": "agentbench_v0.2"},
                           description="ALFWorld with AgentBench v0.2's protocol (action list shown, a reply "
                                       "without ACTION: is invalid); not the paper's setting", **common))
