"""The two kinds of actor a run starts on the cluster's nodes (plain classes; the session wraps them with ``ray.remote``).

:class:`EnvActor` hosts one env (the same :class:`~harness.envhandle.EnvDriver` the thread and worker-process handles
run) in its own worker process on the node Ray placed it on. :class:`NodeServices` is pinned to one node and starts
the services (MariaDB, the Docker engine, Virtuoso, ...) that the envs on that node need, once, with
:func:`harness.services.ensure` run there; the env actors on that node are handed its connection info. Both are
synchronous actors, so each method runs on the worker's main thread: a service process started by ``ensure`` (which
gets a parent-death signal) lives exactly as long as the actor's process, so a killed actor takes it along.
"""
from __future__ import annotations

import os
import socket
from typing import Any, Mapping

SERVICE_PREFIX = "HARNESS_SERVICE_"


def _apply_environment(env_vars: Mapping[str, str]) -> None:
    """The driver's HARNESS_* settings, and no service connection info inherited from elsewhere: a node's services
    are its own (a raylet started from a shell where a local run had exported its MariaDB must not reuse that)."""
    for key in [k for k in os.environ if k.startswith(SERVICE_PREFIX)]:
        del os.environ[key]
    os.environ.update({k: v for k, v in env_vars.items() if not k.startswith(SERVICE_PREFIX)})


def where() -> dict[str, Any]:
    import ray

    return {"node": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(), "pid": os.getpid()}


class NodeServices:
    def __init__(self, env_vars: Mapping[str, str]) -> None:
        _apply_environment(env_vars)

    def where(self) -> dict[str, Any]:
        return where()

    def ensure(self, name: str) -> dict[str, Any]:
        from .. import services

        return services.ensure(name)

    def stop(self) -> None:
        from .. import services

        services.stop_all()


class EnvActor:
    def __init__(self, env_vars: Mapping[str, str]) -> None:
        _apply_environment(env_vars)
        self.driver = None

    def where(self) -> dict[str, Any]:
        return where()

    def build(self, env_ref: str, split: str, data_dir: str | None, env_kwargs: dict[str, Any],
              service_info: Mapping[str, dict[str, Any]]) -> None:
        from .. import services
        from ..envhandle import EnvDriver
        from ..registry import discover

        for name, info in service_info.items():
            services.adopt(name, info)
        discover()  # plugin files named in HARNESS_PLUGINS register their modules, so their env classes import
        self.driver = EnvDriver(env_ref, split, data_dir, env_kwargs)

    def handle(self, method: str, args: tuple) -> Any:
        return self.driver.handle(method, args)

    def close(self) -> None:
        if self.driver is not None:
            try:
                self.driver.env.close()
            finally:
                self.driver = None
