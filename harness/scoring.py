"""From episode records to task scores (with n, errors and intervals), and to the paper's normalized overalls.

Errors are not outcomes: a record with status ``task_error`` (backend, env, service or harness failure) is counted in
``n_errors`` and never scored. Records of different configurations are never mixed: each configuration hash of a task
folder is scored apart, and a results folder becomes one leaderboard row per model configuration (see
:func:`score_model_dir`).
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from . import bootstrap as bs
from . import paper
from .identity import difference, run_key
from .records import config_records, episode_key, is_error, read_configs, records_by_config
from .registry import tasks as registered_tasks
from .spec import CATEGORIES, TaskSpec, mean_reward_percent

EPISODES = "episodes.jsonl"
SUMMARY = "summary.json"


@dataclass
class TaskScore:
    """One configuration of one task, scored."""

    task: str
    split: str
    config_hash: str
    score: float
    n: int  # scored episodes (distinct indices)
    n_errors: int  # episodes whose record is an error (not scored)
    split_size: int | None
    stderr: float | None
    ci: tuple[float, float] | None
    metrics: dict[str, Any]
    epochs: int = 1
    uneven_epochs: bool = False  # some episode has fewer epochs recorded than others
    substituted: bool = False  # not the paper's split or setting (†)
    offtable: bool = False  # fixtures, stand-ins: never in the paper's table or a category
    decimals: int = 1
    unit: str = "%"
    config: dict[str, Any] = field(default_factory=dict)
    last_run: str = ""
    replicates: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def complete(self) -> bool:
        return (self.n_errors == 0 and not self.uneven_epochs and self.split_size is not None
                and self.n >= self.split_size)

    @property
    def half_width(self) -> float | None:
        return None if self.ci is None else (self.ci[1] - self.ci[0]) / 2

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "split": self.split, "config_hash": self.config_hash, "score": round(self.score, 4),
                "n": self.n, "n_errors": self.n_errors, "split_size": self.split_size, "complete": self.complete,
                "stderr": None if self.stderr is None else round(self.stderr, 4),
                "ci95": None if self.ci is None else [round(self.ci[0], 4), round(self.ci[1], 4)],
                "epochs": self.epochs, "substituted": self.substituted, "offtable": self.offtable,
                "unit": self.unit, "metrics": self.metrics}


def _aggregate_of(spec: TaskSpec | None):
    """The task's aggregate, or None for a plain mean of rewards (the fast bootstrap path)."""
    if spec is None or spec.aggregate is mean_reward_percent or spec.mean_score:
        return None
    return spec.aggregate


def aggregate(task: str, records: Sequence[Mapping[str, Any]], spec: TaskSpec | None = None) -> tuple[float, dict[str, Any]]:
    """The task's main metric in the paper's units over scored records, and its other aggregates."""
    scale = spec.scale if spec is not None else 100.0
    # mean_score only lets the bootstrap skip the aggregate; the point estimate keeps the task's own metrics
    agg = None if spec is None or spec.aggregate is mean_reward_percent else spec.aggregate
    if not records:
        return 0.0, {}
    if agg is None:
        score, metrics = scale * sum(float(r["reward"]) for r in records) / len(records), {}
    else:
        score, metrics = agg(records)
    return float(score), dict(metrics)


def score_records(task: str, records: Sequence[Mapping[str, Any]], spec: TaskSpec | None = None, *,
                  split_size: int | None = None, config_hash: str = "", config: Mapping[str, Any] | None = None,
                  last_run: str = "") -> TaskScore:
    """Score one configuration's records (one per episode and epoch; errors among them are counted, not scored)."""
    scored = [r for r in records if not is_error(r)]
    errors = [r for r in records if is_error(r)]
    scored_keys = {episode_key(r)[:2] for r in scored}
    # an episode is an error when one of its epochs is (its other epochs may be outcomes)
    error_keys = {episode_key(r)[:2] for r in errors}
    per_episode = Counter(episode_key(r)[:2] for r in scored)
    splits = sorted({r.get("split", "") for r in records})
    split = splits[0] if len(splits) == 1 else ",".join(splits)
    score, metrics = aggregate(task, scored, spec)
    statuses = Counter(r.get("status", "?") for r in records)
    usage: Counter = Counter()
    for r in records:
        usage.update({k: int(v) for k, v in (r.get("usage") or {}).items() if isinstance(v, (int, float))})
    metrics.update(statuses=dict(sorted(statuses.items())), usage=dict(usage))
    if errors:
        top = Counter((r.get("error") or "?").splitlines()[0][:200] for r in errors).most_common(1)[0]
        metrics["most_frequent_error"] = {"error": top[0], "episodes": top[1]}
    epochs = max((episode_key(r)[2] for r in records), default=0) + 1
    uneven = any(c < epochs for c in per_episode.values())  # an epoch of some episode has not run yet
    threshold = spec.success_threshold if spec is not None else 1.0
    if epochs > 1:
        metrics["epochs"] = epochs
        metrics.update(bs.pass_at_k(scored, threshold))
    reps = bs.bootstrap(scored, _aggregate_of(spec), spec.scale if spec else 100.0,
                        spec.group_by if spec else None) if scored else np.zeros(0)
    substituted = False
    offtable = False
    if spec is not None:
        offtable = split in spec.offtable_splits
        substituted = spec.substitute or split != spec.default_split
    return TaskScore(task=task, split=split, config_hash=config_hash, score=score, n=len(scored_keys),
                     n_errors=len(error_keys),
                     split_size=split_size, stderr=bs.stderr(reps), ci=bs.interval(reps), metrics=metrics,
                     epochs=epochs, uneven_epochs=uneven, substituted=substituted, offtable=offtable,
                     decimals=spec.decimals if spec else 1, unit=spec.unit if spec else "%",
                     config=dict(config or {}), last_run=last_run, replicates=reps)


def score_task_config(task_dir: Path, config_hash: str, spec: TaskSpec | None = None) -> TaskScore | None:
    records = config_records(Path(task_dir) / EPISODES, config_hash)
    if not records:
        return None
    entry = read_configs(task_dir).get(config_hash, {})
    return score_records(records[0]["task"], records, spec, split_size=_split_size(entry, spec, records),
                         config_hash=config_hash, config=entry.get("config"), last_run=entry.get("last_run", ""))


def _split_size(entry: Mapping[str, Any], spec: TaskSpec | None, records: Sequence[Mapping[str, Any]]) -> int | None:
    if entry.get("split_size") is not None:
        return int(entry["split_size"])
    split = records[0].get("split") if records else None
    return int(spec.splits[split]) if spec is not None and split in spec.splits else None


def write_summary(task_dir: Path, config_hash: str, spec: TaskSpec | None = None) -> dict[str, Any] | None:
    """summary.json of one configuration (the run's own), written atomically."""
    ts = score_task_config(task_dir, config_hash, spec)
    if ts is None:
        return None
    summary = ts.to_json()
    tmp = Path(task_dir) / (SUMMARY + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2))
    tmp.replace(Path(task_dir) / SUMMARY)
    return summary


# --- categories ------------------------------------------------------------------------------------------------
def task_weight(task: str, spec: TaskSpec | None = None) -> float | None:
    if spec is not None and spec.weight is not None:
        return spec.weight
    return paper.weight(task)


def overall(task_scores: Mapping[str, float], substituted: Sequence[str] = (),
            incomplete: Sequence[str] = ()) -> tuple[dict[str, float | None], list[str]]:
    """Per category: mean over its tasks of score_t / W_t. A category missing a paper task, or holding a substituted
    or incomplete one, is partial; a category with no task is None."""
    result: dict[str, float | None] = {}
    partial: list[str] = []
    for category in CATEGORIES:
        present = [t for t in paper.CATEGORY_TASKS[category] if t in task_scores and paper.weight(t)]
        ratios = [task_scores[t] / paper.weight(t) for t in present]
        result[category] = sum(ratios) / len(ratios) if ratios else None
        if ratios and (len(present) < len(paper.CATEGORY_TASKS[category])
                       or any(t in substituted or t in incomplete for t in present)):
            partial.append(category)
    return result, partial


def overall_interval(scores: Mapping[str, TaskScore], category: str) -> tuple[float, float] | None:
    """95 % interval of a category's normalized overall: each task's episodes resampled (replicate-wise mean)."""
    reps = [scores[t].replicates / paper.weight(t) for t in paper.CATEGORY_TASKS[category]
            if t in scores and paper.weight(t) and len(scores[t].replicates)]
    if not reps:
        return None
    b = min(len(r) for r in reps)
    return bs.interval(np.mean([r[:b] for r in reps], axis=0))


@dataclass
class RunScores:
    """One leaderboard row: one model configuration of one run folder, each task at one configuration."""

    model: str  # the model spec (or the folder name when unknown)
    folder: str = ""
    label: str = ""
    key: str = ""
    tasks: dict[str, TaskScore] = field(default_factory=dict)
    overall: dict[str, float | None] = field(default_factory=dict)
    overall_ci: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    partial: list[str] = field(default_factory=list)
    distinct: list[str] = field(default_factory=list)

    @property
    def table_tasks(self) -> dict[str, TaskScore]:
        """Tasks that may stand in the paper's table (not fixtures or stand-ins)."""
        return {t: s for t, s in self.tasks.items() if not s.offtable}

    @property
    def substituted(self) -> list[str]:
        return [t for t, s in self.tasks.items() if s.substituted]

    def finish(self) -> "RunScores":
        table = self.table_tasks
        self.overall, self.partial = overall({t: s.score for t, s in table.items()},
                                             [t for t, s in table.items() if s.substituted],
                                             [t for t, s in table.items() if not s.complete])
        self.overall_ci = {c: overall_interval(table, c) for c in CATEGORIES}
        return self

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "label": self.label or self.model, "folder": self.folder, "key": self.key,
                "distinct": self.distinct,
                "tasks": {t: round(s.score, 4) for t, s in self.tasks.items()},
                "details": {t: s.to_json() for t, s in self.tasks.items()},
                "overall": self.overall,
                "overall_ci95": {c: (None if v is None else [round(v[0], 4), round(v[1], 4)])
                                 for c, v in self.overall_ci.items()},
                "partial": self.partial}


def _run_meta(model_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((model_dir / "run.json").read_text())
    except (OSError, ValueError):
        return {}


def score_model_dir(model_dir: Path, only_config: str | None = None) -> list[RunScores]:
    """Every configuration under a run folder, as leaderboard rows.

    Rows: one per model configuration (model, generation overrides, protocol: :func:`harness.identity.run_key`).
    Within a row each task shows one configuration: the paper's split first, then the newest. A task's other
    configurations (another split, agent options, judge, data or env version) become rows of their own, labelled by
    what distinguishes them.
    """
    model_dir = Path(model_dir)
    specs = registered_tasks()
    meta = _run_meta(model_dir)
    model = meta.get("model") or model_dir.name
    by_key: dict[str, list[TaskScore]] = {}
    for task_dir in sorted(p for p in model_dir.iterdir() if (p / EPISODES).exists()):
        configs = read_configs(task_dir)
        for h, records in records_by_config(task_dir / EPISODES).items():
            if not records or (only_config and h != only_config):
                continue
            task = records[0]["task"]
            spec = specs.get(task)
            entry = configs.get(h, {})
            ts = score_records(task, records, spec, split_size=_split_size(entry, spec, records), config_hash=h,
                               config=entry.get("config"), last_run=entry.get("last_run", ""))
            key = run_key(ts.config) if ts.config else "unknown"
            by_key.setdefault(key, []).append(ts)
    rows: list[RunScores] = []
    for key, scores in by_key.items():
        primary: dict[str, TaskScore] = {}
        extra: list[TaskScore] = []
        for ts in sorted(scores, key=lambda s: _preference(s, specs.get(s.task))):
            if ts.task in primary:
                extra.append(ts)
            else:
                primary[ts.task] = ts
        row = RunScores(model=model, folder=model_dir.name, key=key, tasks=dict(sorted(primary.items())))
        rows.append(row.finish())
        for ts in extra:
            distinct = difference(ts.config, primary[ts.task].config) or [f"config={ts.config_hash}"]
            rows.append(RunScores(model=model, folder=model_dir.name, key=key, tasks={ts.task: ts},
                                  distinct=distinct).finish())
    rows.sort(key=lambda r: (-len(r.tasks), r.distinct))
    main = next((r for r in rows if not r.distinct), None)
    for r in rows:
        if main is not None and r is not main and not r.distinct:
            r.distinct = _model_difference(r, main)
        r.label = model_dir.name + (f" [{', '.join(r.distinct)}]" if r.distinct else "")
    return rows


def _preference(ts: TaskScore, spec: TaskSpec | None) -> tuple:
    paper_split = spec is not None and ts.split == spec.default_split
    return (not paper_split, ts.offtable, _neg(ts.last_run))


def _neg(text: str) -> tuple:
    return tuple(-ord(c) for c in text)


def _model_difference(row: RunScores, main: RunScores) -> list[str]:
    a = next(iter(row.tasks.values())).config
    b = next(iter(main.tasks.values())).config
    keep = ("protocol", "model", "overrides")
    return difference({k: a.get(k) for k in keep}, {k: b.get(k) for k in keep}) or [f"key={row.key}"]


def model_dirs(path: Path) -> list[Path]:
    """A model folder (holds task folders) or a results folder (holds model folders)."""
    path = Path(path)
    if any((p / EPISODES).exists() for p in path.iterdir() if p.is_dir()):
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and any((q / EPISODES).exists() for q in p.iterdir() if q.is_dir()))
