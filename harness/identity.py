"""What identifies a configuration: the ingredients of the configuration hash, and how two configurations differ.

The hash covers what changes an episode's outcome and nothing else: the model (every backend option that its
``describe()`` reports) and the generation settings; the env class, its protocol version, its constructor options, a
fingerprint of the task data files it reads and the endpoint URLs it talks to; the agent strategy with the options it
reads; the judge, for tasks whose strategy calls one; the harness's protocol version. Not hashed: concurrency, time
limits, output folders, progress display, options that no strategy of the task reads.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Mapping

from platformdirs import user_cache_dir

from .version import PROTOCOL_VERSION

_cache_lock = threading.Lock()


def _fingerprint_cache() -> Path:
    return Path(os.environ.get("HARNESS_CACHE") or user_cache_dir("harness")) / "fingerprints.json"


def _file_sha256(path: Path, cache: dict[str, Any]) -> str:
    st = path.stat()
    key = str(path)
    hit = cache.get(key)
    if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
        return hit[2]
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    cache[key] = [st.st_size, st.st_mtime_ns, digest]
    return digest


def _with_cache(work):
    """Run ``work(cache)`` on the file-hash cache (user cache folder) and save it when it changed."""
    cache_path = _fingerprint_cache()
    with _cache_lock:
        try:
            cache = json.loads(cache_path.read_text())
        except (OSError, ValueError):
            cache = {}
        before = json.dumps(cache, sort_keys=True)
        result = work(cache)
        if json.dumps(cache, sort_keys=True) != before:
            try:
                cache_path.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache_path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(cache))
                tmp.replace(cache_path)
            except OSError:
                pass
        return result


def file_sha256(path: Path | str) -> str:
    """sha256 of a file, remembered by (path, size, mtime) in the user cache, so that a 5 GB file is read once."""
    path = Path(path).resolve()
    return _with_cache(lambda cache: _file_sha256(path, cache))


def data_fingerprint(root: Path, paths: tuple[str, ...] | list[str]) -> str | None:
    """sha256 over the named files and folders under ``root`` (by relative path and content; folders walked).

    File hashes are cached by (path, size, mtime), so a 5 GB catalogue is read once. None when nothing is named.
    """
    if not paths:
        return None

    def fingerprint(cache: dict[str, Any]) -> str:
        outer = hashlib.sha256()
        for rel in sorted(paths):
            base = Path(root) / rel
            files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
            for f in files:
                name = f.relative_to(root).as_posix()
                digest = _file_sha256(f, cache) if f.is_file() else "missing"
                outer.update(f"{name}\0{digest}\n".encode())
        return outer.hexdigest()[:16]

    return _with_cache(fingerprint)


def config_hash(config: Mapping[str, Any]) -> str:
    """Stable 16-hex-digit hash of a configuration (JSON with sorted keys)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def task_config(*, model: Mapping[str, Any], generation: Mapping[str, Any], overrides: Mapping[str, Any],
                task: str, split: str, env: str, env_version: str, env_kwargs: Mapping[str, Any], data: str | None,
                endpoints: Mapping[str, str | None], agent: str, agent_options: Mapping[str, Any],
                judge: Mapping[str, Any] | None) -> dict[str, Any]:
    """The configuration of one task's episodes (what :func:`config_hash` hashes)."""
    return {
        "protocol": PROTOCOL_VERSION,
        "model": dict(model),
        "overrides": {k: v for k, v in sorted(overrides.items()) if v is not None},
        "generation": dict(generation),
        "task": {"name": task, "split": split, "env": env, "env_version": env_version,
                 "env_kwargs": dict(env_kwargs), "data": data, "endpoints": dict(endpoints)},
        "agent": {"name": agent, "options": dict(agent_options)},
        "judge": dict(judge) if judge is not None else None,
    }


def run_key(config: Mapping[str, Any]) -> str:
    """The model side of a configuration (model, generation overrides, protocol): one leaderboard row per key."""
    return config_hash({"protocol": config.get("protocol"), "model": config.get("model"),
                        "overrides": config.get("overrides") or {}})


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): obj}


def difference(config: Mapping[str, Any], reference: Mapping[str, Any]) -> list[str]:
    """``key=value`` for each setting of ``config`` that differs from ``reference`` (labels of leaderboard rows)."""
    a, b = flatten(config), flatten(reference)
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            short = key.split(".", 1)[1] if key.startswith(("model.", "overrides.", "task.", "agent.")) else key
            value = a.get(key)
            out.append(f"{short}={value if value is not None else '-'}")
    return out
