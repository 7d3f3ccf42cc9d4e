"""``harness report DIR``: one self-contained HTML file with the leaderboard, plots, per-task breakdowns, the paired
comparison of runs and a trajectory viewer over every episode.

Self-contained: the page's script, styles and plots are inlined and it loads nothing from the network. Episodes are
embedded as gzip-compressed, base64-encoded JSON blocks (see :mod:`harness.report.collect`) that the page decodes with
the browser's own ``DecompressionStream`` only when needed, so a run of 20,000 episodes opens quickly.
"""
from __future__ import annotations

import html
import json
import statistics
import time
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any, Sequence

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .. import paper
from ..compare import compare
from ..leaderboard import CAT_LABELS, CATS, HEADERS, LEGEND, TASKS, _num, extra_tasks, overall_cell, task_cell
from ..prices import Prices, money, run_costs, tokens
from ..registry import tasks as registered_tasks
from ..scoring import RunScores
from ..version import __version__
from . import plots
from .collect import Collected, collect, pack

HERE = Path(__file__).parent
REPORT = "report.html"
MAX_PAIRS = 10


@dataclass
class ReportResult:
    path: Path
    runs: int
    episodes: int
    bytes: int
    seconds: float


def _pct(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


def _fmt(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


def _task_breakdown(col: Collected, task: str, specs) -> dict[str, Any]:
    """Per run: statuses, reward summary, turns and latency for one task, and the plot."""
    runs = []
    for i, run in enumerate(col.runs):
        te = col.episodes.get((i, task))
        if te is None:
            continue
        runs.append((i, run.label or run.model, te.slim))
    rows = []
    for i, label, recs in runs:
        ts = col.runs[i].tasks[task]
        scored = [r for r in recs if r.get("status") != "task_error"]
        rewards = [float(r.get("reward") or 0) for r in scored]
        turns = [int(r.get("turns") or 0) for r in recs]
        times = [float((r.get("timings") or {}).get("total") or 0) for r in recs]
        model_t = [float((r.get("timings") or {}).get("model") or 0) for r in recs]
        counts: dict[str, int] = {}
        for r in recs:
            counts[str(r.get("status"))] = counts.get(str(r.get("status")), 0) + 1
        rows.append({
            "run": i, "label": label, "cell": task_cell(ts), "split": ts.split, "episodes": len(recs),
            "statuses": sorted(counts.items(), key=lambda kv: -kv[1]),
            "reward_mean": _fmt(statistics.fmean(rewards) if rewards else None, 3),
            "reward_full": sum(1 for x in rewards if x >= 1.0), "reward_zero": sum(1 for x in rewards if x <= 0.0),
            "turns_mean": _fmt(statistics.fmean(turns) if turns else None, 1),
            "turns_max": max(turns) if turns else 0,
            "time_median": _fmt(_pct(times, 0.5), 2), "time_p90": _fmt(_pct(times, 0.9), 2),
            "model_share": _fmt(100 * sum(model_t) / sum(times) if sum(times) else None, 0),
            "tokens": f"{tokens(ts.metrics.get('usage', {})):,}",
            "error": (ts.metrics.get("most_frequent_error") or {}).get("error"),
        })
    svg = plots.task_breakdown(task, runs, col.statuses) if runs else ""
    return {"name": task, "label": paper.TASK_LABELS.get(task, task), "rows": rows, "svg": svg,
            "metric": getattr(specs.get(task), "metric", "")}


def _leaderboard(runs: Sequence[RunScores], prices: Prices) -> dict[str, Any]:
    paper_rows = []
    for i, model in enumerate(paper.MODELS):
        paper_rows.append({"label": f"{model} (paper)",
                           "cells": [_num(paper.TABLE4[t][i], paper.DECIMALS.get(t, 1)) for t in TASKS]
                           + [_num(paper.PAPER_OVERALL[c][i], 2) for c in CATS]})
    run_rows = []
    for k, r in enumerate(runs):
        table = r.table_tasks
        cells = []
        for t in TASKS:
            ts = table.get(t)
            tip = "" if ts is None else (
                f"{t} {ts.split}: {ts.score:.4f}, 95 % interval "
                + ("–" if ts.ci is None else f"[{ts.ci[0]:.4f}, {ts.ci[1]:.4f}]")
                + f", n={ts.n}/{ts.split_size or '?'}, {ts.n_errors} errors, config {ts.config_hash}"
                + (", not the paper's split or setting" if ts.substituted else "")
                + ("" if ts.complete else ", incomplete"))
            cells.append({"text": task_cell(ts), "tip": tip, "marked": ts is not None and (not ts.complete
                                                                                           or ts.substituted)})
        for c in CATS:
            ci = r.overall_ci.get(c)
            tip = "" if r.overall.get(c) is None else (
                f"{CAT_LABELS[c]}: mean of score / W_t; 95 % interval "
                + ("–" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]")
                + (", partial (a task missing, substituted or incomplete)" if c in r.partial else ""))
            cells.append({"text": overall_cell(r, c), "tip": tip, "marked": c in r.partial})
        per_task, total = run_costs(r, prices) if prices else ({}, None)
        used = sum(tokens(ts.metrics.get("usage", {})) for ts in r.tasks.values())
        run_rows.append({"label": r.label or r.model, "color": plots.run_color(k), "cells": cells,
                         "tokens": f"{used:,}", "cost": money(total) if prices else None})
    extra = extra_tasks(runs)
    extra_rows = [{"label": r.label or r.model,
                   "cells": [task_cell(r.tasks.get(n)) + (f" [{r.tasks[n].split}]" if n in r.tasks and
                                                          r.tasks[n].offtable else "")
                             if n in r.tasks and (n not in paper.TASK_CATEGORY or r.tasks[n].offtable) else "–"
                             for n in extra]} for r in runs]
    return {"headers": HEADERS[1:], "paper": paper_rows, "runs": run_rows, "extra": extra, "extra_rows": extra_rows,
            "priced": bool(prices)}


def _comparisons(col: Collected, specs) -> list[dict[str, Any]]:
    out = []
    pairs = [(a, b) for a, b in combinations(range(len(col.runs)), 2)
             if set(col.runs[a].tasks) & set(col.runs[b].tasks)]
    for a, b in pairs[:MAX_PAIRS]:
        ra, rb = col.runs[a], col.runs[b]
        reca = {t: col.episodes[(a, t)].slim for t in ra.tasks if (a, t) in col.episodes}
        recb = {t: col.episodes[(b, t)].slim for t in rb.tasks if (b, t) in col.episodes}
        task_diffs, cat_diffs = compare(ra, rb, reca, recb, specs)
        if not task_diffs:
            continue
        out.append({"a": a, "b": b, "a_label": ra.label, "b_label": rb.label,
                    "rows": [dict(d.to_json(), kind="task", label=paper.TASK_LABELS.get(d.name, d.name))
                             for d in task_diffs]
                    + [dict(d.to_json(), kind="category", label=CAT_LABELS.get(d.name, d.name)) for d in cat_diffs]})
    return out


def _jinja() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["signed"] = lambda v, d=2: f"{v:+.{d}f}"
    return env


def _script_json(obj: Any) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def build_report(path: Path, output: Path | None = None, prices: Prices | None = None,
                 runs: Sequence[RunScores] | None = None) -> ReportResult:
    """Write the report of every run under ``path`` (a results folder or one run folder); return where and what."""
    started = time.perf_counter()
    prices = prices or Prices()
    specs = registered_tasks()
    col = collect(Path(path), runs)
    # the report of a folder lies in that folder (a run folder's own report never replaces its results folder's)
    output = Path(output) if output else Path(path) / REPORT
    runs = col.runs
    table_tasks = [t for t in TASKS if any(t in r.table_tasks for r in runs)]
    other_tasks = extra_tasks(runs)
    all_tasks = table_tasks + [t for t in other_tasks if t not in table_tasks]
    costs = [run_costs(r, prices)[1] if prices else None for r in runs]
    used = [sum(tokens(ts.metrics.get("usage", {})) for ts in r.tasks.values()) for r in runs]
    figures = {
        "categories": plots.category_overall(runs),
        "tasks": plots.task_scores(runs, table_tasks, specs),
        "other_tasks": plots.task_scores(runs, other_tasks, specs, table=False) if other_tasks else None,
        "cost": plots.cost_score(runs, costs, used),
    }
    breakdowns = [_task_breakdown(col, t, specs) for t in all_tasks]
    comparisons = _comparisons(col, specs)
    run_info = []
    for k, r in enumerate(runs):
        n_eps = sum(col.episodes[(k, t)].n_records for t in r.tasks if (k, t) in col.episodes)
        run_info.append({"label": r.label or r.model, "model": r.model, "folder": r.folder, "key": r.key,
                         "distinct": r.distinct, "color": plots.run_color(k), "episodes": n_eps,
                         "tasks": len(r.tasks), "tokens": f"{used[k]:,}",
                         "cost": money(costs[k]) if prices else None})
    index_blob = len(col.blobs)
    col.blobs.append(pack(col.index))
    meta = {
        "version": __version__, "generated": time.strftime("%Y-%m-%d %H:%M:%S"), "root": str(col.root),
        "runs": [{"label": r["label"], "model": r["model"], "color": r["color"]} for r in run_info],
        "tasks": [{"name": t, "label": paper.TASK_LABELS.get(t, t)} for t in all_tasks],
        "statuses": col.statuses, "index_blob": index_blob, "episodes": col.n_episodes,
        "decimals": {t: getattr(specs.get(t), "decimals", 1) for t in all_tasks},
    }
    env = _jinja()
    page = env.get_template("template.html").render(
        meta=meta, meta_json=_script_json(meta), runs=run_info, leaderboard=_leaderboard(runs, prices),
        legend=LEGEND, figures=figures, breakdowns=breakdowns, comparisons=comparisons, blobs=col.blobs,
        css=(HERE / "report.css").read_text(encoding="utf-8"), js=(HERE / "report.js").read_text(encoding="utf-8"),
        status_colors=plots.STATUS_COLORS, cat_labels=CAT_LABELS,
        title=f"Evaluation report: {col.root.name or col.root}")
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(output)
    return ReportResult(path=output, runs=len(runs), episodes=col.n_episodes, bytes=output.stat().st_size,
                        seconds=time.perf_counter() - started)


def escape(text: str) -> str:
    return html.escape(text)
