"""GSM8K (1,319 test problems): 8-shot CoT as AgentTuning ran it; the prediction is the last number of the reply."""
from typing import Any, Mapping, Sequence

from harness import Generation, TaskSpec, register_task


def aggregate(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    """Accuracy in percent; also the accuracy under AgentTuning's digits-only extraction rule, for comparison."""
    if not records:
        return 0.0, {}
    n = len(records)
    acc = 100.0 * sum(float(r["reward"]) for r in records) / n
    upstream = 100.0 * sum(bool((r.get("metrics") or {}).get("correct_agenttuning_rule")) for r in records) / n
    return acc, {"accuracy_agenttuning_rule": upstream, "n": n}


def register() -> TaskSpec:
    return register_task(TaskSpec(
        name="gsm8k", category="general", env="envs.gsm8k.env:GSM8KEnv",
        splits={"test": 1319, "train": 7473}, default_split="test", metric="accuracy", unit="%",
        aggregate=aggregate, mean_score=True, generation=Generation(max_new_tokens=512, temperature=0.0),
        description="GSM8K grade-school math, 8-shot chain of thought (AgentTuning's exemplars), last number exact match",
        data=("general/gsm8k/test.jsonl", "general/gsm8k/agenttuning_8shot_exemplars.json"), max_turns=1,
    ))
