"""SciWorld (ScienceWorld), AgentTuning's held-out setting: 30 task types, 270 test variations, 1-shot, easy mode.

Protocol (AgentTuning ``eval_heldout/science-world``): the model answers ``Think: ...`` (answered "OK.") or
``Action: ...`` (mapped onto the simulator's valid actions, then executed); 100 simulator steps; the episode
score is the simulator's final score; the task score is the mean per task type, then the mean over types.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping, Sequence

from harness import Generation, TaskSpec, fact, register_agent, register_task


def per_type_mean(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    """Mean reward per task type, then the unweighted mean over the types present, in percent."""
    by_type: dict[str, list[float]] = defaultdict(list)
    for r in records:
        by_type[str(fact(r, "task_name", "?"))].append(float(r["reward"]))
    if not by_type:
        return 0.0, {}
    per_type = {name: 100.0 * sum(v) / len(v) for name, v in sorted(by_type.items())}
    score = sum(per_type.values()) / len(per_type)
    return score, {"per_task_type": per_type, "task_types": len(per_type),
                   "mean_episode_score": 100.0 * sum(float(r["reward"]) for r in records) / len(records)}


def register() -> None:
    register_agent("sciworld_chat", "envs.sciworld.agent:SciWorldAgent")
    register_task(TaskSpec(
        name="sciworld",
        category="held_out",
        env="envs.sciworld.env:SciWorldEnv",
        splits={"test": 270},
        default_split="test",
        metric="mean score per task type",
        description="ScienceWorld, 30 task types x up to 10 test variations, Think/Action, 1-shot, easy mode",
        aggregate=per_type_mean,
        group_by="task_name",
        # upstream asks TGI for 256 new tokens; a reply is one Think: or Action: line
        generation=Generation(max_new_tokens=256),
        concurrency=2,  # one JVM (about 0.5 GB) per worker process
        thread_safe=False,
        resources={"jvm": 1, "CPU": 1},  # on a Ray cluster: a core on a node that advertises jvm (a JRE)
        requires=("scienceworld",),
        data=("sciworld/agenttuning_test_variations.json", "sciworld/prompt.json", "sciworld/agenttuning_texts.json"),
        max_turns=200,
        agent="sciworld_chat",
        setup="envs.sciworld.setup:install",
    ))
