"""Base class for text environments: the Gymnasium env contract of ARCHITECTURE.md with its bookkeeping done once.

A subclass implements ``_load(split)`` (the episode records), ``_reset(record)`` (opening messages) and
``_step(action)`` (the protocol); the base class keeps the conversation, counts rounds and builds ``info``.
Envs are free to subclass ``gymnasium.Env`` directly instead, as long as they honour the contract.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import gymnasium
from gymnasium import spaces

from . import status as S
from .data import data_dir

class UnicodeText(spaces.Text):
    """Any ``str`` (every Unicode character, any length): model replies and observations are free text.

    Gymnasium's ``Text`` checks each character against a finite charset; here membership is only "is a str". Samples
    (used by ``gymnasium.utils.env_checker``) are short strings of printable ASCII.
    """

    def __init__(self, sample_length: int = 32) -> None:
        super().__init__(max_length=sample_length, min_length=0,
                         charset=frozenset(chr(c) for c in range(32, 127)))

    def contains(self, x: Any) -> bool:
        return isinstance(x, str)

    def __repr__(self) -> str:
        return "UnicodeText()"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, UnicodeText)


_TEXT = UnicodeText()


@dataclass
class StepResult:
    """What ``_step`` returns. ``done`` ends the episode with ``status``; ``reward`` is the final score when done."""

    observation: str = ""
    done: bool = False
    reward: float = 0.0
    status: str = S.COMPLETED
    metrics: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, str]] | None = None  # set only by envs that rewrite the conversation


class TextEnv(gymnasium.Env):
    metadata = {"render_modes": []}
    observation_space = _TEXT
    action_space = _TEXT
    #: round limit (model replies per episode); the episode ends with task_limit_reached after that many
    max_rounds: int | None = None

    def __init__(self, split: str, data_dir: str | Path | None = None, **kwargs: Any) -> None:
        self.split = split
        self.data_dir = Path(data_dir) if data_dir else _default_data_dir()
        self.options = kwargs
        self.records: Sequence[Any] = self._load(split)
        self.index: int | None = None
        #: wall-clock measurements of the current episode (container ready, database setup, ...): kept out of
        #: ``info`` so that equal actions give equal infos (Gymnasium's determinism check); the runner records them
        self.timings: dict[str, float] = {}
        self.rounds = 0
        self.messages: list[dict[str, str]] = []
        self.done = True

    # --- to implement -------------------------------------------------------------------------------------------
    def _load(self, split: str) -> Sequence[Any]:
        raise NotImplementedError

    def _reset(self, record: Any) -> list[dict[str, str]]:
        """Opening conversation; the last message is the first observation (role user)."""
        raise NotImplementedError

    def _step(self, action: str) -> StepResult:
        raise NotImplementedError

    def _evaluate_on_limit(self) -> tuple[float, dict[str, Any]]:
        """Score when the round limit ends the episode (most tasks: 0; some judge the final state anyway)."""
        return 0.0, {}

    def episode_facts(self, index: int) -> dict[str, Any]:
        """What the task data says about episode ``index`` before it runs: the facts a scorer groups by (question
        type, level, task type, category). The runner records them in the record's ``facts``, so an episode that fails
        or is cut short still lands in its true group. JSON-able values only."""
        return {}

    def oracle_actions(self, index: int) -> list[str] | Iterator[str]:
        """Gold replies; a generator may receive each observation through ``send``."""
        raise NotImplementedError(f"{type(self).__name__} has no oracle")

    def _close_episode(self) -> None:
        """Release what the episode holds (container, database, ...). Called once per episode and on close()."""

    # --- the Gymnasium contract -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if not self.done:
            self._close_episode()
        index = int((options or {}).get("index", 0))
        if not 0 <= index < len(self.records):
            raise IndexError(f"episode index {index} out of range 0..{len(self.records) - 1} for split {self.split!r}")
        self.index, self.rounds, self.done = index, 0, False
        self.timings = {}
        self.messages = [dict(m) for m in self._reset(self.records[index])]
        observation = self.messages[-1]["content"]
        return observation, {"messages": [dict(m) for m in self.messages]}

    def step(self, action: str):
        if self.done:
            raise RuntimeError("step() called on a finished episode: call reset() first")
        self.rounds += 1
        self.messages.append({"role": "assistant", "content": action})
        try:
            result = self._step(action)
        except Exception as exc:  # an env failure is an episode status, never a crash of the run
            result = StepResult(done=True, status=S.TASK_ERROR, metrics={"error": f"{type(exc).__name__}: {exc}"})
        if not result.done and self.max_rounds is not None and self.rounds >= self.max_rounds:
            reward, metrics = self._evaluate_on_limit()
            result = StepResult(observation=result.observation, done=True, reward=reward,
                                status=S.TASK_LIMIT_REACHED, metrics={**result.metrics, **metrics})
        info: dict[str, Any] = {}
        if result.messages is not None:
            self.messages = [dict(m) for m in result.messages]
            info["messages"] = [dict(m) for m in self.messages]
        elif not result.done:
            self.messages.append({"role": "user", "content": result.observation})
        if result.done:
            self.done = True
            info["status"] = result.status
            info["metrics"] = dict(result.metrics)
            self._close_episode()
        reward = float(result.reward) if result.done else 0.0
        if math.isnan(reward):
            reward = 0.0
        return result.observation, reward, result.done, False, info

    def close(self) -> None:
        if not self.done:
            self._close_episode()
            self.done = True
        super().close()


def _default_data_dir() -> Path:
    return data_dir()
