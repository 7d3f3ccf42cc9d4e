"""Shared services (Docker engine, MariaDB, Virtuoso, browser, ...): started once per run, cleaned up even after a crash.

A service is a class registered under a name (entry-point group ``harness.services`` or :func:`register_service`)
with ``start() -> dict`` (JSON-able connection info), ``stop()`` and a classmethod ``cleanup_stale()`` that removes
what a crashed run left behind (it runs before every start). :func:`ensure` starts a service once per process tree:
its connection info is exported as ``HARNESS_SERVICE_<NAME>`` so that env worker processes reuse it.
"""
from __future__ import annotations

import atexit
import json
import os
import threading
from typing import Any

from ..registry import SERVICE_GROUP, lookup, names, register_service
from .process import (ManagedProcess, apt_install, free_port, owner_alive, runtime_dir, wait_for_port,
                      write_owner_record, stale_owner_records)

__all__ = ["ensure", "adopt", "stop_all", "register_service", "available", "ManagedProcess", "apt_install", "free_port",
           "owner_alive", "runtime_dir", "wait_for_port", "write_owner_record", "stale_owner_records", "Service"]

_started: dict[str, Any] = {}
_lock = threading.Lock()


class Service:
    """Base class (optional): subclasses set ``name`` and implement start/stop/cleanup_stale."""

    name = "service"

    def start(self) -> dict[str, Any]:
        raise NotImplementedError

    def stop(self) -> None:
        pass

    @classmethod
    def cleanup_stale(cls) -> None:
        pass


def _env_key(name: str) -> str:
    return "HARNESS_SERVICE_" + name.upper().replace("-", "_")


def available() -> list[str]:
    return names(SERVICE_GROUP)


def ensure(name: str) -> dict[str, Any]:
    """Connection info of service ``name``, starting it in this process if no parent process did."""
    key = _env_key(name)
    if key in os.environ:
        return json.loads(os.environ[key])
    with _lock:
        if key in os.environ:
            return json.loads(os.environ[key])
        try:
            cls = lookup(SERVICE_GROUP, name)
        except KeyError:
            raise KeyError(f"unknown service {name!r}; known: {', '.join(available())}") from None
        cls.cleanup_stale()
        service = cls()
        info = service.start()
        _started[name] = service
        os.environ[key] = json.dumps(info)
        return info


def adopt(name: str, info: dict[str, Any]) -> None:
    """Use service ``name`` started by another process (e.g. the per-node service actor of a Ray run): later
    :func:`ensure` calls here and in child processes return ``info`` instead of starting one."""
    os.environ[_env_key(name)] = json.dumps(info)


def stop_all() -> None:
    with _lock:
        for name, service in reversed(list(_started.items())):
            try:
                service.stop()
            finally:
                os.environ.pop(_env_key(name), None)
        _started.clear()


atexit.register(stop_all)
