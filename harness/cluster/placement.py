"""Placement by resources: what a task's env needs (``TaskSpec.resources``) against what nodes advertise.

A task declares what ONE of its envs holds on its node while it lives, e.g. ``{"docker": 1}`` (one container at a
time), ``{"mysql": 1}``, ``{"browser": 1}``, ``{"jvm": 1, "CPU": 1}``. A node advertises how many such envs it can
host: ``ray start --resources='{"docker": 16}'`` for sixteen OS or HumanEval envs at once. ``CPU``, ``GPU`` and
``memory`` (bytes) are Ray's own resources; every other name is a Ray custom resource. Ray places each env actor on
a node that has the resources free (spreading actors over the nodes that qualify), so a node without ``docker``
never runs an OS episode.

The driver admits a new env only while the cluster has room for it (:class:`Capacity`), so that an episode never
waits for an actor Ray cannot place yet while finished envs sit idle in the task's pool.
"""
from __future__ import annotations

import math
import threading
from typing import Any, Iterable, Mapping

from ..spec import TaskSpec

RAY_OWN = {"CPU": "num_cpus", "GPU": "num_gpus", "memory": "memory"}


def actor_options(needs: Mapping[str, float]) -> dict[str, Any]:
    """Ray ``.options(...)`` for an env actor that needs ``needs`` (no CPU unless asked: envs mostly wait)."""
    opts: dict[str, Any] = {"num_cpus": float(needs.get("CPU", 0.0))}
    if needs.get("GPU"):
        opts["num_gpus"] = float(needs["GPU"])
    if needs.get("memory"):
        opts["memory"] = float(needs["memory"])
    custom = {k: float(v) for k, v in needs.items() if k not in RAY_OWN}
    if custom:
        opts["resources"] = custom
    return opts


def fits(node: Mapping[str, float], needs: Mapping[str, float]) -> int | None:
    """How many envs with ``needs`` a node with ``node`` resources hosts at once (None: unbounded)."""
    counts = [math.floor(float(node.get(k, 0.0)) / float(v) + 1e-9) for k, v in needs.items() if float(v) > 0]
    return min(counts) if counts else None


def missing(nodes: Iterable[Mapping[str, float]], needs: Mapping[str, float]) -> list[str]:
    """Resources of ``needs`` that no node offers enough of for one env."""
    nodes = list(nodes)
    return [k for k, v in needs.items() if float(v) > 0 and not any(float(n.get(k, 0.0)) >= float(v) for n in nodes)]


class Capacity:
    """The driver's own ledger of what its env actors hold, against the totals of the nodes that are alive.

    ``limit(spec)`` is the task's share of the cluster (tasks that need the same resource split it evenly, so that one
    long task never starves another); ``has_room(spec)`` says whether one more env of that task can be placed now.
    """

    def __init__(self, tasks: Iterable[TaskSpec]) -> None:
        self.tasks = list(tasks)
        self.nodes: list[dict[str, float]] = []  # totals of the alive nodes
        self.in_use: dict[str, float] = {}
        self._lock = threading.Lock()

    def update_nodes(self, nodes: list[dict[str, float]]) -> None:
        self.nodes = [dict(n) for n in nodes]

    def _sharers(self, spec: TaskSpec) -> int:
        names = {k for k, v in spec.resources.items() if float(v) > 0}
        return max(1, sum(1 for t in self.tasks if names & {k for k, v in t.resources.items() if float(v) > 0}))

    def limit(self, spec: TaskSpec) -> int | None:
        """How many envs of this task may live at once (None: no resource bounds it)."""
        per_node = [fits(n, spec.resources) for n in self.nodes]
        if not spec.resources or any(f is None for f in per_node):
            return None
        total = sum(f for f in per_node if f is not None)
        return max(1, total // self._sharers(spec)) if total else 0

    def has_room(self, spec: TaskSpec) -> bool:
        with self._lock:
            for k, v in spec.resources.items():
                total = sum(float(n.get(k, 0.0)) for n in self.nodes)
                if self.in_use.get(k, 0.0) + float(v) > total + 1e-9:
                    return False
            return True

    def take(self, needs: Mapping[str, float]) -> None:
        with self._lock:
            for k, v in needs.items():
                self.in_use[k] = self.in_use.get(k, 0.0) + float(v)

    def give_back(self, needs: Mapping[str, float]) -> None:
        with self._lock:
            for k, v in needs.items():
                self.in_use[k] = max(0.0, self.in_use.get(k, 0.0) - float(v))
