"""The env without a server: registration, the opening conversation (upstream's, turn by turn), the oracle replies,
and the one-line failure of std/dev without an endpoint."""
from __future__ import annotations

import pytest

from harness import UsageError, get_task, load_prompts
from tests.conftest import need_data


def test_registration():
    spec = get_task("kg")
    assert spec.category == "held_in" and spec.metric == "F1" and spec.default_split == "std"
    assert dict(spec.splits) == {"std": 150, "dev": 20, "test-graph": 38}
    assert spec.max_turns == 15 and spec.setup == "envs.knowledgegraph.setup:install"


@pytest.fixture
def std_env(monkeypatch):
    need_data("agentbench", "knowledgegraph", "std.json")
    from envs.knowledgegraph.env import KnowledgeGraphEnv
    return KnowledgeGraphEnv(split="std", sparql_url="http://127.0.0.1:9/sparql")  # never contacted by these tests


def test_opening_conversation_is_upstreams(std_env):
    assert len(std_env) == 150 and std_env.max_rounds == 15
    obs, info = std_env.reset(options={"index": 0})
    prompts = load_prompts("knowledgegraph")
    fixed = [{"role": "user" if m["role"] == "user" else "assistant", "content": m["content"]}
             for m in prompts["conversation"]]
    assert info["messages"][:-1] == fixed and len(fixed) == 18
    assert obs == ("A new question: what is the attitude of the first dog and the german shepherds?\n"
                   "Entities: [first dog, german shepherds]")
    assert info["messages"][-1] == {"role": "user", "content": obs}


def test_oracle_replies(std_env):
    replies = std_env.oracle_actions(0)
    assert replies[0] == "Action: get_relations(m.05t073s)"
    assert replies[-1] == "Final Answer: #3" and len(replies) == 8


def test_std_and_dev_need_an_endpoint(monkeypatch):
    need_data("agentbench", "knowledgegraph", "dev.json")
    for var in ("HARNESS_SPARQL_URL", "HARNESS_FREEBASE_DIR", "HARNESS_SERVICE_FREEBASE"):
        monkeypatch.delenv(var, raising=False)
    from envs.knowledgegraph.env import KnowledgeGraphEnv
    for split in ("std", "dev"):
        with pytest.raises(UsageError, match="HARNESS_FREEBASE_DIR .*HARNESS_SPARQL_URL") as err:
            KnowledgeGraphEnv(split=split)
        assert "\n" not in str(err.value)
    with pytest.raises(UsageError, match="no split"):
        KnowledgeGraphEnv(split="train")


def test_test_graph_refuses_a_foreign_endpoint(monkeypatch):
    """test-graph loads its Turtle into the server the harness starts; it never writes to a user's endpoint."""
    need_data("agentbench", "knowledgegraph", "ontology")
    import json
    from harness.services.virtuoso import Virtuoso
    monkeypatch.setenv("HARNESS_SPARQL_URL", "http://127.0.0.1:9/sparql")
    info = Virtuoso().start()  # with the URL set, nothing is started
    assert info == {"url": "http://127.0.0.1:9/sparql", "managed": False}
    monkeypatch.setenv("HARNESS_SERVICE_SPARQL", json.dumps(info))  # as harness.services.ensure publishes it
    from envs.knowledgegraph.env import KnowledgeGraphEnv
    with pytest.raises(UsageError, match="unset HARNESS_SPARQL_URL"):
        KnowledgeGraphEnv(split="test-graph")
