import asyncio
import json
import threading
import time


from harness import Backend, Completion, register_backend, resolve_tasks
from harness.records import RECORD_KEYS, read_records
from harness.registry import _import_plugin
from harness.runner import RunConfig, run
from tests.helpers import ECHO, ECHO_REPLAY

echo_env = _import_plugin(ECHO)


class _Counting(echo_env.EchoEnv):
    """Echo env that records how many steps run at the same time (to prove episodes overlap)."""

    active = 0
    peak = 0
    lock = threading.Lock()

    def _step(self, action):
        with _Counting.lock:
            _Counting.active += 1
            _Counting.peak = max(_Counting.peak, _Counting.active)
        time.sleep(0.02)
        with _Counting.lock:
            _Counting.active -= 1
        return super()._step(action)


def _spec(name, env, **kw):
    from harness import TaskSpec, register_task

    return register_task(TaskSpec(name=name, category="test", env=env, splits={"test": 300}, default_split="test",
                                  metric="success rate", concurrency=kw.pop("concurrency", 256), **kw), replace=True)


def test_200_concurrent_episodes_from_replay_record_every_field(tmp_path):
    spec = _spec("echo_counting", f"{__name__}:_Counting")
    replay = tmp_path / "r.jsonl"
    replay.write_text("".join(json.dumps({"task": "echo_counting", "index": i,
                                          "responses": json.loads(line)["responses"]}) + "\n"
                              for i, line in enumerate(ECHO_REPLAY.read_text().splitlines())))
    summaries = run(RunConfig(model=f"replay:{replay}", tasks=[spec], limit=200, concurrency=200,
                              output=tmp_path / "out", progress=False))
    records = list(read_records(next((tmp_path / "out").glob("*/echo_counting/episodes.jsonl"))))
    assert len(records) == 200
    assert sorted(r["index"] for r in records) == list(range(200))
    for r in records:
        assert set(RECORD_KEYS) <= set(r), set(RECORD_KEYS) - set(r)
        assert r["messages"][0]["role"] == "user" and r["config_hash"] and r["version"]
        assert set(r["usage"]) >= {"prompt_tokens", "completion_tokens"}
        assert r["metrics"]["n_prompt_messages"] == 3
    assert _Counting.peak >= 50, f"episodes did not overlap (peak {_Counting.peak})"
    assert summaries["echo_counting"]["score"] == 50.0
    statuses = summaries["echo_counting"]["metrics"]["statuses"]
    assert statuses == {"completed": 100, "task_limit_reached": 50, "agent_invalid_action": 50}


def test_oracle_solves_every_episode(tmp_path):
    spec = resolve_tasks("echo")[0]
    s = run(RunConfig(model="oracle", tasks=[spec], limit=40, output=tmp_path, progress=False))
    assert s["echo"]["score"] == 100.0 and s["echo"]["n"] == 40


class _SlowBackend(Backend):
    async def complete(self, request):
        await asyncio.sleep(float(self.target))
        return Completion(text="Answer: nothing")


def test_turn_timeout_becomes_task_error_and_run_goes_on(tmp_path):
    register_backend("slowtest", _SlowBackend)
    spec = resolve_tasks("echo")[0]
    s = run(RunConfig(model="slowtest:5", tasks=[spec], limit=3, output=tmp_path, progress=False, turn_timeout=0.2))
    records = list(read_records(next(tmp_path.glob("*/echo/episodes.jsonl"))))
    assert len(records) == 3
    assert all(r["status"] == "task_error" and "timed out" in r["error"] for r in records)
    assert s["echo"]["n"] == 0 and s["echo"]["n_errors"] == 3 and s["echo"]["ci95"] is None


def test_resume_skips_recorded_episodes_and_new_config_reruns(tmp_path):
    spec = resolve_tasks("echo")[0]
    cfg = dict(model=f"replay:{ECHO_REPLAY}", tasks=[spec], output=tmp_path, progress=False)
    run(RunConfig(limit=10, **cfg))
    run(RunConfig(limit=20, **cfg))
    path = next(tmp_path.glob("*/echo/episodes.jsonl"))
    indices = [r["index"] for r in read_records(path)]
    assert sorted(indices) == list(range(20)) and len(indices) == 20  # 10 + 10 new, none twice
    run(RunConfig(limit=5, generation={"max_new_tokens": 7}, **cfg))  # another configuration: runs again
    assert len(list(read_records(path))) == 25


def test_indices_select_episodes(tmp_path):
    spec = resolve_tasks("echo")[0]
    run(RunConfig(model="oracle", tasks=[spec], indices=[5, 7, 9], output=tmp_path, progress=False))
    path = next(tmp_path.glob("*/echo/episodes.jsonl"))
    assert sorted(r["index"] for r in read_records(path)) == [5, 7, 9]


class StuckEcho(echo_env.EchoEnv):
    """Hangs on the reply 'hang' (to prove a stuck worker process is killed and replaced)."""

    def _step(self, action):
        if action == "hang":
            time.sleep(3600)
        return super()._step(action)


def test_worker_processes_for_envs_that_are_not_thread_safe(tmp_path):
    spec = _spec("echo_proc", "tests.unit.test_runner:StuckEcho", thread_safe=False, concurrency=3)
    replay = tmp_path / "r.jsonl"
    replay.write_text("".join(json.dumps({"task": "echo_proc", "index": i,
                                          "responses": ["hang" if i == 2 else f"Answer: answer-{i}"]}) + "\n"
                              for i in range(12)))
    s = run(RunConfig(model=f"replay:{replay}", tasks=[spec], limit=12, output=tmp_path, progress=False,
                      turn_timeout=8.0))
    records = {r["index"]: r for r in read_records(next(tmp_path.glob("*/echo_proc/episodes.jsonl")))}
    assert len(records) == 12
    assert records[2]["status"] == "task_error" and "timed out" in records[2]["error"]
    assert all(records[i]["reward"] == 1.0 for i in records if i != 2), \
        {i: (r["status"], r["error"]) for i, r in records.items() if r["reward"] != 1.0}
    # the stuck episode is an error: never scored, counted apart, and the task is incomplete
    assert s["echo_proc"]["score"] == 100.0 and s["echo_proc"]["n"] == 11 and s["echo_proc"]["n_errors"] == 1
    assert s["echo_proc"]["complete"] is False


class _TooLong(Backend):
    async def complete(self, request):
        from harness import ContextLimitError

        raise ContextLimitError("prompt of 5000 tokens exceeds the context")


def test_context_overflow_becomes_agent_context_limit(tmp_path):
    register_backend("toolongtest", _TooLong)
    spec = resolve_tasks("echo")[0]
    run(RunConfig(model="toolongtest:x", tasks=[spec], limit=2, output=tmp_path, progress=False))
    records = list(read_records(next(tmp_path.glob("*/echo/episodes.jsonl"))))
    assert [r["status"] for r in records] == ["agent_context_limit"] * 2
    assert records[0]["messages"][-1]["content"].startswith("Guess the word")  # the conversation so far is kept


def test_env_workers_die_with_a_killed_runner(tmp_path):
    """A runner killed by SIGKILL while a worker process is stuck in a step leaves no worker behind."""
    import os
    import signal
    import subprocess
    import sys

    script = tmp_path / "run.py"
    replay = tmp_path / "r.jsonl"
    replay.write_text(json.dumps({"task": "echo_proc2", "index": 0, "responses": ["hang"]}) + "\n")
    script.write_text(
        "from pathlib import Path\n"
        "from harness.runner import RunConfig, run\n"
        "from tests.unit.test_runner import _spec\n"
        "if __name__ == '__main__':  # the env worker is spawned: it re-imports this file\n"
        "    spec = _spec('echo_proc2', 'tests.unit.test_runner:StuckEcho', thread_safe=False, concurrency=2)\n"
        f"    run(RunConfig(model='replay:{replay}', tasks=[spec], limit=1, output=Path({str(tmp_path)!r}),"
        " progress=False))\n")
    from tests.helpers import ROOT

    proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    deadline = time.monotonic() + 60
    children: list[int] = []
    while time.monotonic() < deadline and len(children) < 2:  # the resource tracker and the env worker
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        children = [int(p) for p in out]
        time.sleep(0.2)
    time.sleep(2)  # the worker is now inside the hanging step
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    alive = children
    while alive and time.monotonic() < deadline:
        alive = [p for p in children if subprocess.run(["kill", "-0", str(p)], capture_output=True).returncode == 0
                 and "multiprocessing" in open(f"/proc/{p}/cmdline").read()]
        time.sleep(0.2)
    assert children and not alive, (children, alive)
