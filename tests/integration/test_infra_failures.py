"""Infrastructure failures are never a model's zero (issue 12), on a real OpenAI-compatible server process that
stops in the middle of a run and comes back."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from harness.records import read_records
from harness.services import free_port, wait_for_port
from tests.helpers import ECHO, FIXTURES, HARNESS, ROOT, harness_env

pytestmark = pytest.mark.integration


def _server(port, log):
    proc = subprocess.Popen([sys.executable, str(FIXTURES / "openai_server.py"), str(port), str(log)])
    wait_for_port(port, proc=proc)
    return proc


def test_a_model_server_that_dies_mid_run_gives_errors_exit_3_then_the_same_command_completes(tmp_path):
    port = free_port()
    out = tmp_path / "out"
    server = _server(port, tmp_path / "log.jsonl")
    env = harness_env(HARNESS_PLUGINS=ECHO, ECHO_SIZE="40", ECHO_DELAY="0.1")
    cmd = [*HARNESS, "eval", "--model", f"openai:m@http://127.0.0.1:{port}/v1?retries=0&timeout=3", "--tasks",
           "echo", "--output", str(out), "--name", "srv", "--concurrency", "2", "--no-progress", "--max-errors", "0"]
    run = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    episodes = out / "srv" / "echo" / "episodes.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not episodes.exists() or len(episodes.read_text().splitlines()) < 6):
        time.sleep(0.1)
    server.terminate()
    server.wait(10)
    _, err = run.communicate(timeout=300)
    assert run.returncode == 3, err
    assert "ended with an error" in err and "ConnectError" in err
    first = list(read_records(episodes))
    outcomes = [r for r in first if r["status"] != "task_error"]
    errors = [r for r in first if r["status"] == "task_error"]
    assert len(first) == 40 and outcomes and errors
    summary = json.loads((episodes.parent / "summary.json").read_text())
    assert summary["n"] == len(outcomes) and summary["n_errors"] == len(errors) and summary["complete"] is False
    assert summary["score"] == 0.0 and summary["metrics"]["statuses"]["task_error"] == len(errors)

    server = _server(port, tmp_path / "log.jsonl")  # the cause is fixed: the same command finishes the task
    try:
        again = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    finally:
        server.terminate()
        server.wait(10)
    assert again.returncode == 0, again.stderr
    records = list(read_records(episodes))
    assert len(records) == 40 + len(errors)
    retried = records[40:]
    assert sorted(r["index"] for r in retried) == sorted(r["index"] for r in errors)
    assert all(r["status"] == "task_limit_reached" for r in retried)
    summary = json.loads((episodes.parent / "summary.json").read_text())
    assert summary["n"] == 40 and summary["n_errors"] == 0 and summary["complete"] is True
