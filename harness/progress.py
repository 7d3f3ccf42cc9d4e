"""Live progress per task (done / total, running score, errors) and the summary table at the end."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from . import status as S
from . import tables


@dataclass
class _TaskProgress:
    total: int
    done: int = 0
    new: int = 0
    reward_sum: float = 0.0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


class Progress:
    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = enabled
        self.live_mode = enabled and self.console.is_terminal
        self.tasks: dict[str, _TaskProgress] = {}
        self._live: Live | None = None
        self._last_line = 0.0

    def __enter__(self) -> "Progress":
        if self.live_mode:
            self._live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(*exc)
            self._live = None

    def log(self, text: str) -> None:
        if self.enabled:
            self.console.print(text, markup=False, highlight=False)

    def add_task(self, name: str, total: int, done_before: int) -> None:
        self.tasks[name] = _TaskProgress(total=total, done=done_before)
        if self.enabled and done_before:
            self.log(f"{name}: resuming, {done_before}/{total} episodes already recorded")

    def update(self, name: str, record: dict[str, Any]) -> None:
        t = self.tasks[name]
        t.statuses[record["status"]] = t.statuses.get(record["status"], 0) + 1
        if record["status"] == S.TASK_ERROR:  # an error is not done: the same command runs it again
            t.errors += 1
        else:
            t.done += 1
            t.new += 1
            t.reward_sum += float(record["reward"])
        if self._live is not None:
            self._live.update(self._table())
        elif self.enabled and (t.done + t.errors >= t.total or time.monotonic() - self._last_line > 10):
            self._last_line = time.monotonic()
            self.console.print(self._line(name, t))

    @staticmethod
    def _line(name: str, t: _TaskProgress) -> str:
        mean = 100 * t.reward_sum / t.new if t.new else 0.0
        return f"{name}: {t.done}/{t.total} episodes, mean reward {mean:.1f}% (this run), {t.errors} errors"


    def _table(self) -> Table:
        table = Table(title="harness eval", expand=False)
        for col in ("task", "done", "total", "mean reward (this run)", "errors", "episodes/min"):
            table.add_column(col, justify="right" if col != "task" else "left")
        for name, t in self.tasks.items():
            mean = 100 * t.reward_sum / t.new if t.new else 0.0
            rate = 60 * t.new / max(1e-6, time.monotonic() - t.started)
            table.add_row(name, str(t.done), str(t.total), f"{mean:.1f}%", str(t.errors), f"{rate:.1f}")
        return table

    def print_summary(self, summaries: dict[str, dict[str, Any]]) -> None:
        if not self.enabled or not summaries:
            return
        body = []
        for name, s in summaries.items():
            statuses = ", ".join(f"{k} {v}" for k, v in s["metrics"].get("statuses", {}).items())
            ci = s.get("ci95")
            score = f"{s['score']:.2f}" + (f" ± {(ci[1] - ci[0]) / 2:.2f}" if ci else "")
            n = f"{s['n']}/{s['split_size']}" if s.get("split_size") and s["n"] < s["split_size"] else str(s["n"])
            body.append([name, str(s["split"]), score, n, str(s.get("n_errors", 0)), statuses])
        tables.show(self.console, ["task", "split", "score", "n", "errors", "statuses"], body,
                    title="Summary (this configuration; ± is the half-width of the 95 % bootstrap interval)",
                    justify=["left", "left", "right", "right", "right", "left"])
