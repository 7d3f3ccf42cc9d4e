"""WebArena (held-out): the 812 tasks with AgentTuning's agent protocol in real Chromium against the user's own
WebArena sites (URLs in SHOPPING, SHOPPING_ADMIN, REDDIT, GITLAB, MAP, WIKIPEDIA, HOMEPAGE), and
``webarena_standin``: the same env on small stand-in sites served on loopback (never reported as WebArena).
"""
from __future__ import annotations

from harness import Generation, TaskSpec, register_agent, register_task

from .sites import VARIABLES

REQUIRES = ("playwright", "tiktoken")
DATA = ("webarena/test.raw.json", "webarena/agenttuning_prompt.json")
#: what upstream's TGI calls sent (run.py defaults; eval-tgi.sh changes none): sampling at temperature 1.0, top-p 0.9,
#: up to 384 new tokens
GENERATION = Generation(max_new_tokens=384, temperature=1.0, top_p=0.9)


def register() -> None:
    register_agent("webarena", "envs.webarena.agent:WebArenaAgent")
    register_task(TaskSpec(
        name="webarena",
        category="held_out",
        env="envs.webarena.env:WebArenaEnv",
        splits={"test": 812},
        default_split="test",
        metric="success rate",
        description="WebArena's 812 tasks, CoT id/accessibility-tree prompt, 30 steps, in Chromium against your "
                    "self-hosted sites (set " + ", ".join(VARIABLES) + ")",
        decimals=2,
        endpoints=VARIABLES,
        generation=GENERATION,
        # upstream ran the tasks one after another against one set of sites; many tasks change the sites' state and
        # several read it back (the latest order, the newest post), so episodes on shared sites never overlap
        concurrency=1,
        requires=REQUIRES,
        resources={"browser": 1},  # on a Ray cluster: nodes that advertise browser (Chromium installed)
        data=DATA,
        agent="webarena",
        needs_judge=True,
        max_turns=30,
        nondeterministic=True,  # Chromium's accessibility node ids (the element ids) vary between page loads
        setup="envs.webarena.setup:install",
    ))
    register_task(TaskSpec(
        name="webarena_standin",
        category="other",
        env="envs.webarena.env:WebArenaEnv",
        splits={"standin": 16},
        default_split="standin",
        metric="success rate",
        description="WebArena's protocol and evaluators on small stand-in sites served on loopback (a shop, its admin, "
                    "a forum, a code-hosting site); proves an installation, never a WebArena result",
        decimals=2,
        offtable_splits=("standin",),
        generation=GENERATION,
        concurrency=8,
        requires=REQUIRES,
        resources={"browser": 1},  # on a Ray cluster: nodes that advertise browser (Chromium installed)
        data=("webarena/agenttuning_prompt.json",),
        agent="webarena",
        needs_judge=True,
        env_kwargs={"standin": True, "sleep_after_execution": 0.0, "eval_settle": 0.0},
        max_turns=30,
        nondeterministic=True,  # Chromium's accessibility node ids (the element ids) vary between page loads
        setup="envs.webarena.setup:install",
    ))
