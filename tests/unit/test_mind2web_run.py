"""Mind2Web through the harness runner and the chat agent on the fixture split: the oracle, and upstream's scripted
replies replayed, give upstream's step SR, element accuracy and action F1; settled steps cost no model call."""
import json

import pytest

from harness import get_task
from harness.records import read_records
from harness.runner import RunConfig, run
from tests.fixtures.mind2web.layout import fixture_root, load

REF = load("upstream_episodes.json")


@pytest.fixture
def spec(monkeypatch):
    monkeypatch.setenv("HARNESS_DATA", str(fixture_root()))
    return get_task("mind2web")


def _records(out):
    return sorted(read_records(next(out.glob("*/mind2web/episodes.jsonl"))), key=lambda r: r["index"])


def test_oracle_end_to_end(spec, tmp_path):
    summary = run(RunConfig(model="oracle", tasks=[spec], split="fixture", output=tmp_path / "out",
                            progress=False))["mind2web"]
    assert summary["split"] == "fixture" and summary["n"] == 8
    assert summary["score"] == pytest.approx(75.0)  # 6 of 8 steps have a gold candidate in the top-10: all solved
    assert summary["metrics"]["element_acc"] == 75.0 and summary["metrics"]["action_f1"] == 75.0
    records = _records(tmp_path / "out")
    assert [r["turns"] for r in records] == [2, 2, 2, 2, 0, 1, 0, 2]
    assert all(r["status"] == "completed" for r in records)
    last = records[0]["messages"]
    assert last[-1]["role"] == "assistant" and last[-1]["content"].startswith("Answer: F.\nAction: TYPE")
    assert len(last) == 8  # the final call's conversation: 3 shots, the page, the reply
    # steps without a gold candidate in the top-10 are settled without asking the model
    assert [r["usage"]["model_calls"] for r in records] == [2, 2, 2, 2, 0, 1, 0, 2]
    assert summary["metrics"]["usage"]["model_calls"] == 11 and records[4]["reward"] == 0.0


@pytest.mark.parametrize("name", ["wrong_value", "wrong_operation", "messy_format", "out_of_range"])
def test_replayed_upstream_replies_score_as_upstream(spec, tmp_path, name):
    ref = REF["policies"][name]
    replay = tmp_path / "replay.jsonl"
    with open(replay, "w") as f:
        for i, sample in enumerate(ref["per_sample"]):
            replies = [c["reply"] for c in sample["calls"]]
            f.write(json.dumps({"task": "mind2web", "index": i, "responses": replies}) + "\n")
    summary = run(RunConfig(model=f"replay:{replay}", tasks=[spec], split="fixture", output=tmp_path / "out",
                            progress=False))["mind2web"]
    assert summary["score"] == pytest.approx(ref["step_sr"])
    assert summary["metrics"]["element_acc"] == pytest.approx(ref["element_acc"], abs=1e-4)
    assert summary["metrics"]["action_f1"] == pytest.approx(ref["action_f1"], abs=1e-4)
    for record, want in zip(_records(tmp_path / "out"), ref["per_sample"]):
        assert record["metrics"]["action_f1"] == want["action_f1"] and record["reward"] == want["step_sr"]
        assert [c["reply"] for c in record["metrics"]["rounds"]] == [c["reply"] for c in want["calls"]]


def test_missing_official_data_names_the_file_and_its_source(tmp_path, monkeypatch, capsys):
    from harness.cli import main

    (tmp_path / "agentbench").symlink_to(fixture_root() / "agentbench")  # the prompt texts, not the official data
    monkeypatch.setenv("HARNESS_DATA", str(tmp_path))
    assert main(["data", "status", "--json"]) == 0
    row = next(r for r in json.loads(capsys.readouterr().out) if r["task"] == "mind2web")
    assert not row["present"] and row["files"]["mind2web/scores_all_data.pkl"] == 0
    assert any("huggingface.co/datasets/osunlp/Mind2Web" in h for h in row["get"])
    assert main(["eval", "--model", "oracle", "--tasks", "mind2web", "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "scores_all_data.pkl" in err and "osunlp/Mind2Web" in err
    assert not (tmp_path / "out").exists()


def test_fixture_split_is_off_the_paper_table(spec):
    assert spec.offtable_splits == ("fixture",) and spec.export_min_reward == pytest.approx(2 / 3)
    assert spec.default_split == "std" and spec.category == "held_in"


def test_leaderboard_never_shows_a_fixture_number(spec, tmp_path):
    from harness.scoring import score_model_dir

    run(RunConfig(model="oracle", tasks=[spec], split="fixture", output=tmp_path / "out", progress=False))
    from harness.leaderboard import rows, to_markdown

    [row] = score_model_dir(next((tmp_path / "out").iterdir()))
    assert "mind2web" not in row.table_tasks and row.tasks["mind2web"].offtable
    assert row.overall["held_in"] is None and row.partial == []
    table_row = rows([row])[-1]
    assert all(cell == "–" for cell in table_row[1:])  # the paper table holds no fixture number ...
    md = to_markdown([row])
    assert "Other tasks" in md and "[fixture]" in md  # ... it is listed apart, with its split
