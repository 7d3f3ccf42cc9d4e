"""Helpers for services: system packages, free ports, child processes that die with the harness, crash records."""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Sequence

from platformdirs import user_cache_dir


def runtime_dir() -> Path:
    """Where running services record their owner, so the next start can clean up after a crash."""
    path = Path(os.environ.get("HARNESS_RUNTIME_DIR") or Path(user_cache_dir("harness")) / "run")
    path.mkdir(parents=True, exist_ok=True)
    return path


def owner_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, does not: what it owned may be cleaned)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not Path("/proc/self/stat").exists():  # no /proc: signal 0 is all there is
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:  # gone in between
        return False


def pid_namespace() -> str:
    """This process's PID namespace (``pid:[inode]``): a pid means something only inside its own namespace, so a
    harness in another container (or sandbox) sharing this filesystem or Docker engine is never judged from here."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return "unknown"


def write_owner_record(kind: str, data: dict[str, Any]) -> Path:
    """Record ``data`` for this process; :func:`stale_owner_records` returns it once this process is dead.

    Written to a hidden file and renamed into place, so that another process never reads a half-written record."""
    name = f"{kind}-{os.getpid()}-{time.monotonic_ns()}.json"
    path, tmp = runtime_dir() / name, runtime_dir() / f".{name}.tmp"
    tmp.write_text(json.dumps({"owner": os.getpid(), "pidns": pid_namespace(), **data}))
    os.replace(tmp, path)
    return path


def stale_owner_records(kind: str) -> list[tuple[Path, dict[str, Any]]]:
    """Records of ``kind`` whose owner is dead. Records that vanish while being read (another process cleaned them
    up, or their live owner removed them) are skipped; unreadable ones are removed."""
    out = []
    for path in runtime_dir().glob(f"{kind}-*.json"):
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            continue
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
            continue
        if data.get("pidns", pid_namespace()) != pid_namespace():
            continue  # another PID namespace's record: its owner's pid means nothing here
        if not owner_alive(int(data.get("owner", 0))):
            out.append((path, data))
    return out


def process_start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), to tell a process from a later one that reuses its
    pid; None when it does not exist (or on a system without /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with status {proc.returncode} before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """In a child process: receive ``sig`` when the parent dies, even by SIGKILL (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)
    except OSError:
        pass


def _die_with_parent() -> None:
    die_with_parent(signal.SIGTERM)
    os.setsid()


class ManagedProcess:
    """A service process in its own session that receives SIGTERM when the harness dies, recorded for cleanup."""

    def __init__(self, argv: Sequence[str], kind: str, log: Path | None = None, env: dict[str, str] | None = None,
                 cwd: str | Path | None = None, cleanup_paths: Sequence[str | Path] = ()) -> None:
        out = open(log, "ab") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     preexec_fn=_die_with_parent)
        self.record = write_owner_record(kind, {"pid": self.proc.pid, "start": process_start_time(self.proc.pid),
                                                "paths": [str(p) for p in cleanup_paths]})
        self.paths = [Path(p) for p in cleanup_paths]

    def stop(self, timeout: float = 10.0) -> None:
        _terminate(self.proc.pid, timeout)
        for path in self.paths:
            shutil.rmtree(path, ignore_errors=True)
        self.record.unlink(missing_ok=True)

    @staticmethod
    def cleanup_stale(kind: str) -> int:
        """Kill processes and remove folders that a crashed harness left behind; returns how many were found."""
        found = 0
        for path, data in stale_owner_records(kind):
            found += 1
            pid = int(data.get("pid", 0))
            # a pid reused by an unrelated process since is not ours to kill
            if data.get("start") is None or process_start_time(pid) == data["start"]:
                _terminate(pid, 5.0)
            for p in data.get("paths", []):
                shutil.rmtree(p, ignore_errors=True)
            path.unlink(missing_ok=True)
        return found


def _terminate(pid: int, timeout: float) -> None:
    if pid <= 0:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return
        except ChildProcessError:
            if not owner_alive(pid):
                return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def apt_install(packages: Sequence[str], check_binaries: Sequence[str] = ()) -> None:
    """Install Debian packages when missing (idempotent). Needs root; otherwise says what to run."""
    if check_binaries and all(shutil.which(b) for b in check_binaries):
        return
    missing = [p for p in packages if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if not missing:
        return
    if os.geteuid() != 0:
        raise RuntimeError(f"missing system packages {', '.join(missing)}: run `sudo apt-get install -y {' '.join(missing)}`")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing], env=env,
                           capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"apt-get install {' '.join(missing)} failed: {r.stderr.strip().splitlines()[-1:]}")
