"""Evaluation records -> AgentInstruct-format training data: the paper's loop (collect with a strong model, keep the
trajectories whose reward passes, train on them).

Each kept episode becomes ``{"id", "conversations": [{"from": "human"|"gpt"|"system", "loss", "value"}], "task",
"reward", "model"}``. The env's opening conversation (instruction, in-context examples) is marked ``loss: false``;
the model's own replies ``loss: true``; later observations ``loss: null``. Where the opening ends comes from
``metrics.n_prompt_messages`` (written by the runner), else from the record's ``turns`` (the last ``turns`` assistant
messages are the model's). Thresholds: reward >= 1.0, Mind2Web >= 2/3 (AgentInstruct's rule), per-task overrides.
Identical conversations are written once.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import UsageError

DEFAULT_MIN_REWARD = 1.0
FROM = {"user": "human", "assistant": "gpt", "system": "system"}
SKIP_STATUSES = {"task_error"}


def task_min_rewards() -> dict[str, float]:
    """Each registered task's own threshold (``TaskSpec.export_min_reward``: AgentInstruct's rule)."""
    from .registry import tasks

    return {name: spec.export_min_reward for name, spec in tasks().items()
            if spec.export_min_reward != DEFAULT_MIN_REWARD}


def thresholds(min_reward: float | None = None, per_task: dict[str, float] | None = None):
    """(default, {task: threshold}): an explicit ``min_reward`` replaces the tasks' own; ``per_task`` wins over both."""
    table = {} if min_reward is not None else task_min_rewards()
    table.update(per_task or {})
    return (DEFAULT_MIN_REWARD if min_reward is None else min_reward), table


def episode_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += sorted(path.rglob("episodes.jsonl"))
        else:
            raise UsageError(f"results path {path} does not exist")
    if not files:
        raise UsageError(f"no episodes.jsonl under {', '.join(map(str, paths))}: run `harness eval` first")
    return files


def read_records(file: Path) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:  # a run killed mid-write leaves a torn last line; it is not an episode
            print(f"export: skipped unreadable line {file}:{n}", file=sys.stderr)


def opening_length(record: dict[str, Any]) -> int:
    """How many leading messages are the env's opening conversation (never trained)."""
    messages = record.get("messages") or []
    for holder in (record.get("metrics") or {}, record):
        n = holder.get("n_prompt_messages")
        if isinstance(n, int) and 0 <= n <= len(messages):
            return n
    turns = record.get("turns")
    assistant_at = [i for i, m in enumerate(messages) if m.get("role") == "assistant"]
    if isinstance(turns, int) and 0 < turns <= len(assistant_at):
        return assistant_at[-turns]
    return assistant_at[0] if assistant_at else len(messages)


def to_conversation(record: dict[str, Any]) -> list[dict[str, Any]]:
    messages = [m for m in record.get("messages") or [] if m.get("role") in FROM and isinstance(m.get("content"), str)]
    opening = opening_length({**record, "messages": messages})
    while messages and messages[-1]["role"] != "assistant":  # the last observation teaches nothing
        messages.pop()
    out = []
    for i, m in enumerate(messages):
        if i < opening:
            loss: bool | None = False
        else:
            loss = True if m["role"] == "assistant" else None
        out.append({"from": FROM[m["role"]], "loss": loss, "value": m["content"]})
    return out


def export(paths: Iterable[str | Path], output: str | Path, min_reward: float | None = None,
           per_task: dict[str, float] | None = None, tasks: set[str] | None = None) -> dict[str, Any]:
    """Write the kept trajectories to ``output`` (JSONL); returns counts per task."""
    default, table = thresholds(min_reward, per_task)
    seen: set[str] = set()
    ids: Counter = Counter()
    counts: dict[str, Counter] = {}
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as out:
        for file in episode_files(paths):
            model = file.parent.parent.name
            for record in read_records(file):
                task = str(record.get("task") or file.parent.name)
                if tasks and task not in tasks:
                    continue
                c = counts.setdefault(task, Counter())
                c["read"] += 1
                reward = record.get("reward")
                if record.get("error") or record.get("status") in SKIP_STATUSES or not isinstance(reward, (int, float)):
                    c["errors"] += 1
                    continue
                if reward < table.get(task, default) - 1e-9:
                    c["below_threshold"] += 1
                    continue
                conversation = to_conversation(record)
                if not any(turn["loss"] for turn in conversation):
                    c["no_model_turns"] += 1
                    continue
                key = hashlib.sha256(json.dumps([(t["from"], t["value"]) for t in conversation]).encode()).hexdigest()
                if key in seen:
                    c["duplicates"] += 1
                    continue
                seen.add(key)
                base_id = f"{task}_{record.get('index', c['read'] - 1)}"
                ids[base_id] += 1
                row = {"id": base_id if ids[base_id] == 1 else f"{base_id}_{ids[base_id]}", "conversations": conversation,
                       "task": task, "reward": reward, "model": model}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                c["kept"] += 1
    summary = {task: dict(c) for task, c in sorted(counts.items())}
    summary["total_kept"] = sum(c["kept"] for c in counts.values())
    return summary


def _task_threshold(text: str) -> tuple[str, float]:
    task, sep, value = text.partition("=")
    try:
        if not sep or not task:
            raise ValueError
        return task, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected TASK=REWARD, e.g. mind2web=0.667, got {text!r}") from None


def add_export_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("export", help="turn evaluation records into AgentInstruct-format training data",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="+", help="results folder(s) (searched for episodes.jsonl) or episodes.jsonl files")
    p.add_argument("--output", "-o", required=True, help="JSONL file to write")
    p.add_argument("--min-reward", type=float, default=None,
                   help=f"keep episodes with reward >= R (default {DEFAULT_MIN_REWARD}, Mind2Web 2/3)")
    p.add_argument("--task-min-reward", type=_task_threshold, action="append", default=[], metavar="TASK=R",
                   help="per-task threshold, repeatable")
    p.add_argument("--tasks", default=None, help="comma-separated tasks to export (default: all)")
    p.set_defaults(func=run_export)
    return p


def run_export(args: argparse.Namespace) -> int:
    summary = export(args.results, args.output, args.min_reward, dict(args.task_min_reward),
                     set(args.tasks.split(",")) if args.tasks else None)
    for task, c in summary.items():
        if task != "total_kept":
            print(f"{task}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    print(f"wrote {summary['total_kept']} trajectories to {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness")
    add_export_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["export", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"harness export: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
