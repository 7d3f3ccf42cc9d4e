"""harness export: evaluation records -> AgentInstruct JSONL (reward filter, loss flags, duplicates)."""
import argparse
import json

import pytest

from harness import TaskSpec, register_task
from harness.errors import UsageError
from harness.export import add_export_parser, export, main, opening_length, to_conversation
from harness.train.data import load_conversations

# a task whose own export threshold is AgentInstruct's 2/3 (as Mind2Web's TaskSpec says): read from the spec
register_task(TaskSpec(name="stepwise", category="test", env="echo_env:EchoEnv", splits={"std": 3}, default_split="std",
                       metric="step success rate", export_min_reward=2 / 3))

OPENING = [{"role": "user", "content": "You are an agent. Example task?"},
           {"role": "assistant", "content": "Act: example"},
           {"role": "user", "content": "Real task 1?"}]


def record(task, index, reward, replies=("Act: bash ls", "Act: answer(3)"), status="completed", **extra):
    messages = list(OPENING)
    for n, reply in enumerate(replies):
        messages.append({"role": "assistant", "content": f"{reply} [{task} {index}]"})
        messages.append({"role": "user", "content": f"observation {n}"})
    rec = {"task": task, "split": "std", "index": index, "status": status, "reward": reward,
           "metrics": {"n_prompt_messages": 3}, "turns": len(replies), "messages": messages,
           "usage": {"prompt_tokens": 1, "completion_tokens": 1}, "timings": {}, "error": None,
           "version": "0.1.0", "config_hash": "h"}
    rec.update(extra)
    return rec


def write(results, model, task, records):
    path = results / model / task / "episodes.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture
def results(tmp_path):
    r = tmp_path / "results"
    write(r, "gpt-4", "os", [record("os", 0, 1.0), record("os", 1, 0.0), record("os", 2, 1.0, status="task_error"),
                             record("os", 3, 1.0, error="boom")])
    write(r, "gpt-4", "stepwise", [record("stepwise", 0, 0.7), record("stepwise", 1, 0.5),
                                   record("stepwise", 2, 2 / 3)])
    write(r, "gpt-4-again", "os", [record("os", 0, 1.0)])  # the same trajectory from a second run
    return r


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_filters_by_reward_and_drops_errors_and_duplicates(results, tmp_path):
    out = tmp_path / "agent.jsonl"
    summary = export([results], out)
    rows = read(out)
    assert sorted(r["id"] for r in rows) == ["os_0", "stepwise_0", "stepwise_2"]
    assert summary["os"] == {"read": 5, "kept": 1, "below_threshold": 1, "errors": 2, "duplicates": 1}
    assert summary["stepwise"]["kept"] == 2 and summary["total_kept"] == 3


def test_loss_flags_from_n_prompt_messages(results, tmp_path):
    out = tmp_path / "agent.jsonl"
    export([results], out, tasks={"os"})
    conv = read(out)[0]["conversations"]
    assert [t["from"] for t in conv] == ["human", "gpt", "human", "gpt", "human", "gpt"]  # last observation dropped
    assert [t["loss"] for t in conv] == [False, False, False, True, None, True]


def test_fallback_to_turns_when_the_runner_did_not_say():
    rec = record("db", 0, 1.0, metrics={})
    assert opening_length(rec) == 3
    rec_no_turns = {k: v for k, v in rec.items() if k != "turns"}
    assert opening_length(rec_no_turns) == 1  # last resort: everything from the first reply is the model's
    assert [t["loss"] for t in to_conversation(rec)] == [False, False, False, True, None, True]


def test_thresholds(results, tmp_path):
    out = tmp_path / "a.jsonl"
    assert export([results], out, min_reward=0.0)["total_kept"] == 5  # os 0, 1 and stepwise 0-2
    assert export([results], out, per_task={"stepwise": 0.69})["stepwise"]["kept"] == 1
    assert export([results], out, per_task={"os": 0.0})["os"]["kept"] == 2


def test_export_feeds_the_trainer_with_loss_flags(results, tmp_path):
    out = tmp_path / "agent.jsonl"
    export([results], out)
    convs = load_conversations(out)
    assert len(convs) == 3
    assert all(c.n_trained == 2 for c in convs)
    assert not any(t.trained for t in convs[0].turns[:2])


def test_cli(results, tmp_path, capsys):
    out = tmp_path / "agent.jsonl"
    assert main([str(results), "--output", str(out), "--task-min-reward", "stepwise=0.69"]) == 0
    assert "wrote 2 trajectories" in capsys.readouterr().out
    assert main([str(tmp_path / "nowhere"), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("harness export: ") and err.count("\n") == 1
    parser = argparse.ArgumentParser()
    add_export_parser(parser.add_subparsers())
    with pytest.raises(SystemExit):
        parser.parse_args(["export", "x", "-o", "y", "--task-min-reward", "nonsense"])


def test_torn_last_line_is_skipped(tmp_path):
    r = tmp_path / "results"
    write(r, "m", "os", [record("os", 0, 1.0)])
    with (r / "m" / "os" / "episodes.jsonl").open("a") as f:
        f.write('{"task": "os", "ind')
    assert export([r], tmp_path / "o.jsonl")["total_kept"] == 1
    with pytest.raises(UsageError):
        export([tmp_path / "empty"], tmp_path / "o.jsonl")
