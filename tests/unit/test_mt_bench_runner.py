"""MT-Bench end to end through the runner: a replay model answers both turns, a replay judge grades them."""
from __future__ import annotations

import pytest

from harness import get_task
from harness.records import read_records
from harness.runner import RunConfig, run
from harness.scoring import model_dirs, score_model_dir
from tests.helpers import fixture_data
from tests.conftest import FIXTURES, need_data
from tests.fixtures.general import replays

DATA = fixture_data(FIXTURES / "general" / "data")


def _replay(path, n, ratings):
    lines = []
    for i in range(n):
        lines.append({"task": "mt_bench", "index": i, "responses": [f"first answer {i}", f"second answer {i}"]})
        lines.append({"task": "mt_bench_judge", "index": i, "responses": [f"Good. Rating: [[{r}]]" if r else "no score"
                                                                          for r in ratings(i)]})
    return replays.write(path, lines)


def test_replay_model_and_replay_judge_fixture(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_DATA", str(DATA))
    replay = _replay(tmp_path / "r.jsonl", 3, lambda i: [8, None] if i == 2 else [6, 4])
    s = run(RunConfig(model=f"replay:{replay}", judge=f"replay:{replay}", tasks=[get_task("mt_bench")],
                      output=tmp_path / "out", progress=False))
    summary = s["mt_bench"]
    assert summary["score"] == pytest.approx((6 + 4 + 6 + 4 + 8) / 5)
    assert summary["metrics"]["judge_parse_failures"] == 1
    records = sorted(read_records(next((tmp_path / "out").glob("*/mt_bench/episodes.jsonl"))), key=lambda r: r["index"])
    assert [r["metrics"]["turn_scores"] for r in records] == [[6, 4], [6, 4], [8, -1]]
    assert records[0]["messages"][-1] == {"role": "assistant", "content": "second answer 0"}
    assert records[1]["metrics"]["judge_prompts"] == ["single-math-v1", "single-math-v1-multi-turn"]


def test_replay_model_and_judge_all_80_real_questions(tmp_path):
    need_data("general", "mt_bench", "question.jsonl")
    replay = _replay(tmp_path / "r.jsonl", 80, lambda i: [1 + i % 10, 1 + (i + 3) % 10])
    s = run(RunConfig(model=f"replay:{replay}", judge=f"replay:{replay}", tasks=[get_task("mt_bench")],
                      output=tmp_path / "out", progress=False))
    expected = sum(1 + i % 10 + 1 + (i + 3) % 10 for i in range(80)) / 160
    assert s["mt_bench"]["n"] == 80 and s["mt_bench"]["score"] == pytest.approx(expected)
    assert len(s["mt_bench"]["metrics"]["categories"]) == 8
    [scored] = score_model_dir(model_dirs(tmp_path / "out")[0])  # the scorer reads it like any other task
    assert scored.tasks["mt_bench"].score == pytest.approx(expected) and scored.overall["general"] is not None
    assert scored.tasks["mt_bench"].n == 80 and scored.tasks["mt_bench"].complete
