"""Episode records: one JSON line per finished episode, appended and flushed as it ends (ARCHITECTURE.md)."""
from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from . import status as S
from .version import __version__

_configs_lock = threading.Lock()

RECORD_KEYS = ("task", "split", "index", "epoch", "status", "reward", "facts", "metrics", "turns", "messages", "usage",
               "timings", "error", "version", "config_hash")
CONFIGS = "configs.json"


def slug(text: str) -> str:
    """File-safe name of a model spec: ``hf:/models/Llama-2-7b`` -> ``hf_models_Llama-2-7b``."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.")
    return s[:120] or "model"


def make_record(*, task: str, split: str, index: int, status: str, reward: float, metrics: dict[str, Any],
                turns: int, messages: list[dict[str, str]], usage: dict[str, int], timings: dict[str, float],
                error: str | None, config_hash: str, facts: dict[str, Any] | None = None,
                epoch: int = 0, node: str | None = None) -> dict[str, Any]:
    record = {"task": task, "split": split, "index": index, "epoch": epoch, "status": status, "reward": float(reward),
              "facts": facts or {}, "metrics": metrics, "turns": turns, "messages": messages, "usage": usage,
              "timings": timings, "error": error, "version": __version__, "config_hash": config_hash}
    if node is not None:  # the Ray node that ran the episode (runs with --ray only)
        record["node"] = node
    return record


def fact(record: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """A grouping fact of a record: from ``facts`` (known before the episode), else from ``metrics`` (records
    written before facts existed)."""
    facts = record.get("facts") or {}
    if key in facts:
        return facts[key]
    return (record.get("metrics") or {}).get(key, default)


def is_error(record: Mapping[str, Any]) -> bool:
    """An infrastructure failure (backend, env, service, harness): recorded, never scored, retried on the next run."""
    return record.get("status") == S.TASK_ERROR


def episode_key(record: Mapping[str, Any]) -> tuple[str, int, int]:
    return (record.get("split", ""), int(record.get("index", -1)), int(record.get("epoch", 0) or 0))


class RecordWriter:
    """Appends records to a JSONL file; each line goes to the OS with one ``write`` (so a killed process loses
    nothing it finished), and the file is fsync-ed when closed.

    A run killed in the middle of a write can leave a partial last line: it is cut off when the file is opened again,
    so that the next record starts on a fresh line and readers never see half a record.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _repair_tail(self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        with self._lock:
            os.write(self._fd, line)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _repair_tail(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as f:
        data = f.read()
        if data.endswith(b"\n"):
            return
        cut = data.rfind(b"\n") + 1
        f.truncate(cut)


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file; a torn last line (a crash mid-write) is skipped."""
    path = Path(path)
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def latest_by_episode(records: Iterable[dict[str, Any]],
                      config_hash: str | None = None) -> dict[tuple[str, int, int], dict[str, Any]]:
    """(split, index, epoch) -> the record that counts, optionally only records of one configuration.

    An outcome always wins over an error (an error recorded after an outcome, e.g. by a concurrent run, never
    replaces it); among records of the same kind the last one wins.
    """
    out: dict[tuple[str, int, int], dict[str, Any]] = {}
    for r in records:
        if config_hash is not None and r.get("config_hash") != config_hash:
            continue
        key = episode_key(r)
        old = out.get(key)
        if old is not None and is_error(r) and not is_error(old):
            continue
        out[key] = r
    return out


def records_by_config(path: Path) -> dict[str, list[dict[str, Any]]]:
    """config hash -> the records that count for it, one per (split, index, epoch), in episode order; configurations
    in the order they first appear."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in read_records(path):
        groups.setdefault(str(r.get("config_hash")), []).append(r)
    return {h: sorted(latest_by_episode(recs).values(), key=episode_key) for h, recs in groups.items()}


def config_records(path: Path, config_hash: str) -> list[dict[str, Any]]:
    """The records that count for one configuration."""
    return sorted(latest_by_episode(read_records(path), config_hash).values(), key=episode_key)


# --- configurations of a task folder ----------------------------------------------------------------------------
def read_configs(task_dir: Path) -> dict[str, dict[str, Any]]:
    """config hash -> {"config": ..., "split_size": N, "first_run": ..., "last_run": ...} (configs.json)."""
    try:
        return json.loads((Path(task_dir) / CONFIGS).read_text())
    except (OSError, ValueError):
        return {}


def remember_config(task_dir: Path, h: str, config: dict[str, Any], split_size: int) -> None:
    """Add or refresh one configuration in the task folder's configs.json (atomic replace)."""
    task_dir = Path(task_dir)
    task_dir.mkdir(parents=True, exist_ok=True)
    with _configs_lock:
        configs = read_configs(task_dir)
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        entry = configs.get(h) or {"config": config, "first_run": now}
        entry.update(split_size=split_size, last_run=now)
        configs[h] = entry
        tmp = task_dir / f"{CONFIGS}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(configs, indent=1, default=str))
        tmp.replace(task_dir / CONFIGS)
