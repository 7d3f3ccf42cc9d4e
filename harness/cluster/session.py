"""One run's hold on a Ray cluster: the connection, the per-node service actors, the env actors and their ledger.

``--ray`` with no address starts a local single-node Ray instance (it advertises every resource the selected tasks
declare, so a run behaves as the same run without Ray); ``--ray auto`` joins the cluster this machine belongs to
(``ray start`` was run here); ``--ray ray://HOST:10001`` goes through Ray Client; ``--ray HOST:6379`` joins by the
head's GCS address. Every actor lives in a namespace of its own (``harness-<host>-<pid>-<random>``), so concurrent
runs on one cluster never share services.

The driver's ``HARNESS_*`` settings (data folder, plugins, runtime folder, a user's MySQL or SPARQL URL) and the
environment variables the selected tasks name as ``endpoints`` reach every actor as constructor arguments;
``HARNESS_SERVICE_*`` (a service's connection info on the driver's machine) never does.
"""
from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import os
import secrets
import socket
import time
from typing import Any, Iterable

from ..envhandle import EnvCallError
from ..errors import UsageError
from ..spec import TaskSpec
from .actors import SERVICE_PREFIX, EnvActor, NodeServices
from .handle import EnvLost, RayEnvHandle, is_lost, unwrap
from .placement import Capacity, actor_options, missing

LOCAL = "local"  # RunConfig.ray for "start a local Ray instance"
NODE_REFRESH_S = 2.0
#: a node on which an env actor was lost counts as gone this long (Ray's own health checks take seconds to agree),
#: so that no new env waits there for resources that will never come back
QUARANTINE_S = 30.0
STOP_TIMEOUT_S = 60.0


def _import_ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install -e '.[ray]' (the same version on every node)") from None
    return ray


def forwarded_environment(tasks: Iterable[TaskSpec]) -> dict[str, str]:
    """What the driver hands every actor: HARNESS_* (less service connection info) and the tasks' endpoints."""
    env = {k: v for k, v in os.environ.items() if k.startswith("HARNESS_") and not k.startswith(SERVICE_PREFIX)}
    for spec in tasks:
        for name in spec.endpoints:
            if name in os.environ:
                env[name] = os.environ[name]
    return env


def local_resources(tasks: Iterable[TaskSpec]) -> dict[str, float]:
    """Custom resources a local Ray instance advertises: room for every selected task's envs at once."""
    out: dict[str, float] = {}
    for spec in tasks:
        for k, v in spec.resources.items():
            if k not in ("CPU", "GPU", "memory"):
                out[k] = out.get(k, 0.0) + float(v) * spec.concurrency
    return out


def connect(address: str, tasks: list[TaskSpec]) -> "RaySession":
    return RaySession(address, tasks)


class RaySession:
    def __init__(self, address: str, tasks: list[TaskSpec]) -> None:
        ray = self.ray = _import_ray()
        self.address = address
        self.env_vars = forwarded_environment(tasks)
        self.own = not ray.is_initialized()
        if self.own:
            self.namespace = f"harness-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
            # the settings travel as actor arguments, not as a runtime environment: actors then start in the workers
            # Ray keeps warm instead of fresh processes of their own
            kwargs: dict[str, Any] = dict(namespace=self.namespace, log_to_driver=False,
                                          logging_level=logging.WARNING)
            if address in ("", LOCAL):
                kwargs.update(num_cpus=os.cpu_count() or 1, resources=local_resources(tasks),
                              include_dashboard=False, object_store_memory=256 << 20)
            else:
                kwargs["address"] = address
            # joined from a worker thread, so that Ray leaves the main thread's SIGTERM handler (the CLI's: stop,
            # clean up, exit 130) alone; Ray says so in a warning that means nothing here
            quiet = logging.getLogger("ray._private.worker")
            level = quiet.level
            quiet.setLevel(logging.ERROR)
            try:
                ray.init(**kwargs)
            except Exception as exc:  # no cluster at that address, a version mismatch, ...
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                raise UsageError(f"--ray {address or ''}: cannot join the Ray cluster ({type(exc).__name__}: {first});"
                                 f" start one with `ray start --head` or give its address") from None
            finally:
                quiet.setLevel(level)
        else:
            self.namespace = ray.get_runtime_context().namespace
        self.capacity = Capacity(tasks)
        self._refreshed = 0.0
        self._quarantine: dict[str, float] = {}  # node id -> until when it counts as gone
        self.refresh_nodes()
        self._env_cls = ray.remote(EnvActor)
        self._services_cls = ray.remote(NodeServices)
        self._actors: set = set()
        self._nodes: dict[str, tuple[Any, dict[str, dict[str, Any]]]] = {}  # node id -> (services actor, infos)
        self._locks: dict[str, asyncio.Lock] = {}
        self._names = itertools.count()
        self._closed = False
        atexit.register(self.close)

    # --- resources ----------------------------------------------------------------------------------------------------
    def refresh_nodes(self) -> None:
        now = time.monotonic()
        self._quarantine = {k: t for k, t in self._quarantine.items() if t > now}
        nodes = [n.get("Resources") or {} for n in self.ray.nodes()
                 if n.get("Alive") and n.get("NodeID") not in self._quarantine]
        self.capacity.update_nodes(nodes)
        self._refreshed = now

    def node_lost(self, node: str | None) -> None:
        """An env actor on ``node`` was lost: count the node as gone for a while (see QUARANTINE_S)."""
        if node:
            self._quarantine[node] = time.monotonic() + QUARANTINE_S
        self._refreshed = 0.0

    def check(self, spec: TaskSpec) -> None:
        """UsageError when no node of the cluster can host one env of ``spec``."""
        lacking = missing(self.capacity.nodes, spec.resources)
        if lacking:
            flags = {"CPU": "--num-cpus", "GPU": "--num-gpus", "memory": "--memory"}
            own = [f"{flags[k]}={spec.resources[k]:g}" for k in lacking if k in flags]
            custom = {k: 8 for k in lacking if k not in flags}
            how = " ".join(own + ([f"--resources='{_json(custom)}'"] if custom else []))
            raise UsageError(f"task {spec.name!r} needs {', '.join(f'{k}={spec.resources[k]:g}' for k in lacking)} "
                             f"per env and no node of the Ray cluster advertises that: start a node that has it with "
                             f"`ray start --address=HEAD:6379 {how}`")

    def limit(self, spec: TaskSpec) -> int | None:
        return self.capacity.limit(spec)

    def has_room(self, spec: TaskSpec) -> bool:
        if time.monotonic() - self._refreshed > NODE_REFRESH_S:
            self.refresh_nodes()
        return self.capacity.has_room(spec)

    # --- env actors ---------------------------------------------------------------------------------------------
    async def new_handle(self, spec: TaskSpec, split: str, data_dir: str | None,
                         timeout: float | None = None) -> RayEnvHandle:
        needs = dict(spec.resources)
        self.capacity.take(needs)
        actor = self._env_cls.options(name=f"env-{spec.name}-{next(self._names)}", namespace=self.namespace,
                                      scheduling_strategy="SPREAD", max_restarts=0, max_task_retries=0,
                                      **actor_options(needs)).remote(self.env_vars)
        self._actors.add(actor)
        released = False

        def release(lost: bool = False) -> None:
            nonlocal released
            if lost:
                self.node_lost(info.get("node"))
            if not released:
                released = True
                self.capacity.give_back(needs)
                self._actors.discard(actor)

        info: dict[str, Any] = {}
        try:
            async with asyncio.timeout(timeout):
                info = await actor.where.remote()
                service_info = await self._services(info["node"], spec.services)
                await actor.build.remote(spec.env, split, data_dir, dict(spec.env_kwargs), service_info)
        except BaseException as exc:
            self.ray.kill(actor, no_restart=True)
            release(isinstance(exc, Exception) and is_lost(exc))
            if isinstance(exc, TimeoutError):
                raise EnvCallError(f"the env actor did not start its env within {timeout:.0f} s (is there a node "
                                   f"with {actor_options(needs)} free?)") from None
            if isinstance(exc, Exception) and isinstance(exc, self.ray.exceptions.RayError):
                where = f" on node {info['node']}" if info.get("node") else ""
                exc = unwrap(exc, where)
            if isinstance(exc, Exception) and info.get("node"):
                exc.node = info["node"]  # the error record says where it happened
            raise exc from None
        return RayEnvHandle(actor, info, release)

    async def _services(self, node: str, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        names = list(names)
        if not names:
            return {}
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        async with self._locks.setdefault(node, asyncio.Lock()):
            if node not in self._nodes:
                actor = self._services_cls.options(
                    name=f"services-{node[:16]}", namespace=self.namespace, num_cpus=0, max_restarts=0,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node, soft=False),
                ).remote(self.env_vars)
                self._nodes[node] = (actor, {})
            actor, infos = self._nodes[node]
            for name in names:
                if name in infos:
                    continue
                try:
                    infos[name] = await actor.ensure.remote(name)
                except Exception as exc:
                    if is_lost(exc):
                        self._nodes.pop(node, None)
                        self.node_lost(node)
                        raise EnvLost(f"the service actor of node {node} is gone: {type(exc).__name__}") from None
                    cause = getattr(exc, "cause", exc)
                    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]
                    raise EnvCallError(f"service {name} failed to start on node {node}: {first}") from None
            return {n: infos[n] for n in names}

    # --- the end ------------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close every env still open, stop each node's services, kill the actors; disconnect (a local Ray stops)."""
        if self._closed:
            return
        self._closed = True
        ray = self.ray
        if not ray.is_initialized():
            return
        actors = list(self._actors)
        _wait_quietly(ray, [a.close.remote() for a in actors], 10.0)  # envs release containers and databases
        for actor in actors:
            _kill_quietly(ray, actor)
        _wait_quietly(ray, [services.stop.remote() for services, _ in self._nodes.values()], STOP_TIMEOUT_S)
        for services, _ in self._nodes.values():
            _kill_quietly(ray, services)
        self._nodes.clear()
        self._actors.clear()
        if self.own:
            ray.shutdown()
        atexit.unregister(self.close)


def _wait_quietly(ray, refs: list, timeout: float) -> None:
    if refs:
        try:
            ray.wait(refs, num_returns=len(refs), timeout=timeout)
        except Exception:
            pass


def _kill_quietly(ray, actor) -> None:
    try:
        ray.kill(actor, no_restart=True)
    except Exception:
        pass


def _json(obj: dict) -> str:
    import json

    return json.dumps(obj)
