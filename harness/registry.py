"""Registries of tasks, backends and agent strategies, filled lazily from entry points.

Built-in envs and third-party plugins register the same way: an entry point in the group ``harness.envs`` names a
callable that calls :func:`register_task` (or returns TaskSpecs). Modules named in ``HARNESS_PLUGINS``
(comma-separated) are imported too, for envs that are not installed as packages (tests, notebooks).
A plugin that fails to load is listed as broken with its reason and never hides the others.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Iterable

import gymnasium

from .errors import UsageError
from .spec import CATEGORIES, TaskSpec

ENV_GROUP = "harness.envs"
BACKEND_GROUP = "harness.backends"
AGENT_GROUP = "harness.agents"
SERVICE_GROUP = "harness.services"

_tasks: dict[str, TaskSpec] = {}
_broken: dict[str, str] = {}  # plugin name -> why it failed to load
_discovered = False
_lock = threading.RLock()


def register_task(spec: TaskSpec, *, replace: bool = False) -> TaskSpec:
    """Register a task and its Gymnasium id (``gymnasium.make("harness/<name>-v0")`` builds its default split).

    A name that is taken raises ValueError unless ``replace=True`` (a plugin that means to override a task says so);
    registering the very same spec again (a module imported twice) is a no-op.
    """
    with _lock:
        old = _tasks.get(spec.name)
        if old is not None and not replace:
            if old == spec:
                return old
            raise ValueError(f"task {spec.name!r} is already registered (env {old.env}); pass replace=True to "
                             f"register_task to override it")
        _tasks[spec.name] = spec
        if spec.gym_id in gymnasium.registry:
            del gymnasium.registry[spec.gym_id]
        gymnasium.register(id=spec.gym_id, entry_point=spec.env,
                           kwargs={"split": spec.default_split, **dict(spec.env_kwargs)}, disable_env_checker=True,
                           nondeterministic=spec.nondeterministic)
    return spec


def _load_plugin(name: str, loader) -> None:
    try:
        obj = loader()
        result = obj() if callable(obj) and not isinstance(obj, TaskSpec) else obj
        if isinstance(result, TaskSpec):
            register_task(result)
        elif isinstance(result, Iterable):
            for spec in result:
                if isinstance(spec, TaskSpec):
                    register_task(spec)
    except Exception as exc:  # a broken plugin must not break the others
        _broken[name] = f"{type(exc).__name__}: {exc}"


def _import_plugin(ref: str):
    """A module name, or a path to a ``.py`` file (imported under its stem, so its env classes resolve)."""
    if ref.endswith(".py") or os.sep in ref:
        path = os.path.abspath(ref)
        name = os.path.splitext(os.path.basename(path))[0]
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import plugin file {ref}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(ref)


def discover(force: bool = False) -> None:
    global _discovered
    with _lock:
        if _discovered and not force:
            return
        _discovered = True
        for ep in importlib.metadata.entry_points(group=ENV_GROUP):
            _load_plugin(ep.name, ep.load)
        for mod in filter(None, (m.strip() for m in os.environ.get("HARNESS_PLUGINS", "").split(","))):
            _load_plugin(mod, lambda mod=mod: _import_plugin(mod))


def tasks() -> dict[str, TaskSpec]:
    discover()
    return dict(_tasks)


def broken_plugins() -> dict[str, str]:
    discover()
    return dict(_broken)


def get_task(name: str) -> TaskSpec:
    all_tasks = tasks()
    if name not in all_tasks:
        known = ", ".join(sorted(all_tasks)) or "none"
        raise UsageError(f"unknown task {name!r}: choose from {known}, or a group (held_in, held_out, general, all)")
    return all_tasks[name]


def resolve_tasks(selection: str | Iterable[str]) -> list[TaskSpec]:
    """Names and groups (``held_in``, ``held_out``, ``general``, ``all``) -> TaskSpecs, in order, without repeats."""
    names = [s.strip() for s in (selection.split(",") if isinstance(selection, str) else selection) if s.strip()]
    if not names:
        raise UsageError("no task given: pass --tasks NAME[,NAME...] or a group (held_in, held_out, general, all)")
    out: dict[str, TaskSpec] = {}
    all_tasks = tasks()
    for name in names:
        if name == "all":
            out.update((n, s) for n, s in all_tasks.items() if s.category in CATEGORIES)
        elif name in CATEGORIES:
            out.update((n, s) for n, s in all_tasks.items() if s.category == name)
        else:
            spec = get_task(name)
            out[spec.name] = spec
    return list(out.values())


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""


def availability(spec: TaskSpec) -> Availability:
    """Whether the env's Python dependencies are importable (checked without importing them)."""
    missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
    if missing:
        return Availability(False, f"missing Python package(s): {', '.join(missing)}")
    return Availability(True)


def _entry_point(group: str, name: str):
    for ep in importlib.metadata.entry_points(group=group):
        if ep.name == name:
            return ep
    return None


def load_object(ref: str) -> Any:
    """Import ``"module:attr"``."""
    module, _, attr = ref.partition(":")
    obj = importlib.import_module(module)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


_extra: dict[str, dict[str, Any]] = {BACKEND_GROUP: {}, AGENT_GROUP: {}, SERVICE_GROUP: {}}


def register_backend(scheme: str, cls_or_ref: Any) -> None:
    _extra[BACKEND_GROUP][scheme] = cls_or_ref


def register_agent(name: str, cls_or_ref: Any) -> None:
    _extra[AGENT_GROUP][name] = cls_or_ref


def register_service(name: str, cls_or_ref: Any) -> None:
    _extra[SERVICE_GROUP][name] = cls_or_ref


def names(group: str) -> list[str]:
    found = {ep.name for ep in importlib.metadata.entry_points(group=group)}
    return sorted(found | set(_extra[group]))


def lookup(group: str, name: str) -> Any:
    """Class registered under ``name`` in ``group`` (programmatic registrations win over entry points)."""
    if name in _extra[group]:
        obj = _extra[group][name]
        return load_object(obj) if isinstance(obj, str) else obj
    ep = _entry_point(group, name)
    if ep is None:
        raise KeyError(name)
    return ep.load()
