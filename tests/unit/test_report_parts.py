"""Parts of the report and of the tables: prices, packing episodes, folding the shared opening, column widths."""
from __future__ import annotations

import json

import pytest

from harness.errors import UsageError
from harness.prices import Prices, model_names, task_cost
from harness.report.collect import pack, pack_task, unpack
from harness.tables import layout, fit


def test_prices_from_flags_and_files(tmp_path):
    p = Prices.parse(["openai:gpt-4o@http://h:8000/v1?x=1=2.5/10", "hf:*Llama-2-7b*=0.1/0.2"])
    assert p.lookup(["openai:gpt-4o@http://h:8000/v1?x=1"]).input == 2.5
    assert p.lookup(model_names("hf:/models/Llama-2-7b-chat", None)).output == 0.2
    assert p.lookup(["oracle"]) is None
    f = tmp_path / "prices.yaml"
    f.write_text("gpt-4: 30/60\njudge-model: {input: 1, output: 2}\n")
    p = Prices.parse(file=f)
    config = {"model": {"backend": "openai", "model": "gpt-4"}, "judge": {"backend": "openai", "model": "judge-model"}}
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 500_000, "judge_prompt_tokens": 1_000_000,
             "judge_completion_tokens": 0}
    assert task_cost(p, usage, config, "openai:gpt-4") == pytest.approx(30 + 30 + 1)
    (tmp_path / "p.json").write_text(json.dumps({"m": "1/2"}))
    assert Prices.parse(file=tmp_path / "p.json").lookup(["m"]).output == 2.0
    for bad in (["gpt-4"], ["gpt-4=30"], ["gpt-4=a/b"], ["gpt-4=-1/2"]):
        with pytest.raises(UsageError, match="--price"):
            Prices.parse(bad)
    with pytest.raises(UsageError, match="cannot read"):
        Prices.parse(file=tmp_path / "none.json")


def _record(i, reply, status="completed"):
    opening = [{"role": "user", "content": "Instruction shared by every episode, long enough to be stored once."},
               {"role": "assistant", "content": "OK."},
               {"role": "user", "content": "Example question, also the same in every episode of this task."},
               {"role": "assistant", "content": "Example answer."}]
    return {"task": "t", "split": "s", "index": i, "epoch": 0, "status": status, "reward": 1.0, "turns": 1,
            "messages": opening + [{"role": "user", "content": f"Question {i}?"},
                                   {"role": "assistant", "content": reply}],
            "metrics": {"m": i}, "facts": {}, "usage": {"prompt_tokens": 10, "completion_tokens": 2},
            "timings": {"total": 1.5}, "error": None}


def test_episodes_are_packed_with_the_shared_opening_stored_once_and_folded():
    records = [_record(i, f"Answer {i}") for i in range(5)]
    blobs: list[str] = []
    te, group, _ = pack_task(0, "t", records, blobs, {})
    strings = unpack(blobs[te.strings_blob])
    assert sorted(strings) == sorted([records[0]["messages"][0]["content"], records[0]["messages"][2]["content"]])
    block = unpack(blobs[te.blocks[0]])
    for r, d in zip(records, block):
        assert [[role, strings[c] if isinstance(c, int) else c] for role, c in d["m"]] == [
            [m["role"], m["content"]] for m in r["messages"]]
        assert d["fold"] == 4  # instruction, acknowledgement, one-shot turns
    assert group["title"][3] == "Question 3?" and group["split"] == "s" and group["index"] == list(range(5))
    assert unpack(pack({"x": "é</script>"})) == {"x": "é</script>"}


def test_a_lone_episode_folds_nothing_and_blocks_stay_small():
    blobs: list[str] = []
    te, _, _ = pack_task(0, "t", [_record(0, "x")], blobs, {})
    assert unpack(blobs[te.blocks[0]])[0]["fold"] == 0
    big = [_record(i, f"{i}" + "y" * 100_000) for i in range(8)]
    te, group, _ = pack_task(0, "t", big, blobs, {})
    assert len(te.blocks) >= 3 and max(group["pos"]) < 8


def test_columns_fit_the_width_and_never_break_a_word():
    headers = ["Task", "Llama-2-chat-70B (paper)", "a-run [max_new_tokens=7]", "other"]
    rows = [["HumanEval", "30.8", "99.3 ± 1.2 (143/144, 1 err)", "–"]] * 3
    lay = layout(headers, rows, 40)
    assert all(b[0] == 0 for b in lay.blocks) and sorted({i for b in lay.blocks for i in b}) == [0, 1, 2, 3]
    for b in lay.blocks:
        widths = fit([lay.natural_widths[i] for i in b], [lay.min_widths[i] for i in b], 40)
        assert all(w >= lay.min_widths[i] for w, i in zip(widths, b))
        assert sum(w + 3 for w in widths) + 1 <= 40 or len(b) == 2
