"""Confined task containers, a warm pool of them, and their cleanup (episode end, run end, next start after a crash).

Every container is labelled with the owning process id (and this boot's id and host name); whoever starts a pool first
removes labelled containers whose owner is dead, so a harness killed with SIGKILL leaves nothing behind after its next
start, while the containers of another live run on the same engine stay untouched.
"""
from __future__ import annotations

import atexit
import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import docker
from docker.types import Ulimit

from harness.services import docker as D

KIND = "os-interaction"
LABEL_KIND, LABEL_OWNER = D.LABEL_KIND, D.LABEL_OWNER


@dataclass(frozen=True)
class Limits:
    """Resource limits of one task container (upstream set none; these keep a model's bash harmless)."""

    memory: str = "512m"
    cpus: float = 1.0
    pids: int = 256
    file_size: int = 512 * 1024 * 1024  # RLIMIT_FSIZE: largest file a process may write


def run_kwargs(image: str, limits: Limits) -> dict[str, Any]:
    """``containers.run`` arguments: upstream's interactive ``bash`` container, plus the confinement."""
    return dict(
        image=image, command=["bash"], detach=True, tty=True, stdin_open=True,
        labels=D.owner_labels(KIND),
        network_mode="none", privileged=False, cap_drop=["NET_RAW", "MKNOD", "SYS_CHROOT"],
        mem_limit=limits.memory, memswap_limit=limits.memory, nano_cpus=int(limits.cpus * 1e9),
        pids_limit=limits.pids, ulimits=[Ulimit(name="fsize", soft=limits.file_size, hard=limits.file_size)],
        volumes={}, mounts=[],
        log_config={"type": "none"},  # nothing reads the containers' own output; no log copier per container
    )


def client(host: str | None = None, timeout: int = 120) -> docker.DockerClient:
    return docker.DockerClient(base_url=host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock",
                               timeout=timeout)


def remove_stale(cli: docker.DockerClient) -> int:
    """Remove task containers whose owning process is gone (a crashed or killed harness); returns how many.
    Containers of live runs (this one or another on the same engine) are left alone."""
    return D.remove_stale(cli, KIND)


def remove_own(cli: docker.DockerClient) -> int:
    """Remove every task container this process started (run end)."""
    return D.remove_own(cli, KIND)


def _force_remove(container) -> None:
    D.remove_container(container.client, container.id)


class Pool:
    """Warm task containers of one image, each with its login shell already open and ready (upstream opens the shell
    right after the container starts, before init: the same order, done ahead of the episode). ``take`` hands out a
    ``(container, shell)`` pair, or starts one itself when the pool is empty.

    ``size=0`` disables the warm pool: every episode waits for its own ``docker run`` and shell. ``fillers`` threads
    refill it, so that container starts overlap each other and the episodes' own work.
    """

    def __init__(self, cli: docker.DockerClient, image: str, size: int, limits: Limits, fillers: int = 2) -> None:
        self.cli, self.image, self.size, self.limits = cli, image, size, limits
        self.ready: queue.Queue = queue.Queue()
        self._cv = threading.Condition()
        self._starting = 0
        self._closed = False
        self._removing: list[threading.Thread] = []
        self._threads = [threading.Thread(target=self._fill, name=f"os-pool-{image}-{i}", daemon=True)
                         for i in range(min(size, max(1, fillers)))]
        for t in self._threads:
            t.start()

    def start_container(self):
        return self.cli.containers.run(**run_kwargs(self.image, self.limits))

    def _start(self):
        from .shell import Shell
        container = self.start_container()
        try:
            return container, Shell(self.cli.api, container.id)
        except BaseException:
            _force_remove(container)
            raise

    def _fill(self) -> None:
        while True:
            with self._cv:
                if self._closed:
                    return
                if self.ready.qsize() + self._starting >= self.size:
                    self._cv.wait(0.5)
                    continue
                self._starting += 1
            try:
                item = self._start()
            except Exception:  # engine hiccup: retry later, take() falls back to a direct start
                time.sleep(1.0)
                continue
            finally:
                with self._cv:
                    self._starting -= 1
            if self._closed:
                self._discard(item)
                return
            self.ready.put(item)

    def take(self):
        """A ``(container, shell)`` pair: warm when one is ready, else started now."""
        try:
            item = self.ready.get_nowait()
        except queue.Empty:
            item = None
        with self._cv:
            self._cv.notify()
        return item if item is not None else self._start()

    def _discard(self, item) -> None:
        container, shell = item
        shell.close()
        _force_remove(container)

    def release(self, container, wait: bool = False) -> None:
        """Remove an episode's container (in the background unless ``wait``)."""
        if wait:
            _force_remove(container)
            return
        t = threading.Thread(target=_force_remove, args=(container,), daemon=True)
        t.start()
        self._removing = [x for x in self._removing if x.is_alive()] + [t]

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        for t in self._threads:
            t.join(timeout=120)
        while True:
            try:
                self._discard(self.ready.get_nowait())
            except queue.Empty:
                break
        for t in self._removing:
            t.join(timeout=60)


_pools: dict[tuple[str, str, int, Limits], Pool] = {}
_users: dict[tuple[str, str, int, Limits], int] = {}
_lock = threading.Lock()
_cleaned: set[str] = set()


def get_pool(host: str, image: str, size: int, limits: Limits) -> Pool:
    """The process-wide pool for (engine, image, size, limits); the first call also removes stale containers.
    Each call counts one user of the pool until :func:`release_pool`; the last release closes it."""
    key = (host, image, size, limits)
    with _lock:
        if key not in _pools:
            cli = client(host)
            if host not in _cleaned:
                remove_stale(cli)
                _cleaned.add(host)
            _pools[key] = Pool(cli, image, size, limits)
        _users[key] = _users.get(key, 0) + 1
        return _pools[key]


def release_pool(pool: Pool) -> None:
    """One user is done with ``pool``; the last one closes it, so that no warm container outlives its envs."""
    with _lock:
        key = next((k for k, p in _pools.items() if p is pool), None)
        if key is None:
            return
        _users[key] -= 1
        if _users[key] > 0:
            return
        del _pools[key], _users[key]
    pool.close()


def close_pools() -> None:
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
        _users.clear()
    for p in pools:
        p.close()
    for host in list(_cleaned):
        try:
            remove_own(client(host))
        except Exception:
            pass


atexit.register(close_pools)
