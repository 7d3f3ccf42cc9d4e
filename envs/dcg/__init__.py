"""Digital Card Game (held-out): AgentBench.old's Aquawar against its two baselines, on the upstream game engine."""
from __future__ import annotations

from harness import Generation, TaskSpec, register_task


def register() -> TaskSpec:
    from .scoring import aggregate

    return register_task(TaskSpec(
        name="dcg",
        category="held_out",
        env="envs.dcg.env:CardGameEnv",
        splits={"ext": 200, "std": 20, "dev": 12},
        default_split="ext",
        metric="win rate",
        description="Aquawar (AgentBench.old card_game, stage 2) against baseline1/baseline2, the model in seat 0 and "
                    "seat 1; the upstream logic, baselines and LLM player (AI_En) built from the pinned source",
        aggregate=aggregate,
        generation=Generation(max_new_tokens=512, temperature=0.0),
        concurrency=8,
        requires=("requests", "yaml"),
        data=("dcg/agentbench_old_card_game_src.tar.gz", "dcg/card_game_ext.yaml", "dcg/card_game_std.yaml",
              "dcg/card_game_dev.yaml"),
        setup="envs.dcg.build:install",
    ))
