"""DBBench scoring, table statements and registration: pure Python, no server."""
from __future__ import annotations

import hashlib
import json

import pytest

from envs.dbbench import data as D
from envs.dbbench import register
from envs.dbbench.scoring import aggregate, parse_answer, safe_eval, select_correct
from tests.helpers import fixture_data
from tests.conftest import FIXTURES


@pytest.mark.parametrize("text, expected", [
    (' ["a", "b"]', ["a", "b"]),
    (" ['Paris']", ["Paris"]),
    (" [1.5, 2]", [1.5, 2]),
    (" (3, 'x')", [3, "x"]),
    (" [1/4]", [0.25]),          # upstream evals arithmetic
    (" [-2]", [-2]),
    (" 5", [" 5"]),              # list(5) fails upstream: the raw text is the answer
    (" Paris", [" Paris"]),      # a name: upstream's eval raises NameError
    (' "ab"', ["a", "b"]),       # list("ab") splits a bare string into characters, as upstream does
    (" [__import__('os')]", [" [__import__('os')]"]),  # code is never run
    ("", [""]),
])
def test_parse_answer_follows_upstream_eval(text, expected):
    assert parse_answer(text) == expected


def test_safe_eval_refuses_huge_power_and_repetition():
    with pytest.raises(ValueError):
        safe_eval("9 ** 99999999")
    with pytest.raises(ValueError):
        safe_eval("'x' * 10000000000")


@pytest.mark.parametrize("answer, label, ok", [
    (' ["1"]', ["1.0"], True),            # one value each: compared as floats
    (" [1]", ["1.0"], True),
    (' ["2,000"]', ["2000"], False),      # float("2,000") fails: compared as strings
    (' ["Paris"]', ["Paris"], True),
    (' ["paris"]', ["Paris"], False),
    (' ["b", "a"]', ["a", "b"], True),    # several values: compared as sets
    (' ["a", "a", "b"]', ["a", "b"], True),
    (' ["a"]', ["a", "b"], False),
    (" [[1], [2]]", ["1", "2"], False),   # unhashable members: wrong, not a crash
    (" [1e400]", ["1"], False),
    ("", ["x"], False),
])
def test_select_comparison(answer, label, ok):
    assert select_correct(answer, label) is ok


def _rec(typ, reward, rounds=1):
    return {"reward": reward, "status": "completed", "metrics": {"type": typ, "rounds": rounds}}


def test_aggregate_is_mean_of_three_categories():
    recs = ([_rec("counting", 1.0), _rec("other", 0.0)] + [_rec("INSERT", 1.0)] * 3 + [_rec("UPDATE", 0.0)] * 2)
    score, metrics = aggregate(recs)
    assert metrics["SELECT_accuracy"] == 50.0 and metrics["INSERT_accuracy"] == 100.0
    assert metrics["UPDATE_accuracy"] == 0.0 and metrics["counting_accuracy"] == 100.0
    assert score == pytest.approx(50.0)
    assert metrics["SELECT_n"] == 2 and metrics["INSERT_n"] == 3


def test_aggregate_leaves_out_absent_categories():
    score, metrics = aggregate([_rec("ranking", 1.0), _rec("ranking", 0.0)])
    assert score == 50.0 and "INSERT_accuracy" not in metrics


def test_escape_matches_mysql_real_escape_string():
    assert D.escape("Men's team") == "Men\\'s team"
    assert D.escape("a\\nb") == "a\\\\nb"
    assert D.escape('q"\n\r\0\x1a') == 'q\\"\\n\\r\\0\\Z'
    assert D.escape(5) == "5" and D.escape(2.5) == "2.5"


def test_table_statements_type_every_column_text():
    rec = D.load_split(fixture_data(FIXTURES / "dbbench"), "std")[6]
    create = D.create_table_sql(rec)
    assert create == "CREATE TABLE IF NOT EXISTS `Team Points` (`Men\\'s team` TEXT,`Women\\\\nteam` TEXT,`Points` TEXT)"
    insert = D.insert_rows_sql(rec)
    assert insert.endswith("VALUES ('A','B','5'),('C','D','2.5')")
    assert "CONCAT_WS(',', `Men\\'s team`,`Women\\\\nteam`,`Points`)" in D.table_hash_sql(rec)


def test_fixture_hash_helper_matches_the_documented_procedure():
    rows = [["Paris", "France", "2148000"]]
    rowhash = hashlib.md5(b"Paris,France,2148000").hexdigest()[:5]
    from tests.fixtures.dbbench.make_fixture import table_md5
    assert table_md5(rows) == str([(hashlib.md5(rowhash.encode()).hexdigest(),)])


def test_unknown_split_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown DBBench split"):
        D.load_split(fixture_data(FIXTURES / "dbbench"), "test")


def test_register_declares_the_task():
    spec = register()
    assert spec.name == "db" and spec.category == "held_in"
    assert dict(spec.splits) == {"std": 300, "dev": 60} and spec.default_split == "std"
    assert spec.generation.max_new_tokens == 128 and spec.services == ("mysql",)
    assert spec.requires == ("mysql.connector",) and spec.env == "envs.dbbench.env:DBBenchEnv"
    score, _ = spec.aggregate([_rec("INSERT", 1.0), _rec("UPDATE", 1.0), _rec("other", 0.0)])
    assert score == pytest.approx(200 / 3)


def test_oracle_actions_follow_the_issue():
    pytest.importorskip("mysql.connector")
    from envs.dbbench.env import DBBenchEnv

    env = DBBenchEnv.__new__(DBBenchEnv)  # no server needed for the gold replies
    env.records = D.load_split(fixture_data(FIXTURES / "dbbench"), "std")
    assert env.oracle_actions(0) == ['Action: Answer\nFinal Answer: ["Paris"]']
    first, second = env.oracle_actions(2)
    assert first.startswith("Action: Operation\n```sql\nINSERT INTO `Fixture Cities`") and first.endswith("\n```")
    assert json.loads(second.split("Final Answer:")[1]) == [""]


def test_episode_facts_come_from_the_data():
    pytest.importorskip("mysql.connector")
    from envs.dbbench.env import DBBenchEnv

    env = DBBenchEnv.__new__(DBBenchEnv)
    env.records = D.load_split(fixture_data(FIXTURES / "dbbench"), "std")
    facts = [env.episode_facts(i) for i in range(len(env.records))]
    assert facts[0]["category"] == "SELECT" and facts[2] == {"type": "INSERT", "category": "INSERT"}
    assert {f["category"] for f in facts} <= {"SELECT", "INSERT", "UPDATE"}
    assert register().group_by == "category"


def test_aggregate_reads_the_type_from_facts():
    # a scored record whose metrics are empty (the runner cut the episode: context limit) still counts in its group
    cut = {"reward": 0.0, "status": "agent_context_limit", "metrics": {}, "facts": {"type": "INSERT", "category": "INSERT"}}
    ok = {"reward": 1.0, "status": "completed", "metrics": {"type": "INSERT"}, "facts": {"type": "INSERT"}}
    score, metrics = aggregate([ok, ok, ok, cut])
    assert metrics["INSERT_n"] == 4 and score == 75.0
    # facts win over metrics; records written before facts existed fall back to metrics
    score, metrics = aggregate([{"reward": 1.0, "metrics": {"type": "UPDATE"}, "facts": {"type": "counting"}},
                                _rec("UPDATE", 0.0)])
    assert metrics["counting_n"] == 1 and metrics["UPDATE_n"] == 1 and score == 50.0


def test_aggregate_refuses_a_record_without_type():
    with pytest.raises(ValueError, match="no question type"):
        aggregate([_rec("INSERT", 1.0), {"reward": 0.0, "metrics": {}, "facts": {}}])
