"""Runs a Python program in a throw-away Docker container: no network, no privileges, time/memory/PID limits.

Every container carries the owner labels of ``harness.services.docker.owner_labels`` (``harness.kind=humaneval``,
``harness.owner=<pid>``, boot id, host name); the owning process also leaves an owner record
(``harness.services.write_owner_record``), so that containers a crashed run left behind are removed by
:func:`cleanup_stale` the next time a sandbox starts, and those of a live run on the same engine are left alone.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from harness.services import docker as D
from harness.services import ensure, stale_owner_records, write_owner_record

KIND = "humaneval"
LABEL_KIND, LABEL_OWNER = D.LABEL_KIND, D.LABEL_OWNER
DEFAULT_IMAGE = "harness/humaneval-python"


@dataclass
class RunResult:
    passed: bool
    outcome: str  # passed | failed | timeout | oom | error
    exit_code: int | None
    output: str
    seconds: float


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall time of the python process (human-eval itself uses 3 s; see README of the env)
    memory: str = "512m"  # RAM, with no swap on top
    pids: int = 64
    cpus: float = 1.0
    output_bytes: int = 4000  # how much of the output is kept in the record
    program_bytes: int = 120_000  # the program travels as one argv string (Linux caps one at 128 KiB)


def _client(host: str):
    import docker  # heavy, imported when a sandbox is first used

    return docker.DockerClient(base_url=host, timeout=120)


def cleanup_stale(client=None) -> int:
    """Remove sandbox containers whose owning process is gone (after a crash); returns how many were removed."""
    client = client or _client(ensure("docker")["host"])
    removed = D.remove_stale(client, KIND)
    for path, _ in stale_owner_records(f"{KIND}-sandbox"):
        path.unlink(missing_ok=True)
    return removed


class Sandbox:
    """One per env instance (thread-safe): each :meth:`run` gets a fresh container that is removed afterwards."""

    _cleaned = False
    _cleaned_lock = threading.Lock()

    def __init__(self, image: str = DEFAULT_IMAGE, limits: Limits | None = None) -> None:
        self.image = image
        self.limits = limits or Limits()
        self.client = _client(ensure("docker")["host"])
        with Sandbox._cleaned_lock:
            if not Sandbox._cleaned:
                cleanup_stale(self.client)
                Sandbox._cleaned = True
        self.record = write_owner_record(f"{KIND}-sandbox", {"label": f"{LABEL_OWNER}={os.getpid()}"})

    def run(self, program: str) -> RunResult:
        lim = self.limits
        start = time.monotonic()
        if len(program.encode("utf-8")) > lim.program_bytes:
            return RunResult(False, "error", None, f"program longer than {lim.program_bytes} bytes", 0.0)
        # the in-container `timeout` kills python; the outer wait is a backstop for a stuck container.
        # The program is an argv string, so the root filesystem can stay read-only (no copy into the container).
        container = self.client.containers.run(
            self.image,
            command=["timeout", "-s", "KILL", f"{lim.timeout_s:g}", "python3", "-c", program],
            network_mode="none",
            mem_limit=lim.memory,
            memswap_limit=lim.memory,
            pids_limit=lim.pids,
            nano_cpus=int(lim.cpus * 1e9),
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            user="65534:65534",
            read_only=True,
            tmpfs={"/tmp": "size=16m,mode=1777"},
            log_config={"type": "json-file", "config": {"max-size": "1m", "max-file": "1"}},  # no disk fill by output
            working_dir="/tmp",
            labels=D.owner_labels(KIND),
            detach=True,
        )
        try:
            try:
                status = container.wait(timeout=lim.timeout_s + 30)
                code = int(status.get("StatusCode", -1))
            except Exception:  # requests' ReadTimeout: the container did not end on its own
                container.kill()
                code = None
            state = container.attrs if code is None else _inspect(container)
            output = container.logs(stdout=True, stderr=True)[-lim.output_bytes:].decode("utf-8", "replace")
        finally:
            D.remove_container(self.client, container.id)
        seconds = time.monotonic() - start
        oom = bool(state.get("State", {}).get("OOMKilled"))
        if code == 0:
            outcome = "passed"
        elif oom:
            outcome = "oom"
        elif code in (None, 124, 137):  # 137: SIGKILL from `timeout -s KILL` (or the kernel's OOM killer)
            outcome = "timeout" if seconds >= lim.timeout_s else "oom"
        else:
            outcome = "failed"
        return RunResult(code == 0, outcome, code, output, seconds)

    def close(self) -> None:
        self.record.unlink(missing_ok=True)
        self.client.close()


def _inspect(container) -> dict:
    container.reload()
    return container.attrs

