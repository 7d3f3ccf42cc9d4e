"""DBBench on a shared or failing MySQL server (issue 12): two runs against one server do not disturb each other,
clean-up touches only what a dead owner left, and a server killed in the middle of episodes makes those episodes
errors (task_error), never a model's 0."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness import status
from tests.conftest import FIXTURES, ROOT
from tests.helpers import HARNESS, fixture_data

pytestmark = pytest.mark.integration
mysql = pytest.importorskip("mysql.connector")

from envs.dbbench.database import ServerLost, drop_stale  # noqa: E402
from envs.dbbench.env import DBBenchEnv  # noqa: E402
from tests.integration.db_support import admin_rows  # noqa: E402
from harness.services.mariadb import MariaDB  # noqa: E402

DATA = fixture_data(FIXTURES / "dbbench")
ORACLE_REWARDS = {i: 1.0 for i in range(8)}  # the oracle solves every fixture record


def op(sql: str) -> str:
    return f"I will run it.\nAction: Operation\n```sql\n{sql}\n```"


def _need_mariadb() -> None:
    if not shutil.which("mariadbd", path="/usr/sbin:/usr/bin:" + os.environ.get("PATH", "")):
        pytest.skip("no MariaDB: run `harness setup --tasks db` (apt mariadb-server)")


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    path = tmp_path / "run"
    monkeypatch.setenv("HARNESS_RUNTIME_DIR", str(path))
    return path


@pytest.fixture
def server(runtime):
    _need_mariadb()
    service = MariaDB()
    info = service.start()
    yield service, info
    service.stop()


def _child_env(runtime: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_SERVICE_")}
    env.update(HARNESS_DATA=str(DATA), HARNESS_RUNTIME_DIR=str(runtime), PYTHONPATH=str(ROOT), **extra)
    return env


def _records(out: Path) -> list[dict]:
    path = next(out.glob("*/db/episodes.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- two runs, one server -------------------------------------------------------------------------------------------
def test_two_db_evals_against_one_server_both_complete(server, runtime, tmp_path):
    _, info = server
    url = f"mysql://{info['user']}:{info['password']}@{info['host']}:{info['port']}"
    env = _child_env(runtime, HARNESS_MYSQL_URL=url)
    procs = [subprocess.Popen([*HARNESS, "eval", "--model", "oracle", "--tasks", "db", "--output",
                               str(tmp_path / f"run{k}"), "--no-progress"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for k in (1, 2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    for k in (1, 2):
        records = _records(tmp_path / f"run{k}")
        assert {r["index"]: r["reward"] for r in records} == ORACLE_REWARDS, [r["error"] for r in records]
        assert all(r["facts"]["category"] in ("SELECT", "INSERT", "UPDATE") for r in records if "facts" in r)
    assert admin_rows(info, "SHOW DATABASES LIKE 'hdb\\_%'") == []
    assert admin_rows(info, "SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'hu\\_%'") == [(0,)]
    assert not list(runtime.glob("mysql-episode-*.json"))


def test_clean_up_leaves_a_live_owners_databases_alone(server):
    _, info = server
    info = {**info, "external": True}
    live = subprocess.Popen(["sleep", "600"])  # stands for another run on this machine
    e = DBBenchEnv(split="std", data_dir=DATA, mysql=info)
    try:
        e.reset(options={"index": 0})
        db, record = e._db.db, e._db._record
        record.write_text(record.read_text().replace(f'"owner": {os.getpid()}', f'"owner": {live.pid}'))
        assert drop_stale(info) == 0
        assert admin_rows(info, "SHOW DATABASES LIKE %s", (db,)) == [(db,)]
        live.kill()
        live.wait()
        assert drop_stale(info) == 1  # now its owner is dead
        assert admin_rows(info, "SHOW DATABASES LIKE %s", (db,)) == []
    finally:
        if live.poll() is None:
            live.kill()
        e.close()


# --- a server that dies ---------------------------------------------------------------------------------------------
def test_killed_server_makes_the_open_episodes_errors(server):
    service, info = server
    select_env = DBBenchEnv(split="std", data_dir=DATA, mysql=info)
    modify_env = DBBenchEnv(split="std", data_dir=DATA, mysql=info)
    try:
        select_env.reset(options={"index": 1})
        obs, *_ = select_env.step(op("SELECT COUNT(*) FROM `Fixture Cities` WHERE Country = 'France'"))
        assert obs == "[(2,)]"
        modify_env.reset(options={"index": 2})
        modify_env.step(modify_env.oracle_actions(2)[0])
        os.kill(service.process.proc.pid, signal.SIGKILL)
        service.process.proc.wait()
        # a statement: the lost server is not shown to the agent as an observation
        _, reward, done, _, info_ = select_env.step(op("SELECT 1"))
        assert done and info_["status"] == status.TASK_ERROR and "stopped answering" in info_["metrics"]["error"]
        # the verdict of a modification needs the table: no verdict, no 0
        _, reward, done, _, info_ = modify_env.step('Action: Answer\nFinal Answer: [""]')
        assert done and info_["status"] == status.TASK_ERROR
        # a new episode cannot start
        with pytest.raises(ServerLost):
            select_env.reset(options={"index": 0})
    finally:
        select_env.close()
        modify_env.close()


def _server_of(runtime: Path, timeout: float = 120.0) -> tuple[int, dict]:
    """pid and admin login of the ephemeral MariaDB that a child run started (from its owner record)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in runtime.glob("mariadb-*.json"):
            try:
                rec = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            folder = Path(rec["paths"][0])
            cmdline = Path(f"/proc/{rec['pid']}/cmdline").read_bytes().decode().split("\0")
            port = next(int(a.split("=", 1)[1]) for a in cmdline if a.startswith("--port="))
            password = re.search(r"IDENTIFIED BY '([0-9a-f]+)'", (folder / "init.sql").read_text()).group(1)
            return rec["pid"], {"host": "127.0.0.1", "port": port, "user": "harness", "password": password}
        time.sleep(0.1)
    raise AssertionError("the run never started its MariaDB")


@pytest.mark.skipif(bool(os.environ.get("HARNESS_MYSQL_URL")), reason="the run must start its own server")
def test_server_killed_mid_run_records_errors_not_zeros(runtime, tmp_path):
    _need_mariadb()
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"task": "db", "index": i, "responses": [
        op("SELECT SLEEP(8)"), op("SELECT COUNT(*) FROM `Fixture Cities`"), 'Action: Answer\nFinal Answer: ["2"]',
    ]}) + "\n" for i in range(3)))
    proc = subprocess.Popen([*HARNESS, "eval", "--model", f"replay:{replay}", "--tasks", "db", "--limit", "3",
                             "--concurrency", "1", "--output", str(tmp_path / "out"), "--no-progress"],
                            cwd=ROOT, env=_child_env(runtime), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        pid, admin = _server_of(runtime)
        deadline = time.monotonic() + 120
        while True:  # the first episode's SLEEP is running: kill the server under it
            assert time.monotonic() < deadline, "the episode's statement never reached the server"
            try:
                if admin_rows(admin, "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP%'"):
                    break
            except mysql.Error:
                pass
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        out = proc.communicate(timeout=300)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in out, out
    records = _records(tmp_path / "out")
    assert records, out
    # every episode the dead server touched is an error with its message, none an outcome scored 0
    assert [r["status"] for r in records] == [status.TASK_ERROR] * len(records), records
    assert all(r["error"] or r["metrics"].get("error") for r in records)
