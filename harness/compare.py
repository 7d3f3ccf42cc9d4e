"""``harness compare A B``: two runs of the same tasks, paired episode by episode.

Per task, the difference of the scores (A - B) over the episodes both runs scored, with a 95 % interval from a paired
bootstrap (the same resampled episodes on both sides, stratified by the task's group where its metric averages
groups); per category, the difference of the normalized overalls over the tasks both hold, resampled the same way.
A difference is significant when its interval excludes 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import bootstrap as bs
from . import paper
from .records import episode_key, is_error
from .scoring import RunScores, _aggregate_of
from .spec import CATEGORIES


@dataclass
class Difference:
    name: str
    a: float
    b: float
    diff: float
    ci: tuple[float, float] | None
    n: int  # paired episodes (tasks: episodes both scored; categories: tasks both hold)

    @property
    def significant(self) -> bool:
        return self.ci is not None and (self.ci[0] > 0 or self.ci[1] < 0)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "a": round(self.a, 4), "b": round(self.b, 4), "diff": round(self.diff, 4),
                "ci95": None if self.ci is None else [round(self.ci[0], 4), round(self.ci[1], 4)], "n": self.n,
                "significant": self.significant}


def compare(a: RunScores, b: RunScores, records_a: dict[str, list], records_b: dict[str, list],
            specs: dict[str, Any]) -> tuple[list[Difference], list[Difference]]:
    """Per-task and per-category paired differences of run ``a`` minus run ``b``."""
    tasks: list[Difference] = []
    replicates: dict[str, np.ndarray] = {}
    for task in sorted(set(records_a) & set(records_b)):
        spec = specs.get(task)
        ra = [r for r in records_a[task] if not is_error(r)]
        rb = [r for r in records_b[task] if not is_error(r)]
        keys = {episode_key(r)[:2] for r in ra} & {episode_key(r)[:2] for r in rb}
        ra = [r for r in ra if episode_key(r)[:2] in keys]
        rb = [r for r in rb if episode_key(r)[:2] in keys]
        if not keys:
            continue
        agg = _aggregate_of(spec)
        scale = spec.scale if spec is not None else 100.0
        score = agg or (lambda rs: (scale * float(np.mean([r["reward"] for r in rs])), {}))
        sa, sb = score(ra)[0], score(rb)[0]
        reps = bs.paired_bootstrap(ra, rb, agg, scale, spec.group_by if spec is not None else None)
        replicates[task] = reps
        tasks.append(Difference(task, sa, sb, sa - sb, bs.interval(reps), len(keys)))
    categories: list[Difference] = []
    by_name = {d.name: d for d in tasks}
    for category in CATEGORIES:
        present = [t for t in paper.CATEGORY_TASKS[category] if t in by_name and paper.weight(t)]
        if not present:
            continue
        w = {t: paper.weight(t) for t in present}
        oa = sum(by_name[t].a / w[t] for t in present) / len(present)
        ob = sum(by_name[t].b / w[t] for t in present) / len(present)
        reps = [replicates[t] / w[t] for t in present if len(replicates[t])]
        ci = None
        if reps:
            n = min(len(r) for r in reps)
            ci = bs.interval(np.mean([r[:n] for r in reps], axis=0))
        categories.append(Difference(category, oa, ob, oa - ob, ci, len(present)))
    return tasks, categories
