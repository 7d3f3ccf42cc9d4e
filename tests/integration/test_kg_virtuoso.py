"""The KG task on a real Virtuoso server loaded with the test graph: oracle F1 = 1.0 on every question, wrong answers
F1 0, upstream error texts that do not end the episode, break-out arguments rejected, no server left behind."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import UsageError
from tests.conftest import need_data
from tests.fixtures.kg import TEST_GRAPH

pytestmark = [pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
WRONG = ROOT / "tests" / "fixtures" / "kg" / "wrong_answers.jsonl"
QUESTIONS = json.loads((TEST_GRAPH / "questions.json").read_text())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One Virtuoso for the module, published the way harness.services.ensure does for the env to pick up."""
    need_data("agentbench", "knowledgegraph", "ontology")
    if not shutil.which("virtuoso-t"):
        pytest.skip("virtuoso-opensource is not installed (run `harness setup --tasks kg`)")
    from harness.services.virtuoso import Virtuoso
    mp = pytest.MonkeyPatch()
    mp.setenv("HARNESS_RUNTIME_DIR", str(tmp_path_factory.mktemp("run")))
    mp.delenv("HARNESS_SPARQL_URL", raising=False)
    service = Virtuoso()
    info = service.start()
    mp.setenv("HARNESS_SERVICE_SPARQL", json.dumps(info))
    pid = service.process.proc.pid
    yield info
    service.stop()
    mp.undo()
    assert not _alive(pid), "virtuoso-t still running after stop()"
    assert not Path(info["dir"]).exists()


@pytest.fixture(scope="module")
def env(server):
    from envs.knowledgegraph.env import KnowledgeGraphEnv
    e = KnowledgeGraphEnv(split="test-graph")
    yield e
    e.close()


def _play(env, index, replies):
    env.reset(options={"index": index})
    for reply in replies:
        obs, reward, done, _, info = env.step(reply)
        if done:
            return reward, info
    return None, {}


def test_oracle_scores_f1_one_on_every_question(env):
    assert len(env) == len(QUESTIONS) >= 30
    for i in range(len(env)):
        reward, info = _play(env, i, env.oracle_actions(i))
        assert info.get("status") == "completed", (i, info)
        assert reward == 1.0 and info["metrics"]["em"] == 1.0, (i, info["metrics"])


def test_wrong_answers_score_zero(env):
    lines = [json.loads(line) for line in WRONG.read_text().splitlines()]
    for line in lines:
        reward, info = _play(env, line["index"], line["responses"])
        assert info["status"] == "completed" and reward == 0.0, line["index"]
        assert info["metrics"]["executable"] == 1.0


def test_malformed_calls_keep_the_episode_going(env):
    from harness import load_prompts
    texts = load_prompts("knowledgegraph")["templates"]
    env.reset(options={"index": 0})  # Orion Dynamics
    replies = {
        "Thought: let me think": texts["error_no_action_line"],
        "Action: get_neighbors(Orion Dynamics, spaceflight.rocket_manufacturer.rockets_manufactured)":
            "get_neighbors(Orion Dynamics, spaceflight.rocket_manufacturer.rockets_manufactured) cannot be executed. "
            "You may make a mistake and need to fix it.",
        "Action: lookup(Orion Dynamics)": texts["error_syntax"].format(function_name="lookup"),
        "Final Answer: #0": texts["error_invalid_variable_id"],
        "Action: get_relations(m.tg_orion } UNION { ?s ?p ?o })":
            "get_relations(m.tg_orion } UNION { ?s ?p ?o }) cannot be executed. You may make a mistake and need to fix it.",
        "Action: get_relations(m.tg_orion . } ; DELETE WHERE { ?s ?p ?o } #)":
            "get_relations(m.tg_orion . } ; DELETE WHERE { ?s ?p ?o } #) cannot be executed. You may make a mistake "
            "and need to fix it.",
    }
    for reply, expected in replies.items():
        obs, reward, done, _, info = env.step(reply)
        assert (obs, done) == (expected, False), reply
    # the cut at "Observation:" is what stays in the conversation
    obs, _, done, _, info = env.step("Action: get_relations(Orion Dynamics)\nObservation: [made.up]")
    assert obs == "Observation: [spaceflight.rocket_manufacturer.rockets_manufactured]" and not done
    assert info["messages"][-2] == {"role": "assistant", "content": "Action: get_relations(Orion Dynamics)\n"}
    # the graph is intact after the break-out attempts
    from harness.services.virtuoso import graph_size
    from envs.knowledgegraph.env import TEST_GRAPH_IRI
    assert graph_size(json.loads(os.environ["HARNESS_SERVICE_SPARQL"]), TEST_GRAPH_IRI) == \
        sum(1 for line in (TEST_GRAPH / "graph.ttl").read_text().splitlines() if line.startswith("<"))


def test_round_limit(env):
    env.reset(options={"index": 1})
    for i in range(15):
        obs, reward, done, _, info = env.step("Action: get_relations(Kestrel Labs)")
    assert done and reward == 0.0 and info["status"] == "task_limit_reached"


def test_std_without_endpoint_fails_in_one_line(monkeypatch):
    need_data("agentbench", "knowledgegraph", "std.json")
    for var in ("HARNESS_SPARQL_URL", "HARNESS_FREEBASE_DIR", "HARNESS_SERVICE_FREEBASE"):
        monkeypatch.delenv(var, raising=False)
    from envs.knowledgegraph.env import KnowledgeGraphEnv
    with pytest.raises(UsageError, match="HARNESS_SPARQL_URL") as err:
        KnowledgeGraphEnv(split="std")
    assert "\n" not in str(err.value)


def test_harness_eval_oracle_and_wrong_replay(tmp_path, server):
    """End to end through the CLI. The oracle run starts its own Virtuoso (none is left when it exits); the replay of
    wrong answers reuses the module's server through HARNESS_SERVICE_SPARQL, as env worker processes do."""
    env = dict(os.environ, HARNESS_RUNTIME_DIR=str(tmp_path / "run"))
    env.pop("HARNESS_SPARQL_URL", None)
    env.pop("HARNESS_SERVICE_SPARQL", None)
    for model, score in (("oracle", 100.0), (f"replay:{WRONG}", 0.0)):
        if model != "oracle":
            env["HARNESS_SERVICE_SPARQL"] = json.dumps(server)
        out = tmp_path / "results"
        r = subprocess.run([sys.executable, "-m", "harness.cli", "eval", "--model", model, "--tasks", "kg",
                            "--split", "test-graph", "--output", str(out), "--name", model.split(":")[0]],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        summary = json.loads((out / model.split(":")[0] / "kg" / "summary.json").read_text())
        assert summary["n"] == len(QUESTIONS) and summary["score"] == score, summary
        leftovers = list((tmp_path / "run").glob("virtuoso-*.json")) + list((tmp_path / "run").glob("harness-virtuoso-*"))
        assert not leftovers


def test_server_dies_with_a_killed_harness_and_is_cleaned_up(tmp_path, monkeypatch):
    if not shutil.which("virtuoso-t"):
        pytest.skip("virtuoso-opensource is not installed")
    import signal
    import time
    env = dict(os.environ, HARNESS_RUNTIME_DIR=str(tmp_path / "run"))
    code = ("import json, sys, time\nfrom harness.services.virtuoso import Virtuoso\nv = Virtuoso(use_env_url=False)\n"
            "info = v.start()\nprint(json.dumps({'pid': v.process.proc.pid, 'dir': info['dir']}), flush=True)\n"
            "time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 30
    while _alive(started["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(started["pid"]), "virtuoso-t outlived the killed harness"
    assert Path(started["dir"]).exists()  # the folder stays until the next start cleans up
    from harness.services.virtuoso import Virtuoso
    monkeypatch.setenv("HARNESS_RUNTIME_DIR", str(tmp_path / "run"))
    Virtuoso.cleanup_stale()
    assert not Path(started["dir"]).exists()


def test_std_split_talks_to_the_endpoint_in_harness_sparql_url(server, monkeypatch):
    """The Freebase path: std runs its tools against the endpoint (here our server, which holds no Freebase facts, so
    the first entity has no relations and the gold relation cannot be followed). HARNESS_SPARQL_URL naming a server
    that is not Freebase is refused with one line by the known query, before any episode."""
    need_data("agentbench", "knowledgegraph", "std.json")
    monkeypatch.setenv("HARNESS_SPARQL_URL", server["url"])
    monkeypatch.delenv("HARNESS_SERVICE_FREEBASE", raising=False)
    from envs.knowledgegraph.env import KnowledgeGraphEnv
    with pytest.raises(UsageError, match="does not hold Freebase") as err:
        KnowledgeGraphEnv(split="std")
    assert "\n" not in str(err.value)
    env = KnowledgeGraphEnv(split="std", sparql_url=server["url"])
    env.reset(options={"index": 0})
    obs, _, done, _, _ = env.step("Action: get_relations(first dog)")
    assert (obs, done) == ("Observation: []", False)
    obs, _, done, _, _ = env.step("Action: get_neighbors(first dog, biology.pedigreed_animal.breed)")
    assert obs.endswith("cannot be executed. You may make a mistake and need to fix it.") and not done
    env.close()
