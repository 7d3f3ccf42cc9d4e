"""Prices per million tokens (``--price MODEL=IN/OUT``, ``--prices FILE``) and the cost of a run's episodes.

``MODEL`` is matched (exactly, or as a shell-style pattern such as ``openai:gpt-4*``) against each name a run's model
goes by: its model spec (``openai:gpt-4o@http://...``), the run folder's name, and the model name or path its backend
reports (``gpt-4o``, ``/models/Llama-2-7b`` and its last component). A judge's tokens are priced with the judge's own
price when one matches it; otherwise only the model's tokens are counted. A prices file is JSON or YAML mapping each
``MODEL`` to ``"IN/OUT"`` or ``{"input": IN, "output": OUT}``.
"""
from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from .errors import UsageError


@dataclass(frozen=True)
class Price:
    input: float  # per million prompt tokens
    output: float  # per million completion tokens

    def cost(self, prompt_tokens: float, completion_tokens: float) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1e6


def _parse_price(text: Any, where: str) -> Price:
    try:
        if isinstance(text, Mapping):
            return Price(float(text["input"]), float(text["output"]))
        a, sep, b = str(text).partition("/")
        if not sep:
            raise ValueError
        price = Price(float(a), float(b))
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"{where}: a price is IN/OUT in money per million tokens, e.g. 2.5/10") from None
    if price.input < 0 or price.output < 0:
        raise UsageError(f"{where}: prices cannot be negative")
    return price


class Prices:
    """Model name or pattern -> :class:`Price`."""

    def __init__(self, table: Mapping[str, Price] | None = None) -> None:
        self.table = dict(table or {})

    def __bool__(self) -> bool:
        return bool(self.table)

    @classmethod
    def parse(cls, items: Sequence[str] | None = None, file: str | Path | None = None) -> "Prices":
        table: dict[str, Price] = {}
        if file:
            path = Path(file)
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.suffix in (".yaml", ".yml") \
                    else json.loads(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise UsageError(f"--prices {file}: cannot read it ({exc.strerror})") from None
            except (ValueError, yaml.YAMLError) as exc:
                raise UsageError(f"--prices {file}: not valid JSON/YAML ({str(exc).splitlines()[0]})") from None
            if not isinstance(data, Mapping):
                raise UsageError(f"--prices {file}: expected a mapping MODEL -> IN/OUT")
            for k, v in data.items():
                table[str(k)] = _parse_price(v, f"--prices {file}, {k}")
        for item in items or []:
            # the model spec may hold '=' (options after '?'): the price follows the last one
            model, sep, value = item.rpartition("=")
            if not sep or not model:
                raise UsageError(f"--price {item!r} is malformed: use --price MODEL=IN/OUT (per million tokens)")
            table[model] = _parse_price(value, f"--price {item}")
        return cls(table)

    def lookup(self, names: Iterable[str]) -> Price | None:
        names = [n for n in names if n]
        for n in names:
            if n in self.table:
                return self.table[n]
        for pattern, price in self.table.items():
            if any(fnmatch.fnmatchcase(n, pattern) for n in names):
                return price
        return None


def model_names(spec: str | None, described: Mapping[str, Any] | None, folder: str = "") -> list[str]:
    """The names a model goes by (see the module's docstring)."""
    out = [spec or "", folder]
    for key in ("model", "target"):
        value = str((described or {}).get(key) or "")
        if value:
            out += [value, value.rstrip("/").rsplit("/", 1)[-1]]
    return [n for n in out if n]


def task_cost(prices: Prices, usage: Mapping[str, Any], config: Mapping[str, Any], spec: str | None,
              folder: str = "") -> float | None:
    """Money spent on one task's episodes (model tokens, and the judge's when its price is known); None: no price."""
    price = prices.lookup(model_names(spec, config.get("model"), folder))
    if price is None:
        return None
    cost = price.cost(float(usage.get("prompt_tokens", 0)), float(usage.get("completion_tokens", 0)))
    judge = config.get("judge")
    if judge and (usage.get("judge_prompt_tokens") or usage.get("judge_completion_tokens")):
        jprice = prices.lookup(model_names(None, judge))
        if jprice is not None:
            cost += jprice.cost(float(usage.get("judge_prompt_tokens", 0)),
                                float(usage.get("judge_completion_tokens", 0)))
    return cost


def tokens(usage: Mapping[str, Any]) -> int:
    """Model tokens (prompt + completion) of a task's episodes, the judge's not included."""
    return int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))


def run_costs(run: Any, prices: Prices) -> tuple[dict[str, float | None], float | None]:
    """Per task and in total, the cost of a :class:`harness.scoring.RunScores` row (None where no price matches)."""
    per_task = {t: task_cost(prices, ts.metrics.get("usage", {}), ts.config, run.model, run.folder)
                for t, ts in run.tasks.items()}
    known = [c for c in per_task.values() if c is not None]
    return per_task, (sum(known) if known else None)


def money(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if value >= 1 else f"{value:.4f}"
