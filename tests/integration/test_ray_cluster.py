"""Runs on a real two-node Ray cluster started on this machine (see ray_support.py): the same records and scores as a
local run, placement by resources, a node killed in the middle of a run, and a driver killed with SIGKILL."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from harness import get_task, register_task
from harness.records import read_records
from harness.runner import RunConfig, run_result
from harness.services import owner_alive
from tests.conftest import need_data
from tests.helpers import FIXTURES, HARNESS, ROOT, harness_env
from tests.integration.ray_support import node_id

pytestmark = pytest.mark.integration


def _records(out: Path, task: str) -> list[dict]:
    paths = list(out.glob(f"*/{task}/episodes.jsonl"))
    return list(read_records(paths[0])) if paths else []


def _run(out: Path, model: str, spec, limit: int, ray: str | None = None, **kw):
    cfg = RunConfig(model=model, tasks=[spec], limit=limit, task_concurrency=kw.pop("task_concurrency", 3),
                    output=out, progress=False, ray=ray, **kw)
    return run_result(cfg)


def _outcome(records: list[dict]) -> dict[int, tuple]:
    return {r["index"]: (r["status"], r["reward"], r["turns"], r["config_hash"]) for r in records}


def _gsm8k_replay(path: Path, n: int) -> Path:
    from envs.gsm8k.answer import gold
    from envs.gsm8k.env import GSM8KEnv

    env = GSM8KEnv(split="test")
    lines = [{"task": "gsm8k", "index": i, "responses": [f"The answer is {gold(r['answer']) + (i % 2)}"]}
             for i, r in enumerate(env.records[:n])]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_db_oracle_and_gsm8k_replay_match_a_local_run(cluster, tmp_path):
    need_data("agentbench", "dbbench", "standard.jsonl")
    need_data("general", "gsm8k", "test.jsonl")
    replay = _gsm8k_replay(tmp_path / "gsm8k.jsonl", 8)
    for model, task, n in (("oracle", "db", 9), (f"replay:{replay}", "gsm8k", 8)):
        spec = get_task(task)
        local = _run(tmp_path / "local", model, spec, n)
        remote = _run(tmp_path / "ray", model, spec, n, ray=cluster.address)
        assert local.n_errors == remote.n_errors == 0
        a, b = _records(tmp_path / "local", task), _records(tmp_path / "ray", task)
        assert _outcome(a) == _outcome(b) and len(b) == n
        assert all("node" not in r for r in a)
        assert {r["node"] for r in b} <= {node_id(cluster.head_node), node_id(cluster.node_b)}
        sa, sb = local.summaries[task], remote.summaries[task]
        for key in ("score", "n", "n_errors", "ci95", "config_hash", "complete"):
            assert sa[key] == sb[key], key
        assert sa["metrics"] == sb["metrics"]
    assert {r["node"] for r in _records(tmp_path / "ray", "db")} == {node_id(cluster.head_node),
                                                                         node_id(cluster.node_b)}
    # resume is the same on both sides: a cluster run continues the local run's records (same configuration hash)
    more = _run(tmp_path / "local", "oracle", get_task("db"), 12, ray=cluster.address)
    records = _records(tmp_path / "local", "db")
    assert len(records) == 12 and [r.get("node") is not None for r in records] == [False] * 9 + [True] * 3
    assert more.summaries["db"]["n"] == 12


def test_os_episodes_run_only_where_docker_is_advertised(cluster, tmp_path):
    from tests.integration.os_support import need_image

    need_data("agentbench", "os_interaction")
    need_image()
    result = _run(tmp_path, "oracle", get_task("os"), 4, ray=cluster.address)
    records = _records(tmp_path, "os")
    # (an error here is tolerated: on a Docker engine shared with other test runs, another harness's cleanup may
    # remove a warm container; where episodes ran is what this test is about)
    assert len(records) == 4 and result.summaries["os"]["n"] + result.n_errors == 4
    assert {r["node"] for r in records} == {node_id(cluster.node_b)}


def test_a_task_no_node_can_host_stops_with_one_line(cluster, tmp_path):
    spec = replace(get_task("gsm8k"), name="gsm8k_gpu", resources={"tpu": 1})
    register_task(spec, replace=True)
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="tpu=1 per env and no node of the Ray cluster advertises"):
        _run(tmp_path, "oracle", spec, 1, ray=cluster.address)
    assert not list(tmp_path.glob("*/*/episodes.jsonl"))


def test_a_node_killed_mid_run_loses_no_episode(cluster, tmp_path, monkeypatch):
    from harness.registry import discover

    monkeypatch.setenv("HARNESS_PLUGINS", str(FIXTURES / "ray_bench_envs.py"))  # reaches the actors too
    discover(force=True)
    spec = get_task("ray_slots")
    victim = cluster.add_node(num_cpus=1, object_store_memory=80 << 20, resources={"slot": 2})
    cluster.wait_for_nodes()
    out, n = tmp_path / "killed", 40
    killed = threading.Event()

    def kill_when_under_way():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            recs = _records(out, "ray_slots")
            if len(recs) >= 6 and any(r.get("node") == node_id(victim) for r in recs):
                _kill_node(cluster, victim)
                killed.set()
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_under_way, daemon=True)
    killer.start()
    result = _run(out, "oracle", spec, n, ray=cluster.address)
    killer.join()
    assert killed.is_set()
    records = _records(out, "ray_slots")
    outcomes = [r for r in records if r["status"] != "task_error"]
    errors = [r for r in records if r["status"] == "task_error"]
    assert sorted(r["index"] for r in outcomes) == list(range(n))  # every episode recorded once as an outcome
    assert errors and all("env actor lost" in r["error"] for r in errors)
    assert {r.get("node", node_id(victim)) for r in errors} == {node_id(victim)}  # no node: lost while starting
    assert {r["node"] for r in outcomes if r["index"] in {e["index"] for e in errors}} == {node_id(cluster.node_b)}
    assert result.n_errors == 0  # retried in the same run: nothing left to retry
    s = result.summaries["ray_slots"]
    assert s["n"] == n and s["n_errors"] == 0 and s["score"] == 100.0


def _kill_node(cluster, node) -> None:
    """The node dies as a machine does: its worker processes (the env actors) with its raylet, all at once (a raylet
    killed alone leaves its workers answering direct actor calls for a while)."""
    import psutil

    procs = []
    for name, infos in node.all_processes.items():
        for info in infos:
            try:
                p = psutil.Process(info.process.pid)
                procs += [p, *p.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    cluster.remove_node(node, allow_graceful=False)


def _alive_harness_actors(address: str, driver: int) -> list[dict]:
    """Named actors alive in the namespace of the harness run whose driver had process id ``driver``."""
    import ray

    ray.init(address=address, namespace="harness-test-probe", log_to_driver=False)
    try:
        return [a for a in ray.util.list_named_actors(all_namespaces=True)
                if str(a.get("namespace", "")).startswith("harness-") and f"-{driver}-" in a["namespace"]]
    finally:
        ray.shutdown()


def _env_actor_pids(address: str, actors: list[dict]) -> list[int]:
    import ray

    ray.init(address=address, namespace="harness-test-probe", log_to_driver=False)
    try:
        pids = []
        for a in actors:
            if a["name"].startswith("env-os-"):
                try:
                    actor = ray.get_actor(a["name"], namespace=a["namespace"])
                    pids.append(ray.get(actor.where.remote(), timeout=30)["pid"])
                except Exception:  # noqa: BLE001 - the actor ended meanwhile
                    pass
        return pids
    finally:
        ray.shutdown()


def test_sigkill_of_the_driver_leaves_no_actor_container_or_database(cluster, tmp_path):
    need_data("agentbench", "dbbench", "standard.jsonl")
    tasks = "db"
    try:
        from tests.integration.os_support import need_image

        need_data("agentbench", "os_interaction")
        need_image()
        tasks = "db,os"
    except pytest.skip.Exception:
        pass
    args = ["eval", "--model", "oracle", "--tasks", tasks, "--limit", "6", "--task-concurrency", "2",
            "--no-progress", "--ray", cluster.address, "--output", str(tmp_path)]
    env = harness_env(HARNESS_RUNTIME_DIR=str(cluster.runtime))
    before = {p.name for p in cluster.runtime.glob("mariadb-*.json")}  # e.g. the local runs' own server
    proc = subprocess.Popen([*HARNESS, *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (len(_records(tmp_path, "db")) >= 3 and
                                              (tasks == "db" or _records(tmp_path, "os"))):
        time.sleep(0.1)
    actors = _alive_harness_actors(cluster.address, proc.pid)
    assert actors, "the run's actors should be up"
    env_pids = _env_actor_pids(cluster.address, actors)  # the owners of the run's containers
    killed_run = [p for p in cluster.runtime.glob("mariadb-*.json") if p.name not in before]
    databases = [json.loads(p.read_text()) for p in killed_run]
    assert databases
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # Ray ends a dead driver's actors (and with them the database servers they started)
    deadline = time.monotonic() + 60
    while _alive_harness_actors(cluster.address, proc.pid) and time.monotonic() < deadline:
        time.sleep(1)
    assert not _alive_harness_actors(cluster.address, proc.pid)
    deadline = time.monotonic() + 30
    while any(owner_alive(d["pid"]) for d in databases) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(owner_alive(d["pid"]) for d in databases)
    # the next start cleans what the killed run left (database folders, containers) and finishes the run
    r = subprocess.run([*HARNESS, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:] + "".join(str(x.get("error"))[:300] for t in tasks.split(",")
                                                         for x in _records(tmp_path, t) if x["status"] == "task_error")
    assert not any(Path(p).exists() for d in databases for p in d["paths"])
    assert not any(p.exists() for p in killed_run)
    if "os" in tasks:
        from envs.os_interaction.containers import KIND, LABEL_KIND, client

        assert env_pids
        left = client().containers.list(all=True, filters={"label": f"{LABEL_KIND}={KIND}"})
        assert not [c for c in left if c.labels.get("harness.owner") in {str(p) for p in env_pids}]
    for task in tasks.split(","):
        outcomes = {r["index"] for r in _records(tmp_path, task) if r["status"] != "task_error"}
        assert outcomes == set(range(6))


def test_sigterm_on_the_driver_stops_every_actor_and_service(cluster, tmp_path):
    need_data("agentbench", "dbbench", "standard.jsonl")
    args = ["eval", "--model", "oracle", "--tasks", "db", "--limit", "60", "--task-concurrency", "2", "--no-progress",
            "--ray", cluster.address, "--output", str(tmp_path)]
    before = {p.name for p in cluster.runtime.glob("mariadb-*.json")}
    proc = subprocess.Popen([*HARNESS, *args], env=harness_env(HARNESS_RUNTIME_DIR=str(cluster.runtime)), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while len(_records(tmp_path, "db")) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    databases = [json.loads(p.read_text()) for p in cluster.runtime.glob("mariadb-*.json") if p.name not in before]
    assert databases
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "resume" in err, err[-3000:]
    assert not _alive_harness_actors(cluster.address, proc.pid)  # stopped by the driver itself, before it exited
    assert not any(owner_alive(d["pid"]) for d in databases)
    assert not any(Path(p).exists() for d in databases for p in d["paths"])
    n = len(_records(tmp_path, "db"))
    assert 2 <= n < 60 and len({r["index"] for r in _records(tmp_path, "db")}) == n
