"""The KG environment: AgentBench.old's knowledge-graph protocol over a SPARQL endpoint.

Opening conversation: the instruction, the agent's acknowledgement, the rocket-engine one-shot and
``A new question: ...``. Each reply is cut at ``Observation:``; ``Final Answer: #k`` executes variable k and ends the
episode with its F1 against the gold answer set; otherwise the reply's action line runs one tool. 15 rounds.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Sequence

from harness import StepResult, TextEnv, UsageError, load_prompts
from harness import status as S

from .actions import Episode, clean_reply, final_answer
from .metrics import score
from .ontology import load_ontology
from .sparql import ProgramError, SparqlClient, to_sparql
from .tools import Toolbox

TEST_GRAPH_DIR = Path(__file__).parent / "testgraph"
TEST_GRAPH_IRI = "http://harness.local/graph/kg-test-graph"
SPLIT_FILES = {"std": "std.json", "dev": "dev.json"}
_load_lock = threading.Lock()


def test_graph_endpoint() -> dict[str, Any]:
    """The harness-started Virtuoso with the test graph loaded (once per server)."""
    from harness import services
    from harness.services.virtuoso import graph_size, load_turtle
    info = services.ensure("sparql")
    if not info.get("managed"):
        raise UsageError("the kg test-graph split runs on the Virtuoso the harness starts: unset HARNESS_SPARQL_URL "
                         "for this run (that endpoint is for the std and dev splits)")
    with _load_lock:
        if graph_size(info, TEST_GRAPH_IRI) == 0:
            load_turtle(info, [TEST_GRAPH_DIR / "graph.ttl"], TEST_GRAPH_IRI)
    return info


def freebase_url(explicit: str | None = None) -> str:
    """An explicit endpoint, else the ``freebase`` service: HARNESS_SPARQL_URL, or a Virtuoso the harness starts on
    the database folder in HARNESS_FREEBASE_DIR; either answers one known Freebase query first (once per run)."""
    if explicit:
        return explicit
    from harness import services
    try:
        return services.ensure("freebase")["url"]
    except (RuntimeError, OSError) as exc:
        raise UsageError(" ".join(str(exc).split())) from None


class KnowledgeGraphEnv(TextEnv):
    max_rounds = 15

    def __init__(self, split: str, data_dir: str | Path | None = None, sparql_url: str | None = None,
                 **kwargs: Any) -> None:
        self.sparql_url = sparql_url
        super().__init__(split, data_dir=data_dir, **kwargs)

    # --- data -----------------------------------------------------------------------------------------------------
    def _load(self, split: str) -> Sequence[dict[str, Any]]:
        prompts = load_prompts("knowledgegraph", self.data_dir)
        self.texts: dict[str, str] = prompts["templates"]
        self.pieces = prompts["pieces"]
        self.max_rounds = int(prompts["constants"]["round"])
        try:
            self.ontology = load_ontology(self.data_dir)
        except OSError as exc:
            raise UsageError(f"missing KG ontology under {self.data_dir}: set HARNESS_DATA ({exc})") from None
        if split == "test-graph":
            records = json.loads((TEST_GRAPH_DIR / "questions.json").read_text(encoding="utf-8"))
            info = test_graph_endpoint()
            self.client = SparqlClient(info["url"], graph=TEST_GRAPH_IRI)
        elif split in SPLIT_FILES:
            path = self.data_dir / "agentbench" / "knowledgegraph" / SPLIT_FILES[split]
            if not path.exists():
                raise UsageError(f"missing task data {path}: set HARNESS_DATA to the data folder")
            records = json.loads(path.read_text(encoding="utf-8"))
            self.client = SparqlClient(freebase_url(self.sparql_url))
        else:
            raise UsageError(f"kg has no split {split!r}: choose std, dev or test-graph")
        self.episode: Episode | None = None
        return records

    # --- protocol ---------------------------------------------------------------------------------------------------
    def _reset(self, record: dict[str, Any]) -> list[dict[str, str]]:
        self.episode = Episode(Toolbox(self.ontology, self.texts, self.client), dict(record["entities"]), self.texts)
        self.gold = {a["answer_argument"] for a in record["answer"]}
        messages = [{"role": "user", "content": self.pieces["instruction"]},
                    {"role": "assistant", "content": self.pieces["agent_ack"]}]
        for i, shot in enumerate(self.pieces["one_shot"]):
            messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": shot})
        messages.append({"role": "user", "content": self.texts["problem"].format(
            question=record["question"], entity_names=", ".join(record["entities"]))})
        return messages

    def _step(self, action: str) -> StepResult:
        assert self.episode is not None
        message = clean_reply(action)
        k = final_answer(message)
        if k is not None and k < len(self.episode.variables):
            result = self._finish(k)
        elif k is not None:
            result = StepResult(observation=self.texts["error_invalid_variable_id"])
        else:
            result = StepResult(observation=self.episode.act(message))
        if message != action:  # upstream keeps the cut reply in the history
            result.messages = self.messages[:-1] + [{"role": "assistant", "content": message}]
            if not result.done:
                result.messages.append({"role": "user", "content": result.observation})
        return result

    def _finish(self, k: int) -> StepResult:
        variable = self.episode.variables[k]
        try:
            predicted = self.client.select(to_sparql(variable.program))
        except ProgramError:
            predicted = []
        metrics = score(predicted, self.gold)
        metrics.update(answer=sorted(predicted)[:100], program=variable.program, actions=list(self.episode.calls))
        return StepResult(done=True, reward=metrics["f1"], status=S.COMPLETED, metrics=metrics)

    def _evaluate_on_limit(self) -> tuple[float, dict[str, Any]]:
        return 0.0, {"f1": 0.0, "em": 0.0, "executable": 0.0,
                     "actions": list(self.episode.calls) if self.episode else []}

    def oracle_actions(self, index: int) -> list[str]:
        """The record's gold actions, then the final answer on the last variable they make."""
        record = self.records[index]
        replies = [f"Action: {a}" for a in record["actions"]]
        made = sum(1 for a in record["actions"] if a.split("(")[0] not in ("get_relations", "get_attributes"))
        return replies + [f"Final Answer: #{made - 1}"]
