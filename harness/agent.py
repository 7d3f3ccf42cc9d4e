"""Agent strategies: how a model talks to an env for one episode (default: the chat agent in ``agents``).

The runner gives a strategy an :class:`EpisodeContext`; env calls are awaitables that run off the event loop
(threads or worker processes), model calls go to the backend. The strategy returns an :class:`EpisodeOutcome`.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Sequence

from .backend import Backend, Completion, EpisodeKey, Request
from .spec import TaskSpec


class EnvHandle(abc.ABC):
    """An env living in a thread or a worker process, driven with awaitables."""

    @abc.abstractmethod
    async def reset(self, index: int) -> tuple[str, dict[str, Any]]: ...

    @abc.abstractmethod
    async def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]: ...

    @abc.abstractmethod
    async def oracle_next(self, index: int, observation: str | None) -> str:
        """The env's next gold action (from ``oracle_actions``); the empty string once they run out."""

    @abc.abstractmethod
    async def call(self, method: str, *args: Any) -> Any:
        """Call another method of the env (for strategies that need more than reset/step)."""


@dataclass
class EpisodeContext:
    spec: TaskSpec
    key: EpisodeKey
    env: EnvHandle
    backend: Backend
    judge: Backend | None
    options: dict[str, Any]  # agent options from the command line / config (--agent-option k=v)
    complete: Callable[[Request], Awaitable[Completion]]  # backend.complete with timeouts and usage accounting
    #: backend.choose (option log-probabilities) with timeouts and usage accounting; None outside the runner
    choose: Callable[[Request, Sequence[str]], Awaitable[list[float]]] | None = None
    epoch: int = 0  # which run of this episode (--epochs)


@dataclass
class EpisodeOutcome:
    status: str
    reward: float
    messages: list[dict[str, str]]
    turns: int
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class AgentStrategy(abc.ABC):
    #: the ``--agent-option`` keys this strategy reads; only these go into the configuration hash of its tasks.
    #: None: every option given (a strategy that does not say).
    option_names: tuple[str, ...] | None = None
    #: options among them that never change an outcome (pauses, display): left out of the hash
    unhashed_options: tuple[str, ...] = ()
    #: the strategy calls the judge model (``ctx.judge``); the judge then goes into its tasks' configuration hash
    uses_judge: bool = False

    def __init__(self, **options: Any) -> None:
        self.options = options

    @abc.abstractmethod
    async def run(self, ctx: EpisodeContext) -> EpisodeOutcome: ...
