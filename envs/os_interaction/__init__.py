"""OS interaction (AgentBench.old, AgentTuning held-in): bash in confined Docker containers. See env.py."""
from __future__ import annotations

from harness import Generation, TaskSpec, register_task


def register() -> None:
    register_task(TaskSpec(
        name="os",
        category="held_in",
        env="envs.os_interaction.env:OSEnv",
        splits={"std": 144, "dev": 26},
        default_split="std",
        metric="success rate",
        description="AgentBench.old OS interaction: answer questions / change state with bash in a fresh "
                    "container, 8 rounds, judged by exact match or check scripts",
        generation=Generation(max_new_tokens=128),
        concurrency=8,
        thread_safe=True,
        services=("docker",),
        endpoints=("HARNESS_OS_IMAGE",),  # another image changes outcomes
        resources={"docker": 1},  # on a Ray cluster: nodes that advertise docker (one container per env)
        requires=("docker",),
        data=("agentbench/os_interaction", "agentbench/prompts/os_interaction.json"),
        max_turns=8,
        setup="envs.os_interaction.setup:install",
    ))
