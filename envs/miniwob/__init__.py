"""MiniWoB++, AgentTuning's held-out setting: 46 tasks x 10 seeded episodes, HTML observations, RCI agent.

The paper's agent is the ``miniwob_rci`` strategy (plan, one critique, grounding, up to three corrections per
action), the task's default. ``--agent chat`` drives the same env one action per model turn (``mode=plain``).
"""
from __future__ import annotations

from harness import Generation, TaskSpec, register_agent, register_task


def register() -> None:
    register_agent("miniwob_rci", "envs.miniwob.agent:RCIAgent")
    register_task(TaskSpec(
        name="miniwob",
        category="held_out",
        env="envs.miniwob.env:MiniWoBEnv",
        splits={"test": 460},
        default_split="test",
        metric="success rate",
        description="MiniWoB++ task pages in headless Chromium (Playwright), 46 tasks x 10 seeds, RCI agent",
        # upstream asks TGI for 512 new tokens per call, greedy
        generation=Generation(max_new_tokens=512),
        concurrency=4,  # one Chromium per worker process
        thread_safe=False,
        resources={"browser": 1},  # on a Ray cluster: nodes that advertise browser (Chromium installed)
        requires=("playwright", "miniwob"),
        data=("miniwob/available_tasks.txt", "miniwob/few-shot.json", "miniwob/agenttuning_texts.json"),
        agent="miniwob_rci",
        setup="envs.miniwob.setup:install",
    ))
