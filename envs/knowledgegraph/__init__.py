"""Knowledge graph (AgentBench KG, held-in): seven tools over SPARQL, answer F1, 15 rounds.

Splits: ``std`` (150) and ``dev`` (20) need Freebase: an endpoint given by ``HARNESS_SPARQL_URL``, or a downloaded
Freebase Virtuoso database folder given by ``HARNESS_FREEBASE_DIR`` (the harness starts Virtuoso on it);
``test-graph`` is the project's own small graph in Freebase's schema (not Freebase; see testgraph/README.md),
answered by a Virtuoso server the harness starts.
"""
from __future__ import annotations

from harness import Generation, TaskSpec, register_task

from .metrics import aggregate


def register() -> None:
    register_task(TaskSpec(
        name="kg",
        category="held_in",
        env="envs.knowledgegraph.env:KnowledgeGraphEnv",
        splits={"std": 150, "dev": 20, "test-graph": 38},
        default_split="std",
        metric="F1",
        description="Knowledge graph QA with get_relations/get_neighbors/intersection/get_attributes/argmax/argmin/"
                    "count over SPARQL (AgentBench.old)",
        aggregate=aggregate,
        generation=Generation(max_new_tokens=128),
        concurrency=8,
        thread_safe=True,
        requires=("SPARQLWrapper",),
        data=("agentbench/knowledgegraph", "agentbench/prompts/knowledgegraph.json"),
        max_turns=15,
        # a user's Freebase endpoint or database folder: another server or database may give other answers
        endpoints=("HARNESS_SPARQL_URL", "HARNESS_FREEBASE_DIR"),
        setup="envs.knowledgegraph.setup:install",
    ))
