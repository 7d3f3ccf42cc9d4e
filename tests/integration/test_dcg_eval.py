"""Digital Card Game through the command line: the scripted player wins and the breakdown per baseline and seat comes
from the records' facts; the same seeds give the same games; unusable replies lose; a killed harness leaves no game
process behind."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness import data_dir
from harness.records import read_records
from tests.helpers import HARNESS, ROOT, harness_env, run_harness
from tests.integration.dcg_support import engine

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dcg_engine():
    return engine()

SUBSET = "0-2,50-52,100-102,150-152"  # three games of each (baseline, seat) group of the ext split


def _env() -> dict:
    return harness_env(HARNESS_DATA=str(data_dir()))


def _eval(out: Path, *args: str) -> dict:
    r = run_harness("eval", "--model", "oracle", "--tasks", "dcg", "--split", "ext", "--no-progress", "--output",
                    str(out), *args, env=_env(), timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return json.loads(next(out.glob("*/dcg/summary.json")).read_text())


def _records(out: Path) -> dict[int, dict]:
    return {r["index"]: r for r in read_records(next(out.glob("*/dcg/episodes.jsonl")))}


def test_scripted_player_wins_and_same_seeds_give_the_same_games(dcg_engine, tmp_path):
    first = _eval(tmp_path / "a", "--indices", SUBSET)
    assert first["n"] == 12 and first["metrics"]["statuses"] == {"completed": 12}
    breakdown = first["metrics"]["breakdown"]
    for group in ("baseline1/seat0", "baseline1/seat1", "baseline2/seat0", "baseline2/seat1"):
        assert breakdown[group]["n"] == 3
    assert breakdown["baseline1"]["win_rate"] == 100.0  # the scripted player beats baseline1
    assert first["score"] >= 75.0
    a = _records(tmp_path / "a")
    assert a[151]["facts"] == {"opponent": "baseline2", "seat": 1, "seed": 1, "game": 1, "stage": 2}
    second = _eval(tmp_path / "b", "--indices", SUBSET, "--concurrency", "3")
    b = _records(tmp_path / "b")
    assert second["score"] == first["score"]
    for i in a:  # game for game: the winner, the damage dealt and taken, the number of states, every decision count
        assert (a[i]["reward"], a[i]["metrics"]) == (b[i]["reward"], b[i]["metrics"]), i


def test_unparseable_replies_lose_as_upstream_rules(dcg_engine, tmp_path):
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"task": "dcg", "index": i, "responses": ["I would rather not say."] * 12})
                              + "\n" for i in (0, 50, 100, 150)))
    r = run_harness("eval", "--model", f"replay:{replay}", "--tasks", "dcg", "--indices", "0,50,100,150",
                    "--no-progress", "--output", str(tmp_path / "out"), env=_env(), timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads(next((tmp_path / "out").glob("*/dcg/summary.json")).read_text())
    assert summary["split"] == "ext" and summary["n"] == 4 and summary["score"] == 0.0
    assert summary["metrics"]["statuses"] == {"agent_invalid_action": 4}
    for rec in _records(tmp_path / "out").values():
        assert rec["turns"] == 10 and rec["metrics"]["winner_seat"] == 1 - rec["facts"]["seat"]


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_killed_harness_leaves_no_game_process(dcg_engine, tmp_path):
    proc = subprocess.Popen([*HARNESS, "eval", "--model", "oracle", "--tasks", "dcg", "--split", "ext",
                             "--concurrency", "3", "--no-progress", "--output", str(tmp_path / "out")],
                            env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    games: set[int] = set()
    folders: set[str] = set()
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            games = {p for p in _descendants(proc.pid) if str(dcg_engine.root) in _cmdline(p)}
            if len([p for p in games if "logic/bin/main" in _cmdline(p)]) >= 2:
                break
            time.sleep(0.05)
        assert games, "no game started"
        time.sleep(0.3)
        games |= {p for p in _descendants(proc.pid) if str(dcg_engine.root) in _cmdline(p)}
        folders = {w for p in games for w in _cmdline(p).split() if "harness-dcg-" in w}
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in games):
        time.sleep(0.1)
    assert not [(p, _cmdline(p)) for p in games if _alive(p)]
    assert folders and any(Path(f).exists() for f in folders)  # the game folders outlive a SIGKILL ...
    from envs.dcg.env import CardGameEnv

    CardGameEnv(split="std", data_dir=data_dir()).close()  # ... until the next env starts and removes them
    assert not [f for f in folders if Path(f).exists()]


@pytest.mark.slow
def test_full_ext_split_with_the_scripted_player(dcg_engine, tmp_path):
    """The paper's 200 games (measured here: 177/200 = 88.5 %; baseline1 100/100, baseline2 46/50 in seat 0 and
    31/50 in seat 1)."""
    summary = _eval(tmp_path / "full")
    assert summary["n"] == 200 and summary["complete"] and summary["metrics"]["statuses"] == {"completed": 200}
    breakdown = summary["metrics"]["breakdown"]
    assert all(breakdown[f"baseline{b}/seat{s}"]["n"] == 50 for b in (1, 2) for s in (0, 1))
    assert summary["score"] >= 80.0 and breakdown["baseline1"]["win_rate"] == 100.0
