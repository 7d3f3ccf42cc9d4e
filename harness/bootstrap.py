"""Uncertainty of scores: bootstrap over episodes, stratified by the task's group where the metric averages groups.

The resampling unit is an episode (one ``(split, index)``, with all its epochs), so that repeated runs of one episode
are never treated as independent evidence. Where a task's metric is a mean of group means (``TaskSpec.group_by``:
SciWorld's task types, HotpotQA's levels, DB's question types), episodes are resampled within their group, as the
metric's design fixes the groups. Replicates are computed by the task's own aggregate on each resample, so any metric
gets an interval; plain means take a vectorized path. Seeds are fixed: the same records give the same interval.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .records import episode_key, fact

DEFAULT_REPLICATES = 1000
#: replicates x records visited by a Python aggregate are capped (the interval of a 14,042-question MMLU run costs
#: about a second); at least MIN_REPLICATES are always drawn
WORK_CAP = 3_000_000
MIN_REPLICATES = 200

Aggregate = Callable[[Sequence[Mapping[str, Any]]], tuple[float, dict[str, Any]]]


@dataclass
class Units:
    """Records grouped into resampling units (episodes), with the stratum of each."""

    units: list[list[Mapping[str, Any]]]
    strata: list[np.ndarray]  # unit positions per stratum

    @property
    def n(self) -> int:
        return len(self.units)


def make_units(records: Sequence[Mapping[str, Any]], group_by: str | None = None) -> Units:
    by_episode: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for r in records:
        split, index, _ = episode_key(r)
        by_episode.setdefault((split, index), []).append(r)
    keys = sorted(by_episode)
    units = [by_episode[k] for k in keys]
    if group_by:
        groups: dict[str, list[int]] = {}
        for i, unit in enumerate(units):
            groups.setdefault(str(fact(unit[0], group_by, "?")), []).append(i)
        strata = [np.asarray(v) for _, v in sorted(groups.items())]
    else:
        strata = [np.arange(len(units))]
    return Units(units, strata)


def _draws(units: Units, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(replicates, n_units) positions: a stratified resample per row (each stratum keeps its size)."""
    cols = [stratum[rng.integers(0, len(stratum), size=(replicates, len(stratum)))]
            for stratum in units.strata if len(stratum)]
    return np.concatenate(cols, axis=1) if cols else np.zeros((replicates, 0), dtype=int)


def replicate_count(n_records: int, fast: bool, replicates: int = DEFAULT_REPLICATES) -> int:
    if fast or n_records == 0:
        return replicates
    return int(min(replicates, max(MIN_REPLICATES, WORK_CAP // n_records)))


def bootstrap(records: Sequence[Mapping[str, Any]], aggregate: Aggregate | None, scale: float = 100.0,
              group_by: str | None = None, replicates: int = DEFAULT_REPLICATES, seed: int = 0) -> np.ndarray:
    """Replicate scores of the task's metric. ``aggregate`` None: the mean reward times ``scale`` (fast path)."""
    units = make_units(records, group_by)
    if units.n == 0:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    fast = aggregate is None and group_by is None
    b = replicate_count(len(records), fast, replicates)
    draws = _draws(units, b, rng)
    if fast:
        sums = np.array([sum(float(r["reward"]) for r in u) for u in units.units])
        counts = np.array([len(u) for u in units.units], dtype=float)
        return scale * sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    out = np.empty(b)
    for i, row in enumerate(draws):
        sample = [r for pos in row for r in units.units[pos]]
        out[i] = aggregate(sample)[0] if aggregate is not None else scale * np.mean([r["reward"] for r in sample])
    return out


def paired_bootstrap(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]], aggregate: Aggregate | None,
                     scale: float = 100.0, group_by: str | None = None, replicates: int = DEFAULT_REPLICATES,
                     seed: int = 0) -> np.ndarray:
    """Replicates of score(a) - score(b) over the episodes both hold, resampling the same episodes on both sides."""
    ua, ub = make_units(a, group_by), make_units(b, None)
    key = lambda u: episode_key(u[0])[:2]  # noqa: E731
    b_by_key = {key(u): u for u in ub.units}
    common = [(u, b_by_key[key(u)]) for u in ua.units if key(u) in b_by_key]
    if not common:
        return np.zeros(0)
    units = make_units([r for u, _ in common for r in u], group_by)
    pair = {key(u): v for u, v in common}
    rng = np.random.default_rng(seed)
    n_records = sum(len(u) + len(v) for u, v in common)
    reps = replicate_count(n_records, aggregate is None and group_by is None, replicates)
    draws = _draws(units, reps, rng)
    out = np.empty(reps)
    score = aggregate or (lambda rs: (scale * float(np.mean([r["reward"] for r in rs])), {}))
    for i, row in enumerate(draws):
        sa = [r for pos in row for r in units.units[pos]]
        sb = [r for pos in row for r in pair[key(units.units[pos])]]
        out[i] = score(sa)[0] - score(sb)[0]
    return out


def interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float] | None:
    if len(replicates) == 0:
        return None
    lo, hi = np.percentile(replicates, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def stderr(replicates: np.ndarray) -> float | None:
    return float(np.std(replicates, ddof=1)) if len(replicates) > 1 else None


def pass_at_k(records: Sequence[Mapping[str, Any]], threshold: float = 1.0) -> dict[str, float]:
    """pass@k (at least one of k tries succeeds) and pass^k (all k succeed), in percent, for k = 1..K, from the
    unbiased estimators over each episode's K recorded epochs (Chen et al. 2021; Yao et al. 2024)."""
    per: dict[tuple[str, int], list[bool]] = {}
    for r in records:
        split, index, _ = episode_key(r)
        per.setdefault((split, index), []).append(float(r["reward"]) >= threshold)
    if not per:
        return {}
    k_max = min(len(v) for v in per.values())
    out: dict[str, float] = {}
    for k in range(1, k_max + 1):
        at, hat = [], []
        for tries in per.values():
            n, c = len(tries), sum(tries)
            at.append(1.0 - comb(n - c, k) / comb(n, k))
            hat.append(comb(c, k) / comb(n, k))
        out[f"pass@{k}"] = 100.0 * sum(at) / len(at)
        out[f"pass^{k}"] = 100.0 * sum(hat) / len(hat)
    return out
