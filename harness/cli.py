"""``harness``: eval, score, leaderboard, envs, setup, data status|pull, train, export.

Exit statuses: 0 done; 2 bad input or a failed preflight (one line saying what is wrong and how to mend it; nothing
is written then); 3 a run that recorded errors (infrastructure failures, never scored: the same command retries
them) or stopped at --max-errors; 130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console

from . import paper, tables
from .errors import UsageError

console = Console()
err_console = Console(stderr=True)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, status 2
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _parse_indices(text: str) -> list[int]:
    out: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            if "-" in part:
                a, b = part.split("-", 1)
                out.extend(range(int(a), int(b) + 1))
            else:
                out.append(int(part))
    except ValueError:
        raise UsageError(f"--indices {text!r} is malformed: give numbers and ranges like 0,3,10-19") from None
    return out


def _parse_kv(items: Sequence[str] | None, flag: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} {item!r} is malformed: use {flag} KEY=VALUE")
        out[key] = value
    return out


def _load_plugins(args: argparse.Namespace) -> None:
    if getattr(args, "plugins", None):
        os.environ["HARNESS_PLUGINS"] = ",".join(filter(None, [os.environ.get("HARNESS_PLUGINS", ""), args.plugins]))


# --- eval --------------------------------------------------------------------------------------------------------
def cmd_eval(args: argparse.Namespace) -> int:
    from .registry import resolve_tasks
    from .runner import RunConfig, run_result

    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit must be a non-negative number of episodes")
    prices = _prices(args)  # a malformed price stops the run before it starts
    specs = resolve_tasks(args.tasks)
    named = {t.strip() for t in args.tasks.split(",")}  # tasks picked only through a group may be skipped
    cfg = RunConfig(model=args.model, tasks=specs, named=named, split=args.split, limit=args.limit,
                    indices=_parse_indices(args.indices) if args.indices else None, concurrency=args.concurrency,
                    task_concurrency=args.task_concurrency, output=Path(args.output), name=args.name,
                    judge=args.judge, turn_timeout=args.turn_timeout, episode_timeout=args.episode_timeout,
                    agent_options=_parse_kv(args.agent_option, "--agent-option"),
                    generation={"max_new_tokens": args.max_new_tokens, "temperature": args.temperature},
                    epochs=args.epochs, max_errors=args.max_errors, progress=not args.no_progress, ray=args.ray)
    result = run_result(cfg)
    if args.json:
        print(json.dumps(result.summaries, indent=2))
    if not args.no_report and os.environ.get("HARNESS_REPORT", "1") != "0":
        _write_report(Path(args.output), prices)
    if result.aborted or result.n_errors:
        top = result.most_frequent_error()
        what = (f"stopped after {result.n_errors} errored episodes (--max-errors {cfg.max_errors})" if result.aborted
                else f"{result.n_errors} episode(s) ended with an error")
        err_console.print(f"harness: {what}; errors are never scored and the same command retries them. Most "
                          f"frequent ({top[1]}x): {top[0]}", highlight=False, soft_wrap=True, markup=False)
        return 3
    return 0


# --- score / leaderboard / report --------------------------------------------------------------------------------
def _prices(args: argparse.Namespace):
    from .prices import Prices

    return Prices.parse(getattr(args, "price", None), getattr(args, "prices", None))


def _write_report(output: Path, prices) -> None:
    """The HTML report of every run under ``output`` (after a run: a failure to write it never changes the exit
    status of the run, it is reported in one line)."""
    from .report import build_report
    from .scoring import model_dirs

    try:
        if not output.exists() or not model_dirs(output):
            return
        res = build_report(output, prices=prices)
    except Exception as exc:  # the run's records are safe; only the report is missing
        err_console.print(f"harness: the report could not be written ({type(exc).__name__}: {exc}); "
                          f"run `harness report {output}` to retry", highlight=False, soft_wrap=True, markup=False)
        return
    err_console.print(f"wrote {res.path} ({res.episodes:,} episodes; open it in a browser or run "
                      f"`harness view {output}`)", highlight=False, soft_wrap=True, markup=False)


def _collect(path: Path, only_config: str | None = None):
    from .scoring import model_dirs, score_model_dir

    if not path.exists():
        raise UsageError(f"results folder {path} does not exist: run `harness eval` first or give the right folder")
    dirs = model_dirs(path)
    if not dirs:
        raise UsageError(f"no episode records under {path}: give a results folder or a model folder inside it")
    root = path.parent if dirs == [path] else path
    runs = [row for d in dirs for row in score_model_dir(d, only_config)]
    if only_config and not runs:
        raise UsageError(f"no records of configuration {only_config} under {path}: see the config_hash of its "
                         f"records or configs.json")
    return runs, root


def cmd_score(args: argparse.Namespace) -> int:
    from .leaderboard import render_details, render_terminal, write_all

    prices = _prices(args)
    path = Path(args.dir)
    runs, root = _collect(path, args.config)
    if args.json:
        objs = [r.to_json() for r in runs]
        print(json.dumps(objs[0] if len(objs) == 1 else objs, indent=2))
        return 0
    render_terminal(runs, console)
    render_details(runs, console, prices)
    # the folder's leaderboard holds every run in it, not only the ones scored now
    board = runs if (root == path and not args.config) else _collect(root)[0]
    for p in write_all(board, root, prices):
        err_console.print(f"wrote {p}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report

    prices = _prices(args)
    path = Path(args.dir)
    _collect(path)  # the same one-line errors as `harness score` for a missing or empty folder
    res = build_report(path, output=Path(args.output) if args.output else None, prices=prices)
    console.print(f"wrote {res.path}: {res.runs} run(s), {res.episodes:,} episodes, {res.bytes / 1e6:.1f} MB, "
                  f"{res.seconds:.1f} s", highlight=False, soft_wrap=True, markup=False)
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    from .report import REPORT, build_report
    from .report.serve import make_server
    from .scoring import EPISODES, model_dirs

    path = Path(args.dir)
    if path.is_file():
        report = path
    else:
        if not path.exists():
            raise UsageError(f"results folder {path} does not exist: run `harness eval` first or give the right folder")
        dirs = model_dirs(path)
        if not dirs:
            raise UsageError(f"no episode records under {path}: give a results folder or a model folder inside it")
        report = path / REPORT
        newest = max((p.stat().st_mtime for d in dirs for p in d.glob(f"*/{EPISODES}")), default=0.0)
        if args.rebuild or not report.exists() or report.stat().st_mtime < newest:
            res = build_report(path, prices=_prices(args))
            err_console.print(f"wrote {res.path} ({res.episodes:,} episodes)", highlight=False, markup=False)
    try:
        server = make_server(report, args.host, args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port} ({exc.strerror}): choose another --port") from None
    host, port = server.server_address[:2]
    print(f"serving {report} at http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare
    from .records import config_records
    from .registry import tasks as registered
    from .scoring import EPISODES, model_dirs

    sides = []
    for folder in (args.a, args.b):
        runs, _ = _collect(Path(folder))
        dirs = model_dirs(Path(folder))
        if len(dirs) != 1:
            raise UsageError(f"{folder} holds several runs ({', '.join(d.name for d in dirs)}): give one run folder")
        row, base = runs[0], dirs[0]
        records = {t: config_records(base / t / EPISODES, s.config_hash) for t, s in row.tasks.items()}
        sides.append((row, records))
    (ra, reca), (rb, recb) = sides
    task_diffs, cat_diffs = compare(ra, rb, reca, recb, registered())
    if not task_diffs:
        raise UsageError(f"{args.a} and {args.b} share no scored episodes of any task: compare runs of the same tasks")
    if args.json:
        print(json.dumps({"a": ra.label, "b": rb.label, "tasks": [d.to_json() for d in task_diffs],
                          "categories": [d.to_json() for d in cat_diffs]}, indent=2))
        return 0
    headers = ["task / category", "A", "B", "A - B", "95 % interval", "paired n", "significant"]
    body = []
    for d in task_diffs + cat_diffs:
        ci = "–" if d.ci is None else f"[{d.ci[0]:+.2f}, {d.ci[1]:+.2f}]"
        body.append([d.name, f"{d.a:.2f}", f"{d.b:.2f}", f"{d.diff:+.2f}", ci, str(d.n),
                     "yes" if d.significant else "no"])
    tables.show(console, headers, body, justify=["left"] + ["right"] * 6,
                title=f"A = {ra.label}, B = {rb.label}: A - B over paired episodes, 95 % paired-bootstrap interval")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from .leaderboard import render_terminal, write_all

    path = Path(args.dir)
    runs, root = _collect(path) if path.exists() else ([], path)
    render_terminal(runs, console)
    for p in write_all(runs, root, _prices(args)):
        err_console.print(f"wrote {p}")
    return 0


# --- envs / setup / data -----------------------------------------------------------------------------------------
def cmd_envs(args: argparse.Namespace) -> int:
    from .data import data_dir
    from .registry import availability, broken_plugins, tasks

    headers = ["name", "category", "splits", "metric", "W_t", "services", "data", "available"]
    body = []
    rows = []
    for name, spec in sorted(tasks().items(), key=lambda kv: (kv[1].category, kv[0])):
        w = spec.weight if spec.weight is not None else paper.weight(name)
        data_ok = all((data_dir() / p).exists() for p in spec.data)
        avail = availability(spec)
        rows.append({"name": name, "category": spec.category, "splits": dict(spec.splits), "metric": spec.metric,
                     "weight": w, "services": list(spec.services), "data_present": data_ok,
                     "available": avail.ok, "reason": avail.reason})
        body.append([name, spec.category, ", ".join(f"{k} {v}" for k, v in spec.splits.items()), spec.metric,
                     "–" if w is None else f"{w:.2f}", ", ".join(spec.services) or "–",
                     "present" if data_ok else "missing", "yes" if avail.ok else f"no: {avail.reason}"])
    for name, reason in broken_plugins().items():
        rows.append({"name": name, "available": False, "reason": reason})
        body.append([name, "?", "", "", "", "", "", f"no: plugin failed to load: {reason}"])
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        tables.show(console, headers, body, title=f"Environments (data: {data_dir()})")
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from .registry import SERVICE_GROUP, load_object, lookup, resolve_tasks

    specs = resolve_tasks(args.tasks)
    done: set[str] = set()
    failures = []
    for spec in specs:
        steps = [(f"service {s}", lambda s=s: getattr(lookup(SERVICE_GROUP, s), "install", lambda: None)())
                 for s in spec.services]
        if spec.setup:
            steps.append((f"{spec.name} setup", lambda spec=spec: load_object(spec.setup)()))
        for label, step in steps:
            if label in done:
                continue
            done.add(label)
            err_console.print(f"setup: {label} ...")
            try:
                step()
            except Exception as exc:
                failures.append(f"{label}: {type(exc).__name__}: {exc}")
                err_console.print(f"setup: {label} failed: {exc}", style="red", markup=False)
    if failures:
        err_console.print(f"{len(failures)} setup step(s) failed", style="red")
        return 1
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from . import datapull

    if args.action == "status":
        rows = datapull.status()
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        tables.show(console, ["task", "paths", "present", "splits"],
                    [[r["task"], "\n".join(r["paths"]) or "–",
                      "yes" if r["present"] else "\n".join(["missing", *r.get("get", [])]),
                      ", ".join(f"{k} {v}" for k, v in r["splits"].items())] for r in rows], title="Task data")
        return 0
    report = datapull.pull(mirror=args.mirror, dest=Path(args.dest) if args.dest else None, only=args.only,
                           manifest=Path(args.manifest) if args.manifest else None)
    err_console.print(f"data pull: {report['fetched']} fetched, {report['present']} already present, "
                      f"{len(report['failed'])} failed")
    for f in report["failed"]:
        err_console.print(f"  {f}", style="red", markup=False)
    return 1 if report["failed"] else 0


# --- parser ------------------------------------------------------------------------------------------------------
def _price_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--price", action="append", metavar="MODEL=IN/OUT",
                   help="price per million prompt/completion tokens of a model (spec, name or pattern); repeatable")
    p.add_argument("--prices", metavar="FILE", help="JSON or YAML file: MODEL -> IN/OUT per million tokens")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="harness", description="Agent-evaluation harness reproducing AgentTuning (arXiv 2310.12823)")
    p.add_argument("--plugins", help="comma-separated modules that register extra tasks (also HARNESS_PLUGINS)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    e = sub.add_parser("eval", help="run episodes and record them")
    e.add_argument("--model", required=True, help="hf:PATH | vllm:PATH | openai:NAME[@URL] | replay:FILE | oracle")
    e.add_argument("--tasks", required=True, help="task names and groups: held_in, held_out, general, all")
    e.add_argument("--split", help="split (default: each task's paper split)")
    e.add_argument("--limit", type=int, help="first N episodes of each task")
    e.add_argument("--indices", help="episode indices, e.g. 0,3,10-19")
    e.add_argument("--concurrency", type=int, default=32, help="episodes at once, all tasks together")
    e.add_argument("--task-concurrency", type=int, help="episodes at once per task (default: the env's safe limit)")
    e.add_argument("--output", default="results", help="results folder (default results/)")
    e.add_argument("--name", help="name of the run folder (default: the model spec)")
    e.add_argument("--judge", help="judge model spec for judged tasks (MT-Bench, ReWOO)")
    e.add_argument("--turn-timeout", type=float, default=900.0, help="seconds per model call or env step")
    e.add_argument("--episode-timeout", type=float, default=7200.0, help="seconds per episode")
    e.add_argument("--agent-option", action="append", metavar="K=V", help="option of the agent strategy")
    e.add_argument("--max-new-tokens", type=int, help="override the tasks' max_new_tokens")
    e.add_argument("--temperature", type=float, help="override the tasks' temperature")
    e.add_argument("--epochs", type=int, default=1,
                   help="runs of each episode (with --temperature: mean, pass@k and pass^k per task)")
    e.add_argument("--max-errors", type=int, default=10,
                   help="stop (exit 3) once this many episodes errored (default 10; 0: never stop early)")
    e.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run the envs in Ray actors spread over a cluster: auto, ray://HOST:10001, HOST:6379, or no "
                        "address for a local Ray instance (needs the ray extra)")
    e.add_argument("--retry-errors", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for scripts
    e.add_argument("--no-progress", action="store_true", help="no live display")
    e.add_argument("--json", action="store_true", help="print the task summaries as JSON at the end")
    e.add_argument("--no-report", action="store_true",
                   help="do not write OUTPUT/report.html at the end (also HARNESS_REPORT=0)")
    _price_args(e)
    e.set_defaults(func=cmd_eval)

    s = sub.add_parser("score", help="score a results folder (each configuration apart)")
    s.add_argument("dir")
    s.add_argument("--config", help="score only this configuration hash")
    s.add_argument("--json", action="store_true")
    _price_args(s)
    s.set_defaults(func=cmd_score)

    rp = sub.add_parser("report", help="one self-contained HTML file: leaderboard, plots, every trajectory")
    rp.add_argument("dir", nargs="?", default="results", help="results folder or one run folder (default results/)")
    rp.add_argument("--output", help="the HTML file (default: DIR/report.html)")
    _price_args(rp)
    rp.set_defaults(func=cmd_report)

    vw = sub.add_parser("view", help="serve the report on localhost and print its URL (rebuilt when records changed)")
    vw.add_argument("dir", nargs="?", default="results", help="results folder, run folder or report file")
    vw.add_argument("--host", default="127.0.0.1")
    vw.add_argument("--port", type=int, help="default 8765 (a free port when taken)")
    vw.add_argument("--rebuild", action="store_true", help="rebuild the report even when it is newer than the records")
    _price_args(vw)
    vw.set_defaults(func=cmd_view)

    c = sub.add_parser("compare", help="paired per-episode differences of two runs of the same tasks")
    c.add_argument("a", help="run folder A (results/<model>)")
    c.add_argument("b", help="run folder B")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_compare)

    lb = sub.add_parser("leaderboard", help="paper rows beside your runs (terminal, md, csv, html)")
    lb.add_argument("dir", nargs="?", default="results")
    _price_args(lb)
    lb.set_defaults(func=cmd_leaderboard)

    en = sub.add_parser("envs", help="list environments")
    en.add_argument("--json", action="store_true")
    en.set_defaults(func=cmd_envs)

    st = sub.add_parser("setup", help="install system packages, build images, for the given tasks")
    st.add_argument("--tasks", default="all")
    st.set_defaults(func=cmd_setup)

    d = sub.add_parser("data", help="task data: status | pull")
    d.add_argument("action", choices=["status", "pull"])
    d.add_argument("--mirror", help="a local folder or http(s) URL with the data layout")
    d.add_argument("--dest", help="where to put the data (default HARNESS_DATA)")
    d.add_argument("--only", help="only paths starting with this prefix, e.g. agentbench/dbbench")
    d.add_argument("--manifest", help="manifest file (default: the one shipped with the harness)")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_data)

    for module in ("harness.train.cli", "harness.export"):
        try:
            mod = __import__(module, fromlist=["add_parser"])
        except ImportError:
            continue
        for fn in ("add_parser", "add_train_parser", "add_export_parser"):
            if hasattr(mod, fn):
                getattr(mod, fn)(sub)
    return p


def _exit_on_sigterm(signum, frame) -> None:
    """SIGTERM ends the run like Ctrl-C: finished episodes stay recorded and services are stopped (atexit runs)."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        _load_plugins(args)
        return int(args.func(args) or 0)
    except UsageError as exc:
        err_console.print(f"harness: error: {exc}", highlight=False, soft_wrap=True, markup=False)
        return 2
    except KeyboardInterrupt:
        err_console.print("harness: interrupted; finished episodes are recorded, run the same command to resume")
        return 130


if __name__ == "__main__":
    sys.exit(main())
