"""Helpers shared by tests: run the CLI in-process or as a subprocess with the test plugins."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
ECHO = str(FIXTURES / "echo_env.py")
ECHO_REPLAY = FIXTURES / "echo_replay.jsonl"
HARNESS = [sys.executable, "-m", "harness.cli"]


def harness_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["HARNESS_PLUGINS"] = ECHO
    env.update(extra)
    return env


def run_harness(*args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path = ROOT):
    return subprocess.run([*HARNESS, *args], env=env or harness_env(), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@contextlib.contextmanager
def raw_file_server(folder: Path):
    """Serve ``folder`` over HTTP on loopback (a stand-in for upstream's raw file host); yields the base URL."""
    from harness.services import free_port, wait_for_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc=server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(5)


_materialised: dict[Path, Path] = {}


def fixture_data(src: Path) -> Path:
    """A copy of a fixture data tree with the file names the envs read.

    Fixture files that stand in for task data files carry ``.fixture`` in their names (``standard.fixture.jsonl``),
    so that they are never mistaken for copies of the real data; the copy drops that marker.
    """
    import shutil
    import tempfile

    src = Path(src).resolve()
    if src not in _materialised:
        dst = Path(tempfile.mkdtemp(prefix="harness-fixture-")) / src.name
        shutil.copytree(src, dst)
        for path in list(dst.rglob("*.fixture.*")):
            path.rename(path.with_name(path.name.replace(".fixture.", ".", 1)))
        _materialised[src] = dst
    return _materialised[src]
