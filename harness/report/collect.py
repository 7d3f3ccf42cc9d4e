"""What the report shows, read from a results folder: the scored rows, and every episode, packed for lazy loading.

The episodes of one (run, task) are packed into blocks of about ``BLOCK_BYTES`` of JSON each, gzip-compressed and
base64-encoded into the page; the page decodes a block only when one of its episodes is opened or searched. A list
of every episode (status, reward, turns, time, tokens, a title) is one more compressed blob, decoded when the page
opens. Message texts that recur in several episodes of a task (the instruction, the one-shot examples) are stored
once per (run, task) in a string table. Records are read one task file at a time, so memory stays bounded by the
largest task; what the plots and the paired comparison need is kept as slim records (no messages).
"""
from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..records import episode_key, records_by_config
from ..scoring import EPISODES, RunScores, model_dirs, score_model_dir

BLOCK_BYTES = 256 * 1024
#: a message text is stored once per (run, task) when it is this long and recurs in two or more episodes
INTERN_MIN_CHARS = 40
TITLE_CHARS = 140
SLIM_KEYS = ("task", "split", "index", "epoch", "status", "reward", "facts", "metrics", "turns", "usage", "timings",
             "error", "config_hash")


def pack(obj: Any) -> str:
    """JSON -> gzip -> base64 (deterministic: no timestamp in the gzip header)."""
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def unpack(text: str) -> Any:
    return json.loads(gzip.decompress(base64.b64decode(text)))


@dataclass
class TaskEpisodes:
    """What the report keeps of one (run, task) after its records are packed."""

    run: int
    task: str
    n_records: int
    slim: list[dict[str, Any]]  # records without their messages (plots, paired comparison)
    strings_blob: int | None = None  # blob id of the string table
    blocks: list[int] = field(default_factory=list)  # blob ids of the blocks


@dataclass
class Collected:
    root: Path
    runs: list[RunScores]
    episodes: dict[tuple[int, str], TaskEpisodes]
    index: list[dict[str, Any]]  # one columnar group per (run, task)
    blobs: list[str]  # packed blobs; blob k becomes <script id="blob-k">
    statuses: list[str]
    n_episodes: int = 0
    raw_bytes: int = 0


def _first_line(text: str | None, limit: int = 200) -> str | None:
    if not text:
        return None
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:limit]


def _shared_texts(records: Sequence[Mapping[str, Any]]) -> set[str]:
    """Message texts that occur in at least two distinct episodes (epochs of one episode count once)."""
    seen: dict[str, set] = {}
    for r in records:
        key = episode_key(r)[:2]
        for m in r.get("messages") or []:
            c = m.get("content")
            if isinstance(c, str):
                seen.setdefault(c, set()).add(key)
    return {c for c, keys in seen.items() if len(keys) >= 2}


def _opening(messages: Sequence[Mapping[str, Any]], shared: set[str]) -> int:
    """How many leading messages are the opening every episode shares (instruction, one-shot turns): folded."""
    k = 0
    for m in messages:
        if m.get("content") not in shared:
            break
        k += 1
    return min(k, max(0, len(messages) - 1))


def _title(messages: Sequence[Mapping[str, Any]], fold: int) -> str:
    """The episode's own problem: the first user message after the shared opening."""
    for m in list(messages)[fold:]:
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            return " ".join(m["content"].split())[:TITLE_CHARS]
    return ""


def _num(v: Any, digits: int = 4) -> float | None:
    try:
        return round(float(v), digits)
    except (TypeError, ValueError):
        return None


def pack_task(run: int, task: str, records: Sequence[dict[str, Any]], blobs: list[str],
              statuses: dict[str, int]) -> tuple[TaskEpisodes, dict[str, Any], int]:
    """Pack one (run, task)'s records into blobs; return what is kept, its index group and the raw JSON bytes."""
    shared = _shared_texts(records)
    table: dict[str, int] = {}
    cols: dict[str, list] = {k: [] for k in ("split", "index", "epoch", "status", "reward", "turns", "time", "model",
                                             "prompt", "completion", "block", "pos", "title", "error")}
    te = TaskEpisodes(run=run, task=task, n_records=len(records), slim=[])
    block: list[dict[str, Any]] = []
    size = 0
    raw = 0

    def flush() -> None:
        nonlocal block, size, raw
        if block:
            blobs.append(pack(block))
            te.blocks.append(len(blobs) - 1)
            raw += size
        block, size = [], 0

    for r in records:
        messages = r.get("messages") or []
        fold = _opening(messages, shared)
        packed_messages = []
        for m in messages:
            c = m.get("content")
            if not isinstance(c, str):
                c = json.dumps(c, ensure_ascii=False)
            if c in shared and len(c) >= INTERN_MIN_CHARS:
                c = table.setdefault(c, len(table))
            packed_messages.append([str(m.get("role", "?")), c])
        detail = {"m": packed_messages, "fold": fold, "metrics": r.get("metrics") or {}, "facts": r.get("facts") or {},
                  "usage": r.get("usage") or {}, "timings": r.get("timings") or {}, "error": r.get("error"),
                  "version": r.get("version"), "config_hash": r.get("config_hash")}
        # about the JSON size (texts stored in the string table count as a number)
        entry_bytes = 300 + sum(len(c) + 20 if isinstance(c, str) else 24 for _, c in packed_messages) + len(
            detail["error"] or "")
        if block and size + entry_bytes > BLOCK_BYTES:
            flush()
        split, index, epoch = episode_key(r)
        timings, usage = r.get("timings") or {}, r.get("usage") or {}
        for k, v in (("split", split), ("index", index), ("epoch", epoch),
                     ("status", statuses.setdefault(str(r.get("status")), len(statuses))),
                     ("reward", _num(r.get("reward"))), ("turns", int(r.get("turns") or 0)),
                     ("time", _num(timings.get("total"), 3)), ("model", _num(timings.get("model"), 3)),
                     ("prompt", int(usage.get("prompt_tokens") or 0)),
                     ("completion", int(usage.get("completion_tokens") or 0)),
                     ("block", len(te.blocks)), ("pos", len(block)), ("title", _title(messages, fold)),
                     ("error", _first_line(r.get("error")))):
            cols[k].append(v)
        block.append(detail)
        size += entry_bytes
        te.slim.append({k: r.get(k) for k in SLIM_KEYS})
    flush()
    strings = [None] * len(table)
    for text, k in table.items():
        strings[k] = text
    blobs.append(pack(strings))
    te.strings_blob = len(blobs) - 1
    raw += sum(len(s) for s in strings)
    group = {"run": run, "task": task, "blocks": te.blocks, "strings": te.strings_blob, **cols}
    # columns that hold one value for every episode are stored once
    for k in ("split", "epoch"):
        if len(set(cols[k])) <= 1:
            group[k] = cols[k][0] if cols[k] else None
    return te, group, raw


def task_dirs(model_dir: Path) -> dict[str, Path]:
    """task name -> its folder in a run folder (the folder's name, or the task its first record names)."""
    out: dict[str, Path] = {}
    for d in sorted(p for p in model_dir.iterdir() if (p / EPISODES).exists()):
        out.setdefault(d.name, d)
    return out


def collect(path: Path, runs: Iterable[RunScores] | None = None) -> Collected:
    """Score every run under ``path`` (a results folder or one run folder) and pack its episodes."""
    path = Path(path)
    dirs = model_dirs(path)
    root = path.parent if dirs == [path] else path
    by_folder: dict[str, Path] = {d.name: d for d in dirs}
    rows = list(runs) if runs is not None else [row for d in dirs for row in score_model_dir(d)]
    blobs: list[str] = []
    statuses: dict[str, int] = {}
    index: list[dict[str, Any]] = []
    episodes: dict[tuple[int, str], TaskEpisodes] = {}
    raw_total = 0
    n = 0
    for folder, model_dir in by_folder.items():
        wanted: dict[str, dict[str, list[int]]] = {}  # task -> config hash -> rows
        for i, row in enumerate(rows):
            if row.folder != folder:
                continue
            for t, ts in row.tasks.items():
                wanted.setdefault(t, {}).setdefault(ts.config_hash, []).append(i)
        folders = task_dirs(model_dir)
        for task, hashes in wanted.items():
            task_dir = folders.get(task)
            if task_dir is None:
                continue
            by_config = records_by_config(task_dir / EPISODES)
            for h, row_ids in hashes.items():
                records = by_config.get(h, [])
                for i in row_ids:
                    te, group, raw = pack_task(i, task, records, blobs, statuses)
                    episodes[(i, task)] = te
                    index.append(group)
                    raw_total += raw
                    n += len(records)
            del by_config
    index.sort(key=lambda g: (g["run"], g["task"]))
    return Collected(root=root, runs=rows, episodes=episodes, index=index, blobs=blobs,
                     statuses=list(statuses), n_episodes=n, raw_bytes=raw_total)
