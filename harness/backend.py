"""The model side's one async interface, and the spec-string parser that picks a backend.

Model specs: ``hf:PATH``, ``vllm:PATH``, ``openai:NAME[@BASE_URL[,BASE_URL...]]``, ``replay:FILE``, ``oracle``.
Options after ``?`` are passed to the backend: ``hf:/models/x?dtype=bfloat16&max_batch=32``.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Sequence
from urllib.parse import parse_qsl

from .errors import UsageError
from .registry import BACKEND_GROUP, lookup, names


@dataclass(frozen=True)
class EpisodeKey:
    task: str
    split: str
    index: int


@dataclass
class Request:
    messages: list[dict[str, str]]
    #: None: the task's Generation setting (filled in by the runner before the backend sees the request)
    max_new_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: Sequence[str] | None = None
    episode: EpisodeKey | None = None
    turn: int = 0
    #: set by the runner for backends with ``needs_oracle``: returns the env's next gold action
    oracle: Callable[[], Awaitable[str]] | None = field(default=None, repr=False)


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # stop | length | error
    truncated_prompt: bool = False  # the prompt was left-truncated to fit the context


class OptionScores(list):
    """What ``choose()`` returns: one log-probability per option, and the prompt tokens the scoring read."""

    def __init__(self, scores: Sequence[float] = (), prompt_tokens: int = 0) -> None:
        super().__init__(scores)
        self.prompt_tokens = prompt_tokens


class Backend(abc.ABC):
    """Backends batch internally across concurrent requests; the runner only issues them concurrently."""

    #: the runner hands the env's gold actions to this backend (oracle)
    needs_oracle = False
    #: scores options by log-probability (choose() works)
    supports_choose = False

    def __init__(self, target: str = "", **options: Any) -> None:
        self.target = target
        self.options = options

    async def start(self) -> None:
        """Load the model / open connections. Called once before the first request."""

    async def close(self) -> None:
        pass

    async def probe(self) -> None:
        """Prove the model answers before any episode runs: one short request (raises when it fails).

        The runner calls it once after :meth:`start`; a failure stops the run with exit status 2 and nothing written.
        """
        await self.complete(Request(messages=[{"role": "user", "content": "Hi"}], max_new_tokens=1, temperature=0.0,
                                    top_p=1.0, stop=()))

    @abc.abstractmethod
    async def complete(self, request: Request) -> Completion: ...

    async def choose(self, request: Request, options: Sequence[str]) -> list[float]:
        """Log-probability of each option as the continuation of the prompt (MMLU's A/B/C/D).

        Return an :class:`OptionScores` to report the prompt tokens read (a plain list counts as none)."""
        raise NotImplementedError(f"{type(self).__name__} cannot score options")

    def describe(self) -> dict[str, Any]:
        """What identifies this model in the run configuration (goes into the config hash)."""
        return {"backend": type(self).__name__, "target": self.target, **{k: str(v) for k, v in self.options.items()}}


def parse_model_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """``scheme:target?k=v`` -> (scheme, target, options). Raises UsageError with a mend hint."""
    spec = (spec or "").strip()
    hint = "use hf:PATH, vllm:PATH, openai:NAME[@BASE_URL], replay:FILE or oracle"
    if not spec:
        raise UsageError(f"no model given: {hint}")
    scheme, sep, rest = spec.partition(":")
    if not sep:
        scheme, rest = spec, ""
    if scheme not in names(BACKEND_GROUP):
        raise UsageError(f"malformed model spec {spec!r}: unknown backend {scheme!r}; {hint}")
    target, _, query = rest.partition("?")
    try:
        options = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise UsageError(f"malformed model spec {spec!r}: options after '?' must be key=value&key=value") from None
    if scheme != "oracle" and not target:
        raise UsageError(f"malformed model spec {spec!r}: {scheme}: needs a target ({hint})")
    return scheme, target, options


def make_backend(spec: str, **extra: Any) -> Backend:
    scheme, target, options = parse_model_spec(spec)
    cls = lookup(BACKEND_GROUP, scheme)
    return cls(target, **{**options, **extra})
