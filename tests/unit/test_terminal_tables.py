"""Tables in a terminal of 80 and 200 columns (a real pseudo-terminal) and piped: no name or number is cut."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.helpers import ECHO_REPLAY, HARNESS, ROOT, harness_env, run_harness
from tests.synthetic import write_run

BOX = re.compile(r"[│┃║|┏┓┗┛┡┩┣┫╇╋━─┼┳┻╈┠┨├┤┬┴┌┐└┘]")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def in_terminal(args: list[str], columns: int, env: dict[str, str]) -> str:
    """Run the CLI with its output on a pseudo-terminal of the given width; return what it printed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, columns, 0, 0))
    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([*HARNESS, *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                            close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")[-3000:]
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r", "")


def words_of(text: str) -> set[str]:
    return {w for line in text.splitlines() for w in BOX.sub(" ", line).split()}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Runs with long names, one configuration that differs (max_new_tokens), paper tasks with intervals, n/N,
    errors and two-decimal tasks."""
    out = tmp_path_factory.mktemp("tables") / "results"
    env = harness_env()
    for args in (["--model", "oracle", "--limit", "6"],
                 ["--model", "oracle", "--limit", "6", "--max-new-tokens", "7"],
                 ["--model", "oracle", "--limit", "6", "--name", "oracle-again"],  # the same model, another name
                 ["--model", f"replay:{ECHO_REPLAY}", "--limit", "9", "--name", "echo-replay-of-a-rather-long-name"]):
        r = run_harness("eval", "--tasks", "echo", "--output", str(out), "--no-progress", "--no-report", *args, env=env)
        assert r.returncode == 0, r.stderr
    write_run(out, "synthetic-paper-tasks", sizes={"gsm8k": 40, "os": 12, "kg": 10, "webarena": 9, "mt_bench": 6,
                                                   "hotpotqa": 10})
    return out


def expected_words(out: Path) -> set[str]:
    """Every word of every name and cell the leaderboard holds."""
    from harness import paper
    from harness.cli import _collect
    from harness.leaderboard import rows, transposed
    runs, _ = _collect(out)
    headers, body, _ = transposed(runs)
    words = set()
    for cell in headers + [c for r in body for c in r] + [c for r in rows(runs) for c in r]:
        words.update(cell.split())
    assert {"oracle", "[max_new_tokens=7]", "oracle-again", "echo-replay-of-a-rather-long-name"} <= words
    assert any(re.fullmatch(r"\(\d+/1319\)", w) for w in words)  # an incomplete task's n/N
    words.update(paper.MODELS)
    return words


@pytest.mark.parametrize("columns", [80, 200])
def test_leaderboard_in_a_terminal_fits_and_cuts_nothing(results, columns):
    env = harness_env(NO_COLOR="1")
    text = in_terminal(["leaderboard", str(results)], columns, env)
    lines = text.splitlines()
    # tables fit; a run's model spec (a path can be longer than the terminal) is one line the terminal wraps
    assert max(cell_len(line) for line in lines if not line.startswith("run ")) <= columns
    assert "…" not in text
    missing = expected_words(results) - words_of(text)
    assert not missing, missing
    # a run whose name is not its model spec says which model it ran
    assert "run echo-replay-of-a-rather-long-name: replay:" in " ".join(lines)
    assert "run oracle-again: oracle" in lines
    if columns == 80:
        assert "tasks as rows" in text  # tasks become rows, runs columns


@pytest.mark.parametrize("columns", [80, 200])
def test_score_details_envs_and_compare_fit_the_terminal(results, columns):
    env = harness_env(NO_COLOR="1", HARNESS_DATA=os.environ.get("HARNESS_DATA", str(results)))
    for args in (["score", str(results / "oracle")], ["envs"],
                 ["compare", str(results / "oracle"), str(results / "echo-replay-of-a-rather-long-name")]):
        text = in_terminal(args, columns, env)
        assert max(cell_len(line) for line in text.splitlines()) <= columns, args
        assert "…" not in text, args
        words = words_of(text)
        if args[0] == "envs":
            names = [row["name"] for row in json.loads(run_harness("envs", "--json", env=env).stdout)]
            assert set(names) <= words, set(names) - words
        elif args[0] == "score":
            hashes = {json.loads(p.read_text()).keys().__iter__().__next__()
                      for p in (results / "oracle").glob("*/configs.json")}
            assert hashes <= words  # configuration hashes whole
        else:
            assert {"echo", "100.00", "66.67", "+33.33"} <= words, words


def test_piped_output_is_markdown_with_whole_names_and_cells(results):
    env = harness_env(HARNESS_DATA=os.environ.get("HARNESS_DATA", str(results)))
    r = run_harness("leaderboard", str(results), env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    table = [line for line in lines if line.startswith("|")]
    for a, b in zip(lines, lines[1:]):  # within a table, every row whole, on one line
        if a.startswith("|") and b.startswith("|"):
            assert a.count("|") == b.count("|"), (a, b)
    cells = {c.strip() for line in table for c in line.strip("|").split("|")}
    from harness.cli import _collect
    from harness.leaderboard import rows
    runs, _ = _collect(results)
    assert {c for row in rows(runs) for c in row} <= cells
    # `harness envs | grep NAME` finds every task by its whole name
    r = run_harness("envs", env=env)
    names = [row["name"] for row in json.loads(run_harness("envs", "--json", env=env).stdout)]
    for name in names:
        assert any(line.startswith(f"| {name} |") for line in r.stdout.splitlines()), name


def test_score_adds_to_the_folders_leaderboard(results, tmp_path):
    env = harness_env()
    board = results / "leaderboard.md"
    board.unlink(missing_ok=True)
    r = run_harness("score", str(results / "oracle"), env=env)
    assert r.returncode == 0, r.stderr
    md = board.read_text()
    for label in ("| oracle |", "| oracle [max_new_tokens=7] |", "| oracle-again |",
                  "| echo-replay-of-a-rather-long-name |", "| synthetic-paper-tasks |"):
        assert label in md, label
    # scoring one configuration of one run keeps the others too
    h = next(iter(json.loads(next((results / "echo-replay-of-a-rather-long-name").glob("*/configs.json"))
                             .read_text())))
    r = run_harness("score", str(results / "echo-replay-of-a-rather-long-name"), "--config", h, env=env)
    assert r.returncode == 0, r.stderr
    assert "| oracle [max_new_tokens=7] |" in board.read_text() and "| synthetic-paper-tasks |" in board.read_text()
    # the printed table is the run that was scored, alone
    assert "synthetic-paper-tasks" not in r.stdout
