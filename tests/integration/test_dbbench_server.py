"""DBBench against a real MariaDB server (the harness's ephemeral one, or HARNESS_MYSQL_URL): protocol, safety
probes, cleanup and concurrency. Uses the hand-made fixture tables in tests/fixtures/dbbench."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness import status
from tests.helpers import fixture_data
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.integration
mysql = pytest.importorskip("mysql.connector")

from envs.dbbench.database import OUT_OF_SYNC, drop_stale  # noqa: E402
from envs.dbbench.env import DBBenchEnv  # noqa: E402
from tests.integration.db_support import admin_rows  # noqa: E402
from harness.services.mariadb import MariaDB  # noqa: E402

DATA = fixture_data(FIXTURES / "dbbench")


def op(sql: str) -> str:
    return f"I will run it.\nAction: Operation\n```sql\n{sql}\n```"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.environ.get("HARNESS_MYSQL_URL") and not shutil.which("mariadbd", path="/usr/sbin:/usr/bin:" +
                                                                     os.environ.get("PATH", "")):
        pytest.skip("no MariaDB: run `harness setup --tasks db` (apt mariadb-server) or set HARNESS_MYSQL_URL")
    old = os.environ.get("HARNESS_RUNTIME_DIR")
    os.environ["HARNESS_RUNTIME_DIR"] = str(tmp_path_factory.mktemp("run"))
    service = MariaDB()
    info = service.start()
    yield info
    service.stop()
    if old is None:
        os.environ.pop("HARNESS_RUNTIME_DIR", None)
    else:
        os.environ["HARNESS_RUNTIME_DIR"] = old


@pytest.fixture
def env(server):
    e = DBBenchEnv(split="std", data_dir=DATA, mysql=server, statement_seconds=2)
    yield e
    e.close()


# --- protocol ---------------------------------------------------------------------------------------------------
def test_opening_conversation(env):
    obs, info = env.reset(options={"index": 0})
    roles = [m["role"] for m in info["messages"]]
    assert roles == ["user", "assistant", "user"] and info["messages"][1]["content"] == "Ok."
    assert obs == ("Which city has a population of 2148000?\nThe name of this table is Fixture Cities, and the "
                   "headers of this table are City,Country,Population.")


def test_select_episode_observation_and_answer(env):
    env.reset(options={"index": 0})
    obs, reward, done, _, _ = env.step(op("SELECT City, Population\nFROM `Fixture Cities` WHERE Country = 'France'"))
    assert obs == "[('Paris', '2148000'), ('Lyon', '513000')]" and not done and reward == 0
    obs, reward, done, _, info = env.step('Paris it is.\nAction: Answer\nFinal Answer: ["Paris"]')
    assert done and reward == 1.0 and info["status"] == status.COMPLETED
    assert info["metrics"]["type"] == "other" and info["metrics"]["statements"] == 1


def test_wrong_answer_scores_zero(env):
    env.reset(options={"index": 1})
    _, reward, done, _, info = env.step('Action: Answer\nFinal Answer: ["3"]')
    assert done and reward == 0.0 and info["status"] == status.COMPLETED


def test_reply_without_a_pattern_fails(env):
    env.reset(options={"index": 0})
    _, reward, done, _, info = env.step("The answer is Paris.")
    assert done and reward == 0.0 and info["status"] == status.AGENT_VALIDATION_FAILED


def test_operation_without_sql_block_ends_the_episode(env):
    env.reset(options={"index": 0})
    _, reward, done, _, info = env.step("Action: Operation\nSELECT 1;")
    assert done and reward == 0.0 and info["status"] == status.AGENT_VALIDATION_FAILED


def test_errors_and_statements_without_rows(env):
    env.reset(options={"index": 2})
    assert env.step(op("SELECT nope FROM `Fixture Cities`"))[0] == "1054 (42S22): Unknown column 'nope' in 'SELECT'"
    assert env.step(op("selec 1"))[0].startswith("1064 (42000): You have an error in your SQL syntax; check the "
                                                  "manual that corresponds to your MySQL server version")
    assert env.step(op("UPDATE `Fixture Cities` SET Country = 'FR' WHERE Country = 'nowhere'"))[0] == "[]"


def test_values_print_as_upstreams_client_prints_them(env):
    """Compared with mysql-connector-python 8.0.33's C extension (upstream's pin) on the same statements."""
    env.reset(options={"index": 0})
    assert env.step(op("SELECT UNHEX('41'), 1/3, 2.50, NULL, DATE('2020-01-02')"))[0] == \
        "[(bytearray(b'A'), Decimal('0.3333'), Decimal('2.50'), None, datetime.date(2020, 1, 2))]"
    assert env.step(op("SELECT COUNT(*), SUM(Population), AVG(Population) FROM `Fixture Cities`"))[0] == \
        "[(4, 8086000.0, 2021500.0)]"


def test_long_results_are_cut_at_800_characters(env):
    env.reset(options={"index": 7})
    obs = env.step(op("SELECT * FROM `Big Table`"))[0]
    assert len(obs) == 800 + len("[TRUNCATED]") and obs.endswith("[TRUNCATED]")
    assert obs.startswith("[('0', 'name 0', ''), ('1', 'name 1', 'x'),")


def test_row_cap_keeps_the_observation(server):
    small = DBBenchEnv(split="std", data_dir=DATA, mysql=server, max_rows=300)
    try:
        small.reset(options={"index": 7})
        capped = small.step(op("SELECT a.Id, b.Id FROM `Big Table` a, `Big Table` b"))[0]  # 48,400 rows
        full = small.step(op("SELECT a.Id, b.Id FROM `Big Table` a, `Big Table` b LIMIT 300"))[0]
        assert capped == full and capped.endswith("[TRUNCATED]")
        assert small.step(op("SELECT COUNT(*) FROM `Big Table`"))[0] == "[(220,)]"  # the server is still fine
    finally:
        small.close()


def test_several_statements_are_out_of_sync_and_rolled_back(env):
    env.reset(options={"index": 2})
    sql = "INSERT INTO `Fixture Cities` VALUES ('Rome', 'Italy', '1'); SELECT 1"
    assert env.step(op(sql))[0] == OUT_OF_SYNC
    assert env.step(op("SELECT COUNT(*) FROM `Fixture Cities`"))[0] == "[(4,)]"


def test_session_state_does_not_survive_a_statement(env):
    env.reset(options={"index": 0})
    assert env.step(op("SET @x = 5"))[0] == "[]"
    assert env.step(op("SELECT @x"))[0] == "[(None,)]"  # upstream reconnects before every statement


def test_fifteen_statements_then_the_final_reply(env):
    env.reset(options={"index": 1})
    for _ in range(15):
        _, _, done, _, _ = env.step(op("SELECT 1"))
        assert not done
    _, reward, done, _, info = env.step('Action: Answer\nFinal Answer: ["2"]')
    assert done and reward == 1.0 and info["status"] == status.COMPLETED and info["metrics"]["statements"] == 15
    env.reset(options={"index": 1})
    for _ in range(15):
        env.step(op("SELECT 1"))
    _, reward, done, _, info = env.step(op("SELECT 1"))  # a 16th statement is not run
    assert done and reward == 0.0 and info["status"] == status.TASK_LIMIT_REACHED


@pytest.mark.parametrize("index", [2, 3, 7])
def test_oracle_reproduces_the_table_hash(env, index):
    """INSERT, accent-insensitive UPDATE, and a table past group_concat's 1024-byte cap; hashes made in Python."""
    env.reset(options={"index": index})
    reward, info = 0.0, {}
    for action in env.oracle_actions(index):
        _, reward, done, _, info = env.step(action)
    assert done and reward == 1.0, info["metrics"]["answer"]
    assert info["metrics"]["answer"] == env.records[index]["answer_md5"]


def test_modification_is_judged_by_the_table_whatever_the_answer(env):
    env.reset(options={"index": 2})
    env.step(op(env.records[2]["label"][0]))
    _, reward, done, _, info = env.step("I am done.")
    assert done and reward == 1.0 and info["status"] == status.AGENT_VALIDATION_FAILED
    env.reset(options={"index": 2})
    _, reward, _, _, _ = env.step('Action: Answer\nFinal Answer: ["done"]')
    assert reward == 0.0


def test_tables_are_created_as_upstream(env):
    env.reset(options={"index": 6})
    cols = env.step(op("SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
                       "WHERE TABLE_SCHEMA = DATABASE() ORDER BY ORDINAL_POSITION"))[0]
    # upstream escapes column names like values: the identifiers keep the backslashes
    assert cols == str([("Men\\'s team", "text"), ("Women\\\\nteam", "text"), ("Points", "text")])
    assert env.step(op("SELECT SUM(Points) FROM `Team Points`"))[0] == "[(7.5,)]"
    env.reset(options={"index": 4})
    assert env.setup_error.startswith("1060 (42S21): Duplicate column name 'Score'")
    assert env.step(op("SHOW TABLES"))[0] == "[]"
    env.reset(options={"index": 5})
    assert env.setup_error.startswith("1136 (21S01)")
    assert env.step(op("SELECT COUNT(*) FROM `Short Rows`"))[0] == "[(0,)]"


# --- safety probes ------------------------------------------------------------------------------------------------
def test_show_databases_shows_only_its_own(env):
    env.reset(options={"index": 0})
    own = env._db.db
    assert env.step(op("SHOW DATABASES"))[0] == str([(own,), ("information_schema",)])


def test_another_episodes_table_cannot_be_read_or_dropped(server, env):
    other = DBBenchEnv(split="std", data_dir=DATA, mysql=server)
    try:
        other.reset(options={"index": 0})
        env.reset(options={"index": 1})
        obs = env.step(op(f"SELECT * FROM `{other._db.db}`.`Fixture Cities`"))[0]
        assert obs.startswith("1142 (42000): SELECT command denied to user")
        obs = env.step(op(f"DROP DATABASE `{other._db.db}`"))[0]
        assert obs.startswith("1044 (42000): Access denied for user")
        assert env.step(op("DROP DATABASE mysql"))[0].startswith("1044 (42000): Access denied")
        assert other.step(op("SELECT COUNT(*) FROM `Fixture Cities`"))[0] == "[(4,)]"
    finally:
        other.close()


def test_sleep_is_cut_by_the_time_limit(env):
    env.reset(options={"index": 0})
    start = time.monotonic()
    obs = env.step(op("SELECT SLEEP(60)"))[0]
    assert time.monotonic() - start < 10
    assert obs == "1969 (70100): Query execution was interrupted (max_statement_time exceeded)"


def test_watchdog_kills_a_statement_that_lifts_the_limit(server):
    e = DBBenchEnv(split="std", data_dir=DATA, mysql=server, statement_seconds=1, watchdog_grace=1)
    try:
        e.reset(options={"index": 0})
        start = time.monotonic()
        obs = e.step(op("SET STATEMENT max_statement_time=0 FOR SELECT SLEEP(60)"))[0]
        assert time.monotonic() - start < 10 and obs.startswith("2013")
        assert e.step(op("SELECT 1"))[0] == "[(1,)]"
    finally:
        e.close()


def test_files_are_out_of_reach(env):
    env.reset(options={"index": 0})
    assert env.step(op("SELECT LOAD_FILE('/etc/passwd')"))[0] == "[(None,)]"
    obs = env.step(op("SELECT City FROM `Fixture Cities` INTO OUTFILE '/tmp/harness-dbbench-probe.txt'"))[0]
    assert obs.startswith("1227 (42000): Access denied; you need (at least one of) the FILE privilege")
    assert not Path("/tmp/harness-dbbench-probe.txt").exists()


def test_tables_stay_in_the_capped_tablespace(env):
    env.reset(options={"index": 0})
    obs = env.step(op("CREATE TABLE t2 (a INT) ENGINE=MyISAM"))[0]
    assert obs.startswith("1286 (42000)") or obs.startswith("1290 (HY000)"), obs  # engine not allowed


def test_episode_database_and_user_are_dropped(server, env):
    env.reset(options={"index": 0})
    db, user = env._db.db, env._db.user
    assert admin_rows(server, "SELECT COUNT(*) FROM mysql.user WHERE User = %s", (user,)) == [(1,)]
    env.step('Action: Answer\nFinal Answer: ["Paris"]')
    assert admin_rows(server, "SHOW DATABASES LIKE %s", (db,)) == []
    assert admin_rows(server, "SELECT COUNT(*) FROM mysql.user WHERE User = %s", (user,)) == [(0,)]


def test_stale_episode_databases_are_dropped(server):
    e = DBBenchEnv(split="std", data_dir=DATA, mysql={**server, "external": True})
    e.reset(options={"index": 0})
    db, record = e._db.db, e._db._record
    data = record.read_text().replace(f'"owner": {os.getpid()}', '"owner": 999999999')
    record.write_text(data)  # as if the harness that made it had died
    e._db._record = None
    e._db.db = None  # forget it without dropping
    e.close()
    assert drop_stale(server) == 1
    assert admin_rows(server, "SHOW DATABASES LIKE %s", (db,)) == []
    assert not record.exists()


# --- concurrency ----------------------------------------------------------------------------------------------------
def test_sixteen_episodes_at_once(server):
    def episode(k: int) -> float:
        e = DBBenchEnv(split="std", data_dir=DATA, mysql=server)
        try:
            index = (2, 3, 7)[k % 3]
            e.reset(options={"index": index})
            reward = 0.0
            for action in e.oracle_actions(index):
                _, reward, _, _, _ = e.step(action)
            return reward
        finally:
            e.close()

    with ThreadPoolExecutor(16) as pool:
        rewards = list(pool.map(episode, range(16)))
    assert rewards == [1.0] * 16
    leftover = admin_rows(server, "SHOW DATABASES LIKE 'hdb\\_%'")
    assert leftover == []


# --- the service ------------------------------------------------------------------------------------------------
@pytest.mark.skipif(bool(os.environ.get("HARNESS_MYSQL_URL")), reason="an external server is not ours to kill")
def test_server_dies_with_the_harness_and_is_cleaned_up(tmp_path):
    """A harness killed by SIGKILL takes its MariaDB with it; the next start removes the leftover folder."""
    script = textwrap.dedent("""
        import json, sys, time
        from harness.services.mariadb import MariaDB
        info = MariaDB().start()
        print(json.dumps(info), flush=True)
        time.sleep(600)
    """)
    env = dict(os.environ, HARNESS_RUNTIME_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line, "the child did not start MariaDB"
        records = list(tmp_path.glob("mariadb-*.json"))
        assert len(records) == 1
        import json
        rec = json.loads(records[0].read_text())
        server_pid, folder = rec["pid"], Path(rec["paths"][0])
        assert folder.exists()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Path(f"/proc/{server_pid}").exists():
        time.sleep(0.2)
    assert not Path(f"/proc/{server_pid}").exists(), "mariadbd outlived the harness"
    old = os.environ.get("HARNESS_RUNTIME_DIR")
    os.environ["HARNESS_RUNTIME_DIR"] = str(tmp_path)
    try:
        MariaDB.cleanup_stale()
    finally:
        if old is None:
            os.environ.pop("HARNESS_RUNTIME_DIR")
        else:
            os.environ["HARNESS_RUNTIME_DIR"] = old
    assert not folder.exists() and not list(tmp_path.glob("mariadb-*.json"))


def test_bad_url_is_one_clear_line(monkeypatch):
    from harness import UsageError
    monkeypatch.setenv("HARNESS_MYSQL_URL", "postgres://x")
    with pytest.raises(UsageError, match="HARNESS_MYSQL_URL must look like mysql://"):
        MariaDB().start()


@pytest.mark.skipif(os.geteuid() != 0 or bool(os.environ.get("HARNESS_MYSQL_URL")), reason="needs root, own server")
def test_server_starts_as_root_without_a_mysql_user(monkeypatch, tmp_path):
    import harness.services.mariadb as mariadb

    monkeypatch.setenv("HARNESS_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setattr(mariadb, "_drop_privileges", lambda: None)
    service = mariadb.MariaDB()
    info = service.start()
    try:
        assert admin_rows(info, "SELECT @@sql_mode, @@group_concat_max_len, @@collation_server")[0][1] == 1024
    finally:
        service.stop()
