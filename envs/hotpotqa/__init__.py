"""HotpotQA (held-out): AgentTuning's ReAct agent over a closed corpus of the questions' own paragraphs."""
from harness import Generation, TaskSpec, register_task


def register() -> TaskSpec:
    from .scoring import aggregate

    return register_task(TaskSpec(
        name="hotpotqa",
        category="held_out",
        env="envs.hotpotqa.env:HotpotQAEnv",
        splits={"test": 300, "easy": 100, "medium": 100, "hard": 100},
        default_split="test",
        metric="F1",
        description="ReAct Search/Lookup/Finish, 2-shot, 10 steps, token F1 averaged per level then over levels "
                    "(closed corpus of the HotpotQA context paragraphs instead of live Wikipedia)",
        aggregate=aggregate,
        group_by="level",
        generation=Generation(max_new_tokens=256, temperature=0.0, stop=("\n",)),
        concurrency=16,
        requires=("rank_bm25",),
        data=("hotpotqa/agenttuning_easy.json", "hotpotqa/agenttuning_medium.json", "hotpotqa/agenttuning_hard.json",
              "hotpotqa/agenttuning_react_prompt.json"),
        max_turns=20,
    ))
