import json

import pytest

from harness import paper
from harness.records import RecordWriter, read_records, records_by_config
from harness.scoring import overall
from tests.helpers import FIXTURES, harness_env, run_harness


def test_torn_last_line_is_skipped_and_repaired(tmp_path):
    path = tmp_path / "e.jsonl"
    with RecordWriter(path) as w:
        w.write({"index": 0, "split": "s", "config_hash": "h", "reward": 1})
    with open(path, "a") as f:
        f.write('{"index": 1, "split": "s", "conf')  # a crash in the middle of a write
    assert [r["index"] for r in read_records(path)] == [0]
    with RecordWriter(path) as w:
        w.write({"index": 2, "split": "s", "config_hash": "h", "reward": 0})
    assert [r["index"] for r in read_records(path)] == [0, 2]


def test_records_are_grouped_by_configuration_and_an_outcome_beats_an_error(tmp_path):
    path = tmp_path / "e.jsonl"
    with RecordWriter(path) as w:
        w.write({"index": 0, "split": "s", "config_hash": "old", "reward": 1, "status": "completed"})
        w.write({"index": 0, "split": "s", "config_hash": "new", "reward": 0, "status": "task_error"})
        w.write({"index": 0, "split": "s", "config_hash": "new", "reward": 1, "status": "completed"})
        w.write({"index": 1, "split": "s", "config_hash": "new", "reward": 1, "status": "completed"})
        w.write({"index": 1, "split": "s", "config_hash": "new", "reward": 0, "status": "task_error"})
    groups = records_by_config(path)
    assert list(groups) == ["old", "new"]
    assert [(r["index"], r["reward"]) for r in groups["old"]] == [(0, 1)]
    assert [(r["index"], r["status"]) for r in groups["new"]] == [(0, "completed"), (1, "completed")]


def test_weights_are_the_unrounded_baseline_means():
    assert paper.weight("alfworld") == pytest.approx(20.40)
    assert paper.weight("mt_bench") == pytest.approx(7.338)
    assert paper.weight("webarena") == pytest.approx(2.76)
    assert paper.weight("mmlu") == pytest.approx(64.16)


def test_partial_and_missing_categories():
    result, partial = overall({"os": 19.14, "mmlu": 64.16})
    assert result["held_in"] == pytest.approx(1.0) and result["general"] == pytest.approx(1.0)
    assert result["held_out"] is None
    assert partial == ["held_in", "general"]
    _, partial = overall({t: 1.0 for t in paper.CATEGORY_TASKS["general"]}, substituted=["mmlu"])
    assert partial == ["general"]


def _write_rows(root, per_task_episodes=20):
    """Records whose mean reward equals each paper row exactly (scores of k/ (100*n) granularity)."""
    for i, model in enumerate(paper.MODELS):
        for task, scores in paper.TABLE4.items():
            score = scores[i]
            target = score / (10 if task == "mt_bench" else 100)
            d = root / model / task
            d.mkdir(parents=True)
            with open(d / "episodes.jsonl", "w") as f:
                for k in range(per_task_episodes):
                    f.write(json.dumps({"task": task, "split": "std", "index": k, "status": "completed",
                                        "reward": target, "metrics": {}, "turns": 1, "messages": [],
                                        "usage": {}, "timings": {}, "error": None, "version": "t",
                                        "config_hash": "h"}) + "\n")
            (root / model / "run.json").write_text(json.dumps({"model": model}))


def test_harness_score_reproduces_all_24_paper_overall_values(tmp_path):
    _write_rows(tmp_path)
    env = harness_env(HARNESS_PLUGINS=f"{harness_env()['HARNESS_PLUGINS']},{FIXTURES / 'paper_tasks.py'}")
    got = {}
    for i, model in enumerate(paper.MODELS):
        r = run_harness("score", str(tmp_path / model), "--json", env=env)
        assert r.returncode == 0, r.stderr
        obj = json.loads(r.stdout)
        assert obj["model"] == model and obj["partial"] == []
        for cat in ("held_in", "held_out", "general"):
            got[(model, cat)] = round(obj["overall"][cat], 2)
            assert round(obj["overall"][cat], 2) == paper.PAPER_OVERALL[cat][i], (model, cat, obj["overall"][cat])
    assert len(got) == 24
    r = run_harness("leaderboard", str(tmp_path), env=env)
    assert r.returncode == 0, r.stderr
    md = (tmp_path / "leaderboard.md").read_text()
    assert "AgentLM-70B (paper)" in md and md.count("\n| ") >= 16
    assert (tmp_path / "leaderboard.csv").exists() and (tmp_path / "leaderboard.html").exists()


def test_a_task_run_on_another_split_makes_its_category_partial(tmp_path):
    d = tmp_path / "m" / "kg"
    d.mkdir(parents=True)
    (d / "episodes.jsonl").write_text(json.dumps({"task": "kg", "split": "test-graph", "index": 0, "status": "completed",
                                                  "reward": 1.0, "metrics": {}, "config_hash": "h"}) + "\n")
    env = harness_env(HARNESS_PLUGINS=f"{harness_env()['HARNESS_PLUGINS']},{FIXTURES / 'paper_tasks.py'}")
    r = run_harness("score", str(tmp_path / "m"), "--json", env=env)
    obj = json.loads(r.stdout)
    assert obj["tasks"] == {"kg": 100.0} and obj["partial"] == ["held_in"]
    run_harness("score", str(tmp_path / "m"), env=env)
    assert "100.0†" in (tmp_path / "leaderboard.md").read_text()
