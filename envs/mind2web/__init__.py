"""Mind2Web (held-in): AgentBench.old's step-level multiple choice over the candidate ranker's top-10 elements.

The official test data and ranker scores are not redistributable: users place them under ``HARNESS_DATA/mind2web/``
(see README.md). The ``fixture`` split (the project's own samples in Mind2Web's format) never enters the paper table.
"""
from harness import Generation, TaskSpec, register_task


def register() -> TaskSpec:
    from .scoring import aggregate

    return register_task(TaskSpec(
        name="mind2web",
        category="held_in",
        env="envs.mind2web.env:Mind2WebEnv",
        # steps; std/dev as the AgentBench paper counts them, test_* as the Mind2Web paper does (the env counts files)
        splits={"std": 177, "dev": 31, "test_task": 2094, "test_website": 1373, "test_domain": 5911, "fixture": 8},
        default_split="std",
        metric="step success rate",
        description="AgentBench.old Mind2Web: multiple choice among the ranker's top-10 candidates, 5 per call, "
                    "3-shot CoT prompt; step SR, element accuracy, action F1, task SR",
        aggregate=aggregate,
        generation=Generation(max_new_tokens=128),
        concurrency=16,
        export_min_reward=2 / 3,
        offtable_splits=("fixture",),
        requires=("lxml", "ijson"),
        data=("agentbench/mind2web/llm_prompt_cot.json", "agentbench/prompts/mind2web.json",
              "mind2web/scores_all_data.pkl"),
        max_turns=3,  # model calls per step: at most 3 for a pool of 10
    ))
