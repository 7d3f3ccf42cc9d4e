"""The report's plots, drawn with matplotlib (its SVG backend) and inlined into the page as ``<svg>`` elements.

Text stays text (``svg.fonttype = none``: small files, searchable), and each figure's element ids are prefixed so
that several figures can share one page without their clip paths colliding.
"""
from __future__ import annotations

import io
import itertools
import math
import re
from typing import Any, Mapping, Sequence

import matplotlib
from matplotlib.figure import Figure

from .. import paper
from ..spec import CATEGORIES

matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "harness-report", "font.size": 8,
                            "axes.titlesize": 9, "axes.spines.top": False, "axes.spines.right": False})

PAPER_COLOR = "#b8bcc4"
RUN_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
              "#7f7f7f"]
STATUS_COLORS = {"completed": "#2ca02c", "task_limit_reached": "#ff7f0e", "agent_invalid_action": "#d62728",
                 "agent_validation_failed": "#9467bd", "agent_context_limit": "#8c564b", "task_error": "#111111"}
CAT_LABELS = {"held_in": "Held-in", "held_out": "Held-out", "general": "General"}
_counter = itertools.count()


def run_color(i: int) -> str:
    return RUN_COLORS[i % len(RUN_COLORS)]


def to_svg(fig: Figure, alt: str) -> str:
    """The figure as an inline ``<svg>`` (no XML prolog), ids made unique on the page, with a title for readers."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    prefix = f"f{next(_counter)}-"
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{_attr(alt)}" class="plot" ', 1)
    return text


def _frame(rows: int, cols: int, panel_w: float, panel_h: float, left: float, *, wspace: float = 0.45,
           hspace: float = 0.45, top: float = 0.3, bottom: float = 0.4, right: float = 0.35):
    """A figure of rows x cols panels with margins in inches (a fixed layout: much cheaper than a layout engine)."""
    width = left + cols * panel_w + (cols - 1) * wspace + right
    height = top + rows * panel_h + (rows - 1) * hspace + bottom
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                        wspace=wspace / panel_w, hspace=hspace / panel_h)
    return fig, fig.subplots(rows, cols, squeeze=False)


def _label_width(labels: Sequence[str]) -> float:
    """Inches that y tick labels of 7 pt need."""
    return 0.2 + 0.056 * max((len(x) for x in labels), default=4)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _short(label: str, n: int = 34) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def _bars(ax, names: Sequence[str], values: Sequence[float | None], colors: Sequence[str],
          errors: Sequence[tuple[float, float] | None], decimals: int) -> None:
    y = list(range(len(names)))[::-1]
    vals = [v if v is not None else 0.0 for v in values]
    ax.barh(y, vals, color=colors, height=0.75)
    ey, ex, lo, hi = [], [], [], []
    for yi, v, err in zip(y, values, errors):
        if v is None:
            ax.text(0, yi, " –", va="center", fontsize=7, color="#666")
            continue
        if err is not None:
            ey.append(yi)
            ex.append(v)
            lo.append(max(0.0, v - err[0]))
            hi.append(max(0.0, err[1] - v))
        ax.text((err[1] if err else v), yi, f" {v:.{decimals}f}", va="center", fontsize=7, color="#333")
    if ey:
        ax.errorbar(ex, ey, xerr=[lo, hi], fmt="none", ecolor="#222", elinewidth=0.8, capsize=2)
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize=7)
    ax.margins(x=0.18)


def category_overall(runs: Sequence[Any]) -> str | None:
    """Per category: the normalized overall of each run (with its 95 % interval) beside the paper's models."""
    cats = [c for c in CATEGORIES if any(r.overall.get(c) is not None for r in runs)]
    if not cats:
        return None
    n = len(paper.MODELS) + len(runs)
    labels = [f"{m} (paper)" for m in paper.MODELS] + [_short(r.label) + "*" for r in runs]
    fig, axes = _frame(1, len(cats), 2.6, 0.17 * n, _label_width(labels), wspace=0.3)
    axes = axes[0]
    for ax, c in zip(axes, cats):
        names = [f"{m} (paper)" for m in paper.MODELS] + [_short(r.label) + ("*" if c in r.partial else "")
                                                         for r in runs]
        values = list(paper.PAPER_OVERALL[c]) + [r.overall.get(c) for r in runs]
        colors = [PAPER_COLOR] * len(paper.MODELS) + [run_color(i) for i in range(len(runs))]
        errors = [None] * len(paper.MODELS) + [r.overall_ci.get(c) for r in runs]
        _bars(ax, names, values, colors, errors, 2)
        ax.set_title(f"{CAT_LABELS[c]} overall (score / W_t)")
        if ax is not axes[0]:
            ax.set_yticklabels([])
    return to_svg(fig, "Normalized overall per category: your runs beside the paper's models")


def task_scores(runs: Sequence[Any], tasks: Sequence[str], specs: Mapping[str, Any], table: bool = True) -> str | None:
    """Per task: each run's score with its 95 % interval bar, beside the paper's models (``table``: the paper's tasks
    on the paper's splits) or alone (the other tasks: plugins, fixtures, stand-ins)."""
    if not tasks:
        return None
    cols = min(4, len(tasks))
    rows_n = math.ceil(len(tasks) / cols)
    has_paper = table
    n = (len(paper.MODELS) if has_paper else 0) + len(runs)
    labels = ([f"{m} (paper)" for m in paper.MODELS] if has_paper else []) + [_short(r.label, 24) for r in runs]
    fig, axes = _frame(rows_n, cols, 2.1, 0.15 * n, _label_width(labels), wspace=0.35, hspace=0.5)
    for k, t in enumerate(tasks):
        ax = axes[k // cols][k % cols]
        names, values, colors, errors = [], [], [], []
        if has_paper:
            row = paper.TABLE4.get(t)
            names += [f"{m} (paper)" for m in paper.MODELS]
            values += list(row) if row else [None] * len(paper.MODELS)
            colors += [PAPER_COLOR] * len(paper.MODELS)
            errors += [None] * len(paper.MODELS)
        for i, r in enumerate(runs):
            ts = r.table_tasks.get(t) if table else r.tasks.get(t)
            if ts is not None and not table and t in paper.TASK_CATEGORY and not ts.offtable:
                ts = None
            names.append(_short(r.label, 24))
            values.append(None if ts is None else ts.score)
            colors.append(run_color(i))
            errors.append(None if ts is None else ts.ci)
        spec = specs.get(t)
        decimals = spec.decimals if spec is not None else 1
        _bars(ax, names, values, colors, errors, decimals)
        unit = spec.unit if spec is not None else "%"
        ax.set_title(f"{paper.TASK_LABELS.get(t, t)} ({unit})")
        if k % cols:
            ax.set_yticklabels([])
    for k in range(len(tasks), rows_n * cols):
        axes[k // cols][k % cols].set_visible(False)
    return to_svg(fig, "Score per task with 95 % interval bars")


def cost_score(runs: Sequence[Any], costs: Sequence[float | None], tokens: Sequence[int]) -> str | None:
    """For two or more runs: per category, the normalized overall against tokens spent (and money, where priced)."""
    if len(runs) < 2:
        return None
    use_money = all(c is not None for c in costs)
    xs = list(costs) if use_money else [float(t) for t in tokens]
    panels: list[tuple[str, list[float | None]]] = []
    for c in CATEGORIES:
        ys = [r.overall.get(c) for r in runs]
        if sum(y is not None for y in ys) >= 1:
            panels.append((f"{CAT_LABELS[c]} overall", ys))
    if not panels:  # tasks outside the paper's categories only: mean score over each run's tasks
        panels.append(("mean task score", [sum(ts.score for ts in r.tasks.values()) / len(r.tasks) if r.tasks else None
                                           for r in runs]))
    fig, axes = _frame(1, len(panels), 2.9, 1.9, 0.6, wspace=0.6, bottom=0.5, right=0.9)
    axes = axes[0]
    for ax, (title, ys) in zip(axes, panels):
        for i, (r, x, y) in enumerate(zip(runs, xs, ys)):
            if y is None or x is None:
                continue
            ax.scatter([x], [y], color=run_color(i), s=28, zorder=3)
            ax.annotate(_short(r.label, 28), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
        shown = [x for x, y in zip(xs, ys) if x is not None and y is not None]
        if shown and min(shown) > 0 and max(shown) > 30 * min(shown):
            ax.set_xscale("log")
        ax.set_xlabel("cost (money)" if use_money else "model tokens (prompt + completion)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    return to_svg(fig, "Cost against score per run")


def task_breakdown(task: str, runs: Sequence[tuple[int, str, Sequence[Mapping[str, Any]]]],
                   statuses: Sequence[str]) -> str:
    """One task: status breakdown, reward distribution, turns and episode latency, one row of panels."""
    labels = [_short(label, 22) for _, label, _ in runs]
    fig, axes = _frame(1, 4, 2.1, 0.3 * max(2, len(runs)), _label_width(labels), wspace=0.35, bottom=0.95)
    ax_s, ax_r, ax_t, ax_l = axes[0]
    y = list(range(len(runs)))[::-1]
    left = [0] * len(runs)
    for st in statuses:
        counts = [sum(1 for r in recs if r.get("status") == st) for _, _, recs in runs]
        if not any(counts):
            continue
        ax_s.barh(y, counts, left=left, color=STATUS_COLORS.get(st, "#999"), label=st, height=0.7)
        left = [a + b for a, b in zip(left, counts)]
    ax_s.set_yticks(y)
    ax_s.set_yticklabels(labels, fontsize=7)
    ax_s.set_title("statuses (episodes)")
    ax_s.legend(fontsize=6, loc="upper left", bbox_to_anchor=(0.0, -0.25), ncol=2, frameon=False)
    bins = [i / 10 for i in range(11)]
    for (i, label, recs) in runs:
        rewards = [float(r.get("reward") or 0.0) for r in recs if r.get("status") != "task_error"]
        if rewards:
            ax_r.hist(rewards, bins=bins, histtype="step", color=run_color(i), linewidth=1.2, label=_short(label, 22))
    ax_r.set_title("reward distribution (scored)")
    ax_r.set_xlabel("reward")
    for ax, key, title in ((ax_t, "turns", "turns per episode"), (ax_l, "time", "episode time (s)")):
        data = []
        for _, _, recs in runs:
            vals = [float(r.get("turns") or 0) if key == "turns" else float((r.get("timings") or {}).get("total") or 0)
                    for r in recs]
            data.append(vals or [0.0])
        # whiskers at the 5th and 95th percentiles, no single points: a task may hold 14,000 episodes
        bp = ax.boxplot(data[::-1], orientation="horizontal", widths=0.6, whis=(5, 95), showfliers=False,
                        patch_artist=True)
        for patch, (i, _, _) in zip(bp["boxes"], list(runs)[::-1]):
            patch.set_facecolor(run_color(i))
            patch.set_alpha(0.45)
        ax.set_yticks([k + 1 for k in range(len(runs))])
        ax.set_yticklabels([""] * len(runs))  # the statuses panel names the runs
        ax.set_title(title)
        if key == "time" and max((max(d) for d in data), default=0) > 50 * max(1e-3, min(min(d) for d in data) or 1e-3):
            ax.set_xscale("symlog", linthresh=1.0)
    return to_svg(fig, f"{task}: statuses, rewards, turns and latency per run")
