"""Preflight of the services the OS, HumanEval and DB envs need (issue 12), on the real failures: a Docker engine that
does not answer, an image that does not exist, a MySQL URL at a closed port. Each stops `harness eval` before any
episode with exit status 2, one line saying what failed and how to mend it, no traceback and nothing written."""
from __future__ import annotations

import os
import subprocess

import pytest

from harness.services import free_port
from tests.conftest import FIXTURES, ROOT
from tests.helpers import HARNESS, fixture_data

pytestmark = pytest.mark.integration

DATA = {"os": FIXTURES / "os", "humaneval": fixture_data(FIXTURES / "general" / "data"),
        "db": fixture_data(FIXTURES / "dbbench")}


def _eval(task: str, tmp_path, **env_vars: str) -> tuple[subprocess.CompletedProcess, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_SERVICE_")}
    env.update(HARNESS_DATA=str(DATA[task]), HARNESS_RUNTIME_DIR=str(tmp_path / "run"), PYTHONPATH=str(ROOT),
               **env_vars)
    out = tmp_path / "out"
    r = subprocess.run([*HARNESS, "eval", "--model", "oracle", "--tasks", task, "--limit", "1", "--output", str(out),
                        "--no-progress"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    assert len(lines) == 1 and lines[0].startswith("harness: error: "), r.stderr
    assert not list(out.rglob("episodes.jsonl")), "nothing is recorded"
    return r, lines[0]


def _docker_answers() -> None:
    docker = pytest.importorskip("docker")
    try:
        docker.DockerClient(base_url=os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock").ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no Docker engine answers ({exc}); run `harness setup --tasks os`")


@pytest.mark.parametrize("task", ["os", "humaneval"])
def test_a_docker_host_where_no_engine_listens(task, tmp_path):
    pytest.importorskip("docker")
    sock = tmp_path / "nothing.sock"  # no engine listens there
    _, line = _eval(task, tmp_path, DOCKER_HOST=f"unix://{sock}")
    assert f"DOCKER_HOST=unix://{sock}" in line and "start that engine" in line


@pytest.mark.parametrize("task, var", [("os", "HARNESS_OS_IMAGE"), ("humaneval", "HARNESS_HUMANEVAL_IMAGE")])
def test_an_image_that_does_not_exist(task, var, tmp_path):
    _docker_answers()
    _, line = _eval(task, tmp_path, **{var: "harness/no-such-image:never-built"})
    assert "harness/no-such-image:never-built does not exist" in line
    assert f"run `harness setup --tasks {task}`" in line


def test_a_mysql_url_at_a_closed_port(tmp_path):
    pytest.importorskip("mysql.connector")
    port = free_port()  # nothing listens: the port was free a moment ago
    _, line = _eval("db", tmp_path, HARNESS_MYSQL_URL=f"mysql://agent:secret@127.0.0.1:{port}")
    assert f"HARNESS_MYSQL_URL=mysql://agent:***@127.0.0.1:{port} does not answer" in line
    assert "secret" not in line and "unset HARNESS_MYSQL_URL" in line
