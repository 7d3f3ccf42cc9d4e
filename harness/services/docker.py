"""The Docker engine: Debian's ``docker.io``; ``dockerd`` is started (detached, so it outlives one run) when none answers.

Our own daemon runs without bridge networking or iptables rules: every container the harness starts uses
``network_mode=none``, so none is needed, and it avoids depending on the host's firewall setup.

Containers the harness starts carry owner labels (:func:`owner_labels`: kind, owner pid, boot id, host name), so that
clean-up touches only what a dead owner left (:func:`remove_stale`) or what this process started (:func:`remove_own`),
never the containers of another run on the same engine. Listing and removal tolerate containers that another process
removes at the same moment.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from ..errors import UsageError
from . import Service
from .process import apt_install, owner_alive, pid_namespace, runtime_dir

SOCKET = "/var/run/docker.sock"
LABEL_KIND, LABEL_OWNER, LABEL_BOOT, LABEL_HOST = "harness.kind", "harness.owner", "harness.boot", "harness.host"
LABEL_PIDNS = "harness.pidns"


def _host() -> str:
    return os.environ.get("DOCKER_HOST") or f"unix://{SOCKET}"


def engine_answers(host: str | None = None) -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        r = subprocess.run([docker, "-H", host or _host(), "info", "--format", "{{.ServerVersion}}"],
                           capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0 and bool(r.stdout.strip())


def start_dockerd(timeout: float = 60.0) -> None:
    """Start dockerd in its own session (it keeps running after the harness exits) and wait until it answers.

    Only the default socket gets a daemon of ours: an engine named by ``DOCKER_HOST`` that does not answer is the
    user's to start. Failures raise :class:`UsageError` with one line saying what to do.
    """
    host = _host()
    if engine_answers(host):
        return
    if host != f"unix://{SOCKET}":
        raise UsageError(f"no Docker engine answers at DOCKER_HOST={host}: start that engine, or unset DOCKER_HOST "
                         "to use (and start) the local one")
    dockerd = shutil.which("dockerd")
    if not dockerd or not shutil.which("docker"):
        raise UsageError("Docker is not installed: run `harness setup --tasks os` (installs Debian's docker.io)")
    if os.geteuid() != 0:
        raise UsageError("no Docker engine answers and starting one needs root: run `sudo dockerd &` or set DOCKER_HOST")
    log = open(runtime_dir() / "dockerd.log", "ab")
    subprocess.Popen([dockerd, "-H", f"unix://{SOCKET}", "--bridge=none", "--iptables=false"],
                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(SOCKET).exists() and engine_answers():
            return
        time.sleep(0.5)
    raise UsageError(f"dockerd did not answer within {timeout:.0f} s; see {runtime_dir() / 'dockerd.log'}")


class DockerEngine(Service):
    name = "docker"

    @classmethod
    def install(cls) -> None:
        apt_install(["docker.io"], check_binaries=["dockerd", "docker"])
        start_dockerd()

    def start(self) -> dict[str, Any]:
        start_dockerd()
        return {"host": _host()}


# --- images -----------------------------------------------------------------------------------------------------------
def require_image(cli, tag: str, setup_command: str, host: str | None = None) -> None:
    """UsageError (one line) unless the engine answers and has image ``tag`` (no pull: no registry is used)."""
    import docker

    try:
        cli.images.get(tag)
    except docker.errors.ImageNotFound:
        raise UsageError(f"Docker image {tag} does not exist: run `{setup_command}` to build it") from None
    except docker.errors.DockerException as exc:  # connection refused, no such socket, engine error
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise UsageError(f"no Docker engine answers at {host or _host()} ({reason}): start it, or run "
                         f"`{setup_command}`") from None


# --- ownership labels and clean-up ------------------------------------------------------------------------------------
def boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def owner_labels(kind: str) -> dict[str, str]:
    """Labels of a container this process owns: removed by it at the end, by the next start once it is dead."""
    return {LABEL_KIND: kind, LABEL_OWNER: str(os.getpid()), LABEL_BOOT: boot_id(), LABEL_HOST: socket.gethostname(),
            LABEL_PIDNS: pid_namespace()}


def _ours(labels: dict[str, str]) -> bool:
    """Labelled on this machine, in this PID namespace (where the owner's pid can be checked)."""
    return (labels.get(LABEL_HOST, socket.gethostname()) == socket.gethostname()
            and labels.get(LABEL_PIDNS, pid_namespace()) == pid_namespace())


def owner_is_dead(labels: dict[str, str] | None) -> bool:
    """Whether the process that started a container with these labels is gone (so its leftovers may be removed).

    A container labelled by another machine (an engine shared over DOCKER_HOST, or a harness in another container)
    is never judged dead from here: its owner's pid means nothing on this machine.
    """
    labels = labels or {}
    if labels.get(LABEL_HOST, socket.gethostname()) != socket.gethostname():
        return False
    boot = labels.get(LABEL_BOOT)
    if boot is not None and boot != boot_id():
        return True  # this machine restarted since: every process of that boot is gone
    if not _ours(labels):
        return False  # a harness in another PID namespace (another container or sandbox) owns it
    try:
        owner = int(labels.get(LABEL_OWNER, "0"))
    except ValueError:
        return True
    return owner <= 0 or not owner_alive(owner)


def list_labelled(cli, kind: str, owner: int | None = None) -> list[dict[str, Any]]:
    """``[{"Id", "Labels", ...}]`` of the containers of ``kind`` (of one owner pid when given), in one engine call.

    The SDK's ``containers.list()`` inspects every listed container and raises NotFound when another process removed
    one in between; the plain list call has no such window.
    """
    labels = [f"{LABEL_KIND}={kind}"] + ([f"{LABEL_OWNER}={owner}"] if owner is not None else [])
    return cli.api.containers(all=True, filters={"label": labels})


def remove_container(cli, container_id: str) -> bool:
    """Force-remove one container; False when it is already gone or being removed by someone else."""
    import docker

    try:
        cli.api.remove_container(container_id, force=True)
        return True
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as exc:  # 409: removal already in progress (another process, or our own thread)
        if exc.status_code == 409 or "already in progress" in str(exc):
            return False
        raise


def remove_stale(cli, kind: str) -> int:
    """Remove the containers of ``kind`` whose owner is dead (a crashed or killed run); returns how many."""
    return sum(remove_container(cli, c["Id"]) for c in list_labelled(cli, kind) if owner_is_dead(c.get("Labels")))


def remove_own(cli, kind: str) -> int:
    """Remove every container of ``kind`` this process started (run end); returns how many."""
    return sum(remove_container(cli, c["Id"]) for c in list_labelled(cli, kind, owner=os.getpid())
               if _ours(c.get("Labels") or {}))
