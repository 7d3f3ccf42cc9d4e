"""ReWOO (held-out): Planner-Worker-Solver over AgentTuning's sampled rows with local tools, judged by a model.

Two of the paper's seven datasets (hotpot_qa, trivia_qa: HF train splits) are not in the offline data, and the
web tools are replaced by local ones, so the task is registered as a substitute: its category shows as partial.
"""
from harness import Generation, TaskSpec, fact, register_agent, register_task

DATASETS = ("hotpot_qa", "trivia_qa", "gsm8k", "strategy_qa", "physics_question", "sports_understanding", "sotu_qa")


def aggregate(records):
    """Micro average of judged successes over all episodes (AgentTuning's metrics.py), in %, plus per dataset."""
    if not records:
        return 0.0, {"absent_datasets": list(DATASETS)}
    per: dict[str, list[float]] = {}
    for rec in records:
        per.setdefault(fact(rec, "dataset", "?"), []).append(float(rec.get("reward") or 0.0))
    extra = {f"success_{name}": round(100.0 * sum(v) / len(v), 4) for name, v in sorted(per.items())}
    extra["absent_datasets"] = [d for d in DATASETS if d not in per]
    extra["partial"] = bool(extra["absent_datasets"])
    return 100.0 * sum(float(r.get("reward") or 0.0) for r in records) / len(records), extra


def register() -> TaskSpec:
    register_agent("rewoo", "envs.rewoo.agent:ReWOOAgent")
    return register_task(TaskSpec(
        name="rewoo",
        category="held_out",
        env="envs.rewoo.env:ReWOOEnv",
        splits={"test": 250},  # 5 of the paper's 7 x 50 rows are present offline
        default_split="test",
        metric="success rate (judge)",
        description="ReWOO Planner-Worker-Solver, 5 of 7 datasets (hotpot_qa, trivia_qa absent), local tools "
                    "(closed wiki, calculator, SOTU search, LLM worker), LLM judge, micro average",
        aggregate=aggregate,
        mean_score=True,
        generation=Generation(max_new_tokens=256, temperature=0.0),
        concurrency=8,
        requires=("rank_bm25", "sympy"),
        data=("rewoo/agenttuning_rewoo_eval.json", "rewoo/docs/state_of_the_union.txt",
              "rewoo/agenttuning_rewoo_prompt.json"),
        agent="rewoo",
        needs_judge=True,
        substitute=True,
        max_turns=64,
    ))
