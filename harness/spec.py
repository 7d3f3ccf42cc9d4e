"""TaskSpec: everything the runner and scorer need to know about a task, without importing its env."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

CATEGORIES = ("held_in", "held_out", "general")
#: categories outside the paper's table: "test" (test-only envs), "other" (stand-ins, variants, plugins' own tasks)
EXTRA_CATEGORIES = ("test", "other")


@dataclass(frozen=True)
class Generation:
    """Sampling settings sent with every model request of a task (the paper's defaults: greedy, 128 new tokens)."""

    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()


def mean_reward_percent(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    """Default aggregate: mean of the episode rewards, in percent."""
    if not records:
        return 0.0, {}
    return 100.0 * sum(float(r["reward"]) for r in records) / len(records), {}


@dataclass(frozen=True)
class TaskSpec:
    """A task as the registry knows it.

    ``env`` is ``"module:Class"`` of a ``gymnasium.Env``; it is imported only when an episode runs, so that an
    env whose optional dependencies are missing can still be listed (as unavailable, with ``requires``).
    The env class is constructed as ``Class(split=..., data_dir=..., **env_kwargs)``.
    """

    name: str
    category: str  # held_in | held_out | general (the paper's groups) | test | other (never in a group)
    env: str
    splits: Mapping[str, int]  # split name -> number of episodes (as upstream; the env's own count wins at run time)
    default_split: str
    metric: str  # name of the main metric, e.g. "success rate", "F1"
    description: str = ""
    aggregate: Callable[[Sequence[Mapping[str, Any]]], tuple[float, dict[str, Any]]] = mean_reward_percent
    weight: float | None = None  # the paper's normalizer W_t; None: looked up in harness.paper, else not normalized
    unit: str = "%"  # unit of the score (MT-Bench: "1-10")
    scale: float = 100.0  # a reward of 1.0 is worth this many score units (percent: 100; MT-Bench's 1-10: 10)
    decimals: int = 1  # digits shown in tables (the paper prints WebArena and MT-Bench with 2)
    group_by: str | None = None  # the episode fact whose group means the metric averages (stratified bootstrap)
    #: the main metric is ``scale`` x the mean episode reward (the aggregate only adds breakdowns), so intervals take
    #: the vectorized bootstrap instead of calling the aggregate once per resample
    mean_score: bool = False
    success_threshold: float = 1.0  # reward at which an episode counts as a success (pass@k, pass^k)
    export_min_reward: float = 1.0  # trajectories kept by `harness export` (AgentInstruct's rule; Mind2Web 2/3)
    #: splits whose scores never enter the paper's table or a category overall (fixtures, stand-ins); such runs are
    #: shown among the other tasks only
    offtable_splits: tuple[str, ...] = ()
    version: str = "1"  # bump when the env's protocol changes outcomes (goes into the configuration hash)
    #: environment variables whose values change outcomes (endpoint URLs); their values go into the hash
    endpoints: tuple[str, ...] = ()
    generation: Generation = field(default_factory=Generation)
    concurrency: int = 16  # safe number of episodes at once
    thread_safe: bool = True  # False: episodes run in worker processes
    services: tuple[str, ...] = ()  # names in harness.services
    #: what one env holds on its node while it lives, for placement on a Ray cluster (``--ray``): Ray's own
    #: ``CPU``/``GPU``/``memory`` and custom resources nodes advertise, e.g. {"docker": 1} (see harness.cluster)
    resources: Mapping[str, float] = field(default_factory=dict)
    requires: tuple[str, ...] = ()  # importable Python modules the env needs
    data: tuple[str, ...] = ()  # paths under HARNESS_DATA that must exist
    agent: str = "chat"  # agent strategy name (entry-point group harness.agents)
    needs_judge: bool = False  # the agent strategy needs --judge MODEL
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    max_turns: int | None = None  # informational; the env enforces its own round limit
    substitute: bool = False  # True when this task is not the paper's setting (category shown partial)
    #: the same seed and actions need not give the same observations (a live browser: Chromium numbers accessibility
    #: nodes as it creates them); Gymnasium's env checker then skips its determinism checks
    nondeterministic: bool = False
    setup: str | None = None  # "module:function", idempotent: installs/builds what the env needs (harness setup)

    @property
    def gym_id(self) -> str:
        return f"harness/{self.name}-v0"

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES + EXTRA_CATEGORIES:
            raise ValueError(f"TaskSpec {self.name!r}: category must be one of {CATEGORIES + EXTRA_CATEGORIES}")
        if self.default_split not in self.splits:
            raise ValueError(f"TaskSpec {self.name!r}: default_split {self.default_split!r} not in splits")
