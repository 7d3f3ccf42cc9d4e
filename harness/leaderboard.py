"""Leaderboard: the paper's eight rows beside the user's runs, as a terminal table, Markdown, CSV and HTML.

A run's cell reads ``score ± h (n)``: h is the half-width of the 95 % bootstrap interval over episodes, n the
scored episodes. ``(n/N)`` marks an incomplete task (fewer scored episodes than its split holds), ``, k err`` the
episodes that ended with an error (never scored); ``†`` a task not run on the paper's split or setting. A category
overall carries ``*`` when partial (a task missing, substituted or incomplete).
"""
from __future__ import annotations

import csv
import html
import io
from pathlib import Path
from typing import Sequence

from rich.console import Console

from . import paper
from . import tables
from .prices import Prices, money, run_costs, tokens
from .records import slug
from .scoring import RunScores, TaskScore

TASKS = [t for c in ("held_in", "held_out", "general") for t in paper.CATEGORY_TASKS[c]]
CATS = ("held_in", "held_out", "general")
CAT_LABELS = {"held_in": "Held-in", "held_out": "Held-out", "general": "General"}
HEADERS = ["Model"] + [paper.TASK_LABELS[t] for t in TASKS] + ["Held-in", "Held-out", "General"]
LEGEND = ("score ± half-width of the 95 % bootstrap interval (scored episodes); (n/N) incomplete: n of the split's N "
          "episodes scored; k err: episodes that ended with an error (never scored); † not the paper's split or "
          "setting; * partial category (a task missing, substituted or incomplete). Overall = mean of score / W_t.")


def _num(value: float | None, decimals: int) -> str:
    return "–" if value is None else f"{value:.{decimals}f}"


def task_cell(ts: TaskScore | None) -> str:
    if ts is None:
        return "–"
    d = ts.decimals
    text = f"{ts.score:.{d}f}" + ("†" if ts.substituted else "")
    if ts.half_width is not None:
        text += f" ± {ts.half_width:.{d}f}"
    count = str(ts.n) if ts.complete or ts.split_size is None else f"{ts.n}/{ts.split_size}"
    if ts.n_errors:
        count += f", {ts.n_errors} err"
    return f"{text} ({count})"


def overall_cell(run: RunScores, category: str) -> str:
    value = run.overall.get(category)
    if value is None:
        return "–"
    ci = run.overall_ci.get(category)
    text = f"{value:.2f}" + ("*" if category in run.partial else "")
    return text + (f" ± {(ci[1] - ci[0]) / 2:.2f}" if ci else "")


def rows(runs: Sequence[RunScores]) -> list[list[str]]:
    out = []
    for i, model in enumerate(paper.MODELS):
        row = [f"{model} (paper)"]
        row += [_num(paper.TABLE4[t][i], paper.DECIMALS.get(t, 1)) for t in TASKS]
        row += [_num(paper.PAPER_OVERALL[c][i], 2) for c in CATS]
        out.append(row)
    for run in runs:
        table = run.table_tasks
        out.append([run.label or run.model] + [task_cell(table.get(t)) for t in TASKS]
                   + [overall_cell(run, c) for c in CATS])
    return out


def extra_tasks(runs: Sequence[RunScores]) -> list[str]:
    """Tasks outside the paper's table (plugins, stand-ins, fixtures), listed under the main table."""
    return sorted({t for r in runs for t, s in r.tasks.items() if t not in paper.TASK_CATEGORY or s.offtable})


def _extra_cell(run: RunScores, name: str) -> str:
    ts = run.tasks.get(name)
    if ts is None or (name in paper.TASK_CATEGORY and not ts.offtable):
        return "–"
    return task_cell(ts) + (f" [{ts.split}]" if ts.offtable else "")


def run_legend(runs: Sequence[RunScores]) -> list[str]:
    """One line per run whose name does not say which model it ran (a ``--name``): ``label: model spec``."""
    out = []
    for r in runs:
        if r.model and slug(r.model) != r.folder:
            out.append(f"{r.label or r.model}: {r.model}")
    return out


def transposed(runs: Sequence[RunScores]) -> tuple[list[str], list[list[str]], list[int]]:
    """Tasks as rows; the paper's models and the runs as columns (for narrow terminals). Returns headers, rows and
    the row indices that start a category."""
    headers = ["Task"] + [f"{m} (paper)" for m in paper.MODELS] + [r.label or r.model for r in runs]
    body: list[list[str]] = []
    sections: list[int] = []
    for c in CATS:
        sections.append(len(body))
        for t in paper.CATEGORY_TASKS[c]:
            row = [paper.TASK_LABELS[t]] + [_num(paper.TABLE4[t][i], paper.DECIMALS.get(t, 1))
                                            for i in range(len(paper.MODELS))]
            body.append(row + [task_cell(r.table_tasks.get(t)) for r in runs])
    sections.append(len(body))
    for c in CATS:
        body.append([CAT_LABELS[c]] + [_num(v, 2) for v in paper.PAPER_OVERALL[c]] + [overall_cell(r, c) for r in runs])
    return headers, body, sections[1:]


def render_terminal(runs: Sequence[RunScores], console: Console | None = None) -> None:
    """The leaderboard: Markdown when not a terminal; in a terminal, runs as rows when the table fits its width
    unwrapped, else tasks as rows and the paper's models and runs as columns (in blocks that fit)."""
    console = console or Console()
    legend = run_legend(runs)
    if not console.is_terminal:
        console.print(to_markdown(runs), markup=False, highlight=False, soft_wrap=True)
        if legend:
            console.print("Runs: " + "; ".join(legend), markup=False, highlight=False, soft_wrap=True)
        return
    title = "AgentTuning Table 4 (paper rows) and your runs"
    wide = rows(runs)
    n_paper = len(paper.MODELS)
    if tables.natural_width(HEADERS, wide) <= console.width:
        tables.show(console, HEADERS, wide, title=title, caption=LEGEND,
                    justify=["left"] + ["right"] * (len(HEADERS) - 1),
                    row_styles=["dim"] * n_paper + ["bold"] * len(runs), sections=[n_paper])
    else:
        headers, body, sections = transposed(runs)
        tables.show(console, headers, body, title=title + ": tasks as rows", caption=LEGEND,
                    justify=["left"] + ["right"] * (len(headers) - 1), sections=sections)
    for line in legend:
        console.print("run " + line, markup=False, highlight=False, soft_wrap=True)
    extra = extra_tasks(runs)
    if extra:
        tables.show(console, ["Run"] + extra, [[r.label or r.model] + [_extra_cell(r, n) for n in extra] for r in runs],
                    title="Other tasks (never counted in a category)",
                    justify=["left"] + ["right"] * len(extra))


def detail_rows(runs: Sequence[RunScores], prices: Prices | None = None) -> tuple[list[str], list[list[str]]]:
    """One line per (run, task): split, score with its interval, n of the split, errors, tokens, cost, configuration."""
    headers = ["run", "task", "split", "score", "95 % interval", "n / split", "errors", "tokens"]
    if prices:
        headers.append("cost")
    headers.append("config")
    out = []
    for r in runs:
        costs = run_costs(r, prices)[0] if prices else {}
        for t, ts in r.tasks.items():
            ci = "–" if ts.ci is None else f"[{ts.ci[0]:.{ts.decimals}f}, {ts.ci[1]:.{ts.decimals}f}]"
            row = [r.label or r.model, t, ts.split + ("†" if ts.substituted else ""), f"{ts.score:.{ts.decimals}f}",
                   ci, f"{ts.n}/{ts.split_size or '?'}", str(ts.n_errors), f"{tokens(ts.metrics.get('usage', {})):,}"]
            if prices:
                row.append(money(costs.get(t)))
            out.append(row + [ts.config_hash])
    return headers, out


def render_details(runs: Sequence[RunScores], console: Console | None = None, prices: Prices | None = None) -> None:
    """One line per (run, task), each configuration apart."""
    console = console or Console()
    headers, body = detail_rows(runs, prices)
    right = {"score", "n / split", "errors", "tokens", "cost"}
    tables.show(console, headers, body, title="Per task (each configuration apart)", keys=2,
                justify=["right" if h in right else "left" for h in headers])


def to_markdown(runs: Sequence[RunScores], prices: Prices | None = None) -> str:
    text = tables.markdown(HEADERS, rows(runs), justify=["left"] + ["right"] * (len(HEADERS) - 1))
    text += f"\n{LEGEND}\n"
    extra = extra_tasks(runs)
    if extra:
        text += "\n" + tables.markdown(["Run"] + extra, [[r.label or r.model] + [_extra_cell(r, n) for n in extra]
                                                        for r in runs],
                                      title="Other tasks (never counted in a category):")
    if prices and runs:
        headers, body = detail_rows(runs, prices)
        text += "\n" + tables.markdown(headers, body, title="Per task, with tokens and cost:")
    return text


def to_csv(runs: Sequence[RunScores], prices: Prices | None = None) -> str:
    """One line per (row, task) with the numbers apart, for spreadsheets and plots."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["row", "task", "split", "score", "ci_low", "ci_high", "stderr", "n", "n_errors", "split_size",
                "complete", "substituted", "config_hash", "tokens", "cost"])
    blank = [""] * 9
    for i, model in enumerate(paper.MODELS):
        for t in TASKS:
            w.writerow([f"{model} (paper)", t, "", paper.TABLE4[t][i], *blank, "", ""])
        for c in CATS:
            w.writerow([f"{model} (paper)", c, "", paper.PAPER_OVERALL[c][i], *blank, "", ""])
    for r in runs:
        costs = run_costs(r, prices)[0] if prices else {}
        for t, ts in r.tasks.items():
            cost = costs.get(t)
            w.writerow([r.label or r.model, t, ts.split, round(ts.score, 4),
                        *(("", "") if ts.ci is None else (round(ts.ci[0], 4), round(ts.ci[1], 4))),
                        "" if ts.stderr is None else round(ts.stderr, 4), ts.n, ts.n_errors, ts.split_size or "",
                        ts.complete, ts.substituted, ts.config_hash, tokens(ts.metrics.get("usage", {})),
                        "" if cost is None else round(cost, 6)])
        for c in CATS:
            if r.overall.get(c) is not None:
                ci = r.overall_ci.get(c)
                w.writerow([r.label or r.model, c, "", round(r.overall[c], 4),
                            *(("", "") if ci is None else (round(ci[0], 4), round(ci[1], 4))), "", "", "", "",
                            c not in r.partial, "", "", "", ""])
    return buf.getvalue()


def to_html(runs: Sequence[RunScores]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>\n" for r in rows(runs))
    return ("<!doctype html><meta charset='utf-8'><title>Leaderboard</title>"
            "<style>table{border-collapse:collapse;font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px;"
            "text-align:right}td:first-child{text-align:left}</style>"
            f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"
            f"<p>{html.escape(LEGEND)}</p>\n")


def write_all(runs: Sequence[RunScores], out_dir: Path, prices: Prices | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext, text in (("md", to_markdown(runs, prices)), ("csv", to_csv(runs, prices)), ("html", to_html(runs))):
        p = out_dir / f"leaderboard.{ext}"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths
