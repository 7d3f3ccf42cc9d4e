"""Numbers you can trust: errors are never scored and are retried, grouping facts come from the data, one
configuration is one score, every score carries its n and interval, compare, epochs (issue 12)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from harness import bootstrap as bs
from harness.records import read_records
from tests.helpers import ECHO, FIXTURES, ROOT, run_harness

PLUGIN = str(FIXTURES / "numbers_plugin.py")


def env(**extra):
    e = dict(os.environ)
    e["HARNESS_PLUGINS"] = f"{ECHO},{PLUGIN}"
    e.update({k: str(v) for k, v in extra.items()})
    return e


def records(out: Path, task: str = "echo") -> list[dict]:
    return list(read_records(next(out.glob(f"*/{task}/episodes.jsonl"))))


def summary(out: Path, task: str = "echo") -> dict:
    return json.loads(next(out.glob(f"*/{task}/summary.json")).read_text())


def test_errors_are_recorded_never_scored_exit_3_and_retried_by_the_same_command(tmp_path):
    fail = tmp_path / "fail.txt"
    fail.write_text("1,3")
    out = tmp_path / "out"
    cmd = ("eval", "--model", f"flaky:{fail}", "--tasks", "echo", "--output", str(out), "--no-progress")
    e = env(ECHO_SIZE=6)
    r = run_harness(*cmd, env=e)
    assert r.returncode == 3, r.stderr
    assert "2 episode(s) ended with an error" in r.stderr and "connection refused" in r.stderr
    recs = records(out)
    assert sorted((x["index"], x["status"]) for x in recs) == [
        (0, "completed"), (1, "task_error"), (2, "completed"), (3, "task_error"), (4, "completed"), (5, "completed")]
    err = next(x for x in recs if x["index"] == 1)
    assert err["reward"] == 0.0 and "BackendError: connection refused" in err["error"]
    assert "Traceback" not in err["error"] and "\n" in err["error"]  # message first, then the innermost frames
    s = summary(out)
    assert (s["score"], s["n"], s["n_errors"], s["split_size"], s["complete"]) == (100.0, 4, 2, 6, False)
    r = run_harness("leaderboard", str(out), env=e)
    assert "(4/6, 2 err)" in (out / "leaderboard.md").read_text()
    # the cause is fixed: the same command retries exactly the errored episodes and completes the task
    fail.write_text("")
    r = run_harness(*cmd, env=e)
    assert r.returncode == 0, r.stderr
    recs = records(out)
    assert len(recs) == 8 and sorted(x["index"] for x in recs[6:]) == [1, 3]
    s = summary(out)
    assert (s["score"], s["n"], s["n_errors"], s["complete"]) == (100.0, 6, 0, True)
    r = run_harness(*cmd, env=e)  # nothing left to do: outcomes are never re-run
    assert r.returncode == 0 and len(records(out)) == 8


def test_max_errors_stops_the_run_early_with_exit_3_and_the_most_frequent_error(tmp_path):
    fail = tmp_path / "fail.txt"
    fail.write_text("all")
    out = tmp_path / "out"
    r = run_harness("eval", "--model", f"flaky:{fail}", "--tasks", "echo", "--output", str(out), "--no-progress",
                    "--max-errors", "5", "--concurrency", "2", env=env(ECHO_SIZE=200, ECHO_DELAY=0.01))
    assert r.returncode == 3, r.stderr
    assert "stopped after" in r.stderr and "--max-errors 5" in r.stderr and "connection refused" in r.stderr
    recs = records(out)
    assert 5 <= len(recs) < 20 and all(x["status"] == "task_error" for x in recs)
    s = summary(out)
    assert s["n"] == 0 and s["n_errors"] == len(recs) and s["ci95"] is None


def test_a_failed_preflight_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    r = run_harness("eval", "--model", "openai:m@http://127.0.0.1:9/v1", "--tasks", "echo", "--output", str(out),
                    env=env())
    assert r.returncode == 2 and not out.exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "did not answer a probe request" in lines[0] and "127.0.0.1:9" in lines[0], lines
    r = run_harness("eval", "--model", "hf:/nonexistent/model", "--tasks", "echo", "--output", str(out), env=env())
    assert r.returncode == 2 and not out.exists() and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr
    r = run_harness("eval", "--model", "oracle", "--tasks", "echo", "--output", str(out),
                    "--agent-option", "nonsense=1", env=env())
    assert r.returncode == 2 and "nonsense" in r.stderr and "read by none" in r.stderr and not out.exists()


def test_summary_is_the_runs_own_configuration(tmp_path):
    out = tmp_path / "out"
    base = ("eval", "--model", "oracle", "--tasks", "echo", "--output", str(out), "--no-progress")
    assert run_harness(*base, "--limit", "6", env=env()).returncode == 0
    assert run_harness(*base, "--limit", "1", "--max-new-tokens", "7", env=env()).returncode == 0
    assert summary(out)["n"] == 1
    assert run_harness(*base, "--limit", "6", env=env()).returncode == 0  # nothing new to run
    s = summary(out)
    assert s["n"] == 6 and s["score"] == 100.0
    r = run_harness("score", str(out), "--json", env=env())
    rows = json.loads(r.stdout)
    assert len(rows) == 2  # two configurations, never mixed: one row each, labelled by what differs
    by_n = {row["details"]["echo"]["n"]: row for row in rows}
    assert set(by_n) == {6, 1}
    assert by_n[1]["distinct"] == ["max_new_tokens=7"] and by_n[6]["distinct"] == []
    md = run_harness("leaderboard", str(out), env=env())
    assert md.returncode == 0
    text = (out / "leaderboard.md").read_text()
    assert "[max_new_tokens=7]" in text


def test_facts_put_cut_episodes_in_their_true_group(tmp_path):
    """Episodes that end early (context limit: an outcome with no metrics) are scored in the group the data gives."""
    from harness.runner import RunConfig, run
    from harness.registry import discover, get_task

    os.environ["HARNESS_PLUGINS"] = f"{ECHO},{PLUGIN}"
    discover(force=True)
    s = run(RunConfig(model="overflow:5", tasks=[get_task("grouped")], output=tmp_path, progress=False))
    recs = list(read_records(next(tmp_path.glob("*/grouped/episodes.jsonl"))))
    cut = [r for r in recs if r["status"] == "agent_context_limit"]
    assert len(cut) == 6 and all(r["metrics"] == {} and r["facts"]["group"] == "abc"[r["index"] % 3] for r in cut)
    # group a: indices 0,3,..,27 -> 0,15 cut (2 of 10); b: 1,4,..,28 -> 10,25 (2 of 10); c: 5,20 (2 of 10)
    assert s["grouped"]["score"] == pytest.approx(80.0)
    assert s["grouped"]["metrics"]["groups"] == {"a": 80.0, "b": 80.0, "c": 80.0}


@pytest.mark.parametrize("task,key,values", [
    ("hotpotqa", "level", ("easy", "medium", "hard")),
    ("sciworld", "task_name", ("boil", "melt", "freeze")),
    ("rewoo", "dataset", ("gsm8k", "strategy_qa", "sotu_qa")),
    ("mmlu", "subject", ("anatomy", "law", "virology")),
])
def test_real_aggregates_group_by_facts_not_by_metrics(task, key, values):
    from harness import get_task

    spec = get_task(task)
    recs = [{"task": task, "split": "test", "index": i, "status": "completed", "reward": float(i % 2),
             "facts": {key: values[i % 3]}, "metrics": {}} for i in range(30)]
    score, metrics = spec.aggregate(recs)
    text = json.dumps(metrics)
    assert all(v in text for v in values), metrics  # every true group is there ...
    assert '"?"' not in text and "_?" not in text and "f1_all" not in text, metrics  # ... and no made-up one
    assert score == pytest.approx(50.0, abs=10)


def test_mt_bench_categories_come_from_facts():
    from harness import get_task

    recs = [{"task": "mt_bench", "split": "test", "index": i, "status": "completed", "reward": 0.5,
             "facts": {"category": "math" if i % 2 else "coding"}, "metrics": {"turn_scores": [5, 7]}}
            for i in range(4)]
    score, metrics = get_task("mt_bench").aggregate(recs)
    assert score == 6.0 and set(metrics["categories"]) == {"math", "coding"}


def test_bootstrap_intervals_are_deterministic_cover_the_mean_and_respect_strata():
    recs = [{"split": "t", "index": i, "reward": float(i % 4 == 0), "facts": {"g": "xy"[i % 2]}} for i in range(400)]
    a = bs.bootstrap(recs, None, 100.0)
    b = bs.bootstrap(recs, None, 100.0)
    assert np.array_equal(a, b) and len(a) == bs.DEFAULT_REPLICATES
    lo, hi = bs.interval(a)
    assert lo < 25.0 < hi and 3.0 < hi - lo < 12.0  # sd of a mean of 400 Bernoulli(0.25): 2.17 -> width ~8.5
    assert bs.stderr(a) == pytest.approx(np.sqrt(0.25 * 0.75 / 400) * 100, rel=0.15)
    # a mean of group means over a one-episode group x (reward 1) and a 399-episode group y (reward 0): resampled
    # within groups it is always 50; resampled without strata, group x often vanishes and the metric jumps to 0
    recs = [{"split": "t", "index": i, "reward": float(i == 0), "facts": {"g": "x" if i == 0 else "y"}}
            for i in range(400)]

    def mean_of_means(rs):
        groups = {}
        for r in rs:
            groups.setdefault(r["facts"]["g"], []).append(r["reward"])
        return 100 * np.mean([np.mean(v) for v in groups.values()]), {}

    assert np.allclose(bs.bootstrap(recs, mean_of_means, group_by="g"), 50.0)
    assert (bs.bootstrap(recs, mean_of_means) == 0.0).mean() > 0.2


def test_epochs_record_each_run_and_report_pass_at_k(tmp_path):
    from harness.registry import discover, get_task
    from harness.runner import RunConfig, run

    os.environ["HARNESS_PLUGINS"] = f"{ECHO},{PLUGIN}"
    discover(force=True)
    s = run(RunConfig(model="coin:3", tasks=[get_task("echo")], limit=9, epochs=3, output=tmp_path,
                      progress=False, concurrency=1, generation={"temperature": 0.7}))
    recs = list(read_records(next(tmp_path.glob("*/echo/episodes.jsonl"))))
    assert len(recs) == 27 and sorted({r["epoch"] for r in recs}) == [0, 1, 2]
    m = s["echo"]["metrics"]
    # each episode has 3 epochs x up to 3 rounds; the coin answers right on the call where (index + calls) % 3 == 0,
    # so every episode succeeds within its first epoch's rounds or later: computed from the records themselves
    per = {}
    for r in recs:
        per.setdefault(r["index"], []).append(r["reward"] >= 1.0)
    k3 = 100 * np.mean([any(v) for v in per.values()])
    all3 = 100 * np.mean([all(v) for v in per.values()])
    assert m["epochs"] == 3 and m["pass@3"] == pytest.approx(k3) and m["pass^3"] == pytest.approx(all3)
    assert m["pass@1"] == pytest.approx(100 * np.mean([r["reward"] for r in recs]))
    assert s["echo"]["n"] == 9 and s["echo"]["complete"] is False  # 9 of the split's 300
    # resume by (index, epoch): nothing to redo
    run(RunConfig(model="coin:3", tasks=[get_task("echo")], limit=9, epochs=3, output=tmp_path, progress=False,
                  generation={"temperature": 0.7}))
    assert len(list(read_records(next(tmp_path.glob("*/echo/episodes.jsonl"))))) == 27


def test_pass_at_k_estimators():
    recs = [{"split": "s", "index": i, "epoch": e, "reward": r}
            for i, tries in enumerate([(1, 1, 1), (1, 0, 0), (0, 0, 0)]) for e, r in enumerate(tries)]
    m = bs.pass_at_k(recs)
    assert m["pass@1"] == pytest.approx(100 * 4 / 9)
    assert m["pass@3"] == pytest.approx(100 * 2 / 3) and m["pass^3"] == pytest.approx(100 / 3)
    assert m["pass@2"] == pytest.approx(100 * (1 + (1 - 1 / 3) + 0) / 3)


def test_compare_pairs_episodes_and_flags_significant_differences(tmp_path):
    out = tmp_path / "out"
    good = tmp_path / "good.jsonl"
    bad = tmp_path / "bad.jsonl"
    good.write_text("".join(json.dumps({"task": "echo", "index": i, "responses": [f"Answer: answer-{i}"]}) + "\n"
                            for i in range(60)))
    bad.write_text("".join(json.dumps({"task": "echo", "index": i, "responses": ["Invalid" if i % 2 else
                                                                                   f"Answer: answer-{i}"]}) + "\n"
                           for i in range(60)))
    for name, f in (("a", good), ("b", bad), ("c", good)):
        r = run_harness("eval", "--model", f"replay:{f}", "--name", name, "--tasks", "echo", "--limit", "60",
                        "--output", str(out), "--no-progress", env=env())
        assert r.returncode == 0, r.stderr
    r = run_harness("compare", str(out / "a"), str(out / "b"), "--json", env=env())
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)["tasks"][0]
    assert d["name"] == "echo" and d["diff"] == pytest.approx(50.0) and d["n"] == 60 and d["significant"]
    assert d["ci95"][0] > 30 and d["ci95"][1] < 70
    r = run_harness("compare", str(out / "a"), str(out / "c"), "--json", env=env())
    d = json.loads(r.stdout)["tasks"][0]
    assert d["diff"] == 0.0 and not d["significant"]
    r = run_harness("compare", str(out / "a"), str(out / "b"), env=env())
    assert r.returncode == 0 and "significant" in r.stdout


def test_leaderboard_cells_carry_interval_and_n(tmp_path):
    from harness.leaderboard import to_markdown
    from harness.scoring import score_model_dir

    d = tmp_path / "m" / "echo"
    d.mkdir(parents=True)
    (d / "episodes.jsonl").write_text("".join(json.dumps(
        {"task": "echo", "split": "test", "index": i, "status": "completed", "reward": float(i % 2),
         "config_hash": "h"}) + "\n" for i in range(300)))
    [row] = score_model_dir(tmp_path / "m")
    ts = row.tasks["echo"]
    assert ts.n == 300 and ts.complete and ts.score == 50.0
    assert ts.ci[0] < 50.0 < ts.ci[1] and 4.0 < ts.half_width < 7.5
    assert f"50.0 ± {ts.half_width:.1f} (300)" in to_markdown([row])


def test_register_task_refuses_to_replace_silently():
    from harness import TaskSpec, register_task

    spec = TaskSpec(name="unique_numbers_task", category="test", env="x:Y", splits={"a": 1}, default_split="a",
                    metric="m")
    register_task(spec)
    register_task(spec)  # the same spec again (a module imported twice): fine
    other = TaskSpec(name="unique_numbers_task", category="test", env="x:Z", splits={"a": 1}, default_split="a",
                     metric="m")
    with pytest.raises(ValueError, match="already registered"):
        register_task(other)
    assert register_task(other, replace=True).env == "x:Z"


def test_harness_names_no_task():
    """Scoring, the leaderboard and export read units, scales and rules from each TaskSpec, never a task's name."""
    from harness.paper import TASK_CATEGORY

    offenders = []
    for path in (ROOT / "harness").rglob("*.py"):
        if path.name == "paper.py":  # the paper's table itself
            continue
        text = path.read_text()
        for task in TASK_CATEGORY:
            if f'"{task}"' in text or f"'{task}'" in text:
                offenders.append(f"{path.relative_to(ROOT)}: {task}")
    assert not offenders, offenders


# --- the configuration hash: what changes outcomes, and nothing else -----------------------------------------------
class _Strategy:
    option_names = ("history",)
    unhashed_options = ()
    uses_judge = False


class _JudgedStrategy(_Strategy):
    uses_judge = True


def _hash(tmp_path, monkeypatch, *, spec_kw=None, cfg_kw=None, model="openai:m@http://a:1/v1", judge=None,
          strategy=_Strategy, split="test", endpoint=None, data_text="v1", data_touch=False):
    from dataclasses import replace

    from harness import TaskSpec
    from harness.backend import make_backend
    from harness.identity import config_hash
    from harness.runner import RunConfig, configuration

    data = tmp_path / "data"
    (data / "echo").mkdir(parents=True, exist_ok=True)
    f = data / "echo" / "items.json"
    if not f.exists() or f.read_text() != data_text:
        f.write_text(data_text)
    if data_touch:
        os.utime(f, (1e9, 1e9))
    monkeypatch.setenv("HARNESS_DATA", str(data))
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    if endpoint is None:
        monkeypatch.delenv("ECHO_URL", raising=False)
    else:
        monkeypatch.setenv("ECHO_URL", endpoint)
    spec = TaskSpec(name="echo_h", category="test", env="echo_env:EchoEnv", splits={"test": 3, "dev": 3},
                    default_split="test", metric="m", data=("echo",), endpoints=("ECHO_URL",))
    spec = replace(spec, **(spec_kw or {}))
    cfg = RunConfig(model=model, tasks=[spec], judge=judge, **(cfg_kw or {}))
    j = make_backend(judge) if judge else None
    return config_hash(configuration(spec, split, cfg, make_backend(model), j, strategy))


MOVES = {
    "model name": dict(model="openai:other@http://a:1/v1"),
    "base URL": dict(model="openai:m@http://b:1/v1"),
    "backend option": dict(model="openai:m@http://a:1/v1?system=Be+brief"),
    "max_new_tokens": dict(cfg_kw={"generation": {"max_new_tokens": 7}}),
    "temperature": dict(cfg_kw={"generation": {"temperature": 0.7}}),
    "split": dict(split="dev"),
    "env class": dict(spec_kw={"env": "echo_env:OtherEnv"}),
    "env version": dict(spec_kw={"version": "2"}),
    "env kwargs": dict(spec_kw={"env_kwargs": {"size": 5}}),
    "task generation": dict(spec_kw={"generation": __import__("harness").Generation(max_new_tokens=9)}),
    "task data content": dict(data_text="v2"),
    "endpoint URL": dict(endpoint="http://sparql:8890"),
    "agent option read": dict(cfg_kw={"agent_options": {"history": "none"}}),
    "judge of a judged task": dict(judge="openai:judge@http://j:1/v1", strategy=_JudgedStrategy),
}
STAYS = {
    "concurrency": dict(cfg_kw={"concurrency": 3, "task_concurrency": 2}),
    "time limits": dict(cfg_kw={"turn_timeout": 5.0, "episode_timeout": 9.0}),
    "output and name": dict(cfg_kw={"output": Path("/elsewhere"), "name": "mine"}),
    "limit, indices, epochs, max errors": dict(cfg_kw={"limit": 1, "indices": [2], "epochs": 3, "max_errors": 1}),
    "judge of a task that reads none": dict(judge="openai:judge@http://j:1/v1"),
    "agent option no strategy of the task reads": dict(cfg_kw={"agent_options": {"mode": "plain"}}),
    "openai concurrency and retries": dict(model="openai:m@http://a:1/v1?concurrency=4&retries=2&timeout=5"),
    "data file touched, same content": dict(data_touch=True),
}


@pytest.mark.parametrize("name", sorted(MOVES))
def test_config_hash_moves_with_each_outcome_changing_ingredient(name, tmp_path, monkeypatch):
    assert _hash(tmp_path, monkeypatch, **MOVES[name]) != _hash(tmp_path, monkeypatch)


@pytest.mark.parametrize("name", sorted(STAYS))
def test_config_hash_ignores_what_does_not_change_outcomes(name, tmp_path, monkeypatch):
    assert _hash(tmp_path, monkeypatch, **STAYS[name]) == _hash(tmp_path, monkeypatch)


def test_config_hash_moves_with_the_protocol_version(tmp_path, monkeypatch):
    import harness.identity as identity

    before = _hash(tmp_path, monkeypatch)
    monkeypatch.setattr(identity, "PROTOCOL_VERSION", "999")
    assert _hash(tmp_path, monkeypatch) != before


# --- leaks and stalls ---------------------------------------------------------------------------------------------
def test_a_thread_env_that_times_out_is_closed_not_forgotten(tmp_path):
    """The stuck env's close() runs (its container or database would be removed), from another thread."""
    from harness import TaskSpec, register_task
    from harness.runner import RunConfig, run

    marker = tmp_path / "closed"
    os.environ["STUCK_CLOSE_MARKER"] = str(marker)
    spec = register_task(TaskSpec(name="stuck_thread", category="test", env="tests.unit.test_numbers:StuckThreadEnv",
                                  splits={"test": 2}, default_split="test", metric="m"), replace=True)
    replay = tmp_path / "r.jsonl"
    replay.write_text(json.dumps({"task": "stuck_thread", "index": 0, "responses": ["hang"]}) + "\n")
    run(RunConfig(model=f"replay:{replay}", tasks=[spec], limit=1, output=tmp_path, progress=False, turn_timeout=1.0,
                  max_errors=0))
    [rec] = read_records(next(tmp_path.glob("*/stuck_thread/episodes.jsonl")))
    assert rec["status"] == "task_error" and "timed out" in rec["error"]
    import time

    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the timed-out env was never closed"


def test_a_worker_env_that_does_not_start_in_time_is_killed(tmp_path):
    import asyncio
    import time

    from harness import TaskSpec
    from harness.envhandle import EnvCallError, ProcessEnvHandle
    from harness.threads import ThreadBridge

    spec = TaskSpec(name="slow_start", category="test", env="tests.unit.test_numbers:SlowStartEnv",
                    splits={"test": 1}, default_split="test", metric="m")

    async def main():
        bridge = ThreadBridge(8)
        t = time.monotonic()
        with pytest.raises(EnvCallError, match="did not start its env within 2 s"):
            await ProcessEnvHandle.create(spec, "test", None, bridge, timeout=2)
        return time.monotonic() - t

    import multiprocessing as mp

    before = {p.pid for p in mp.active_children()}
    took = asyncio.run(main())
    assert took < 30
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(p.pid not in before for p in mp.active_children()):
        time.sleep(0.1)
    assert not [p for p in mp.active_children() if p.pid not in before]  # the worker was killed and reaped


def test_killing_a_worker_never_waits_on_the_event_loop(tmp_path):
    import asyncio
    import threading

    from harness import TaskSpec
    from harness.envhandle import ProcessEnvHandle
    from harness.threads import ThreadBridge

    spec = TaskSpec(name="echo_kill", category="test", env="tests.unit.test_numbers:StuckThreadEnv", splits={"test": 1},
                    default_split="test", metric="m")
    joined_on: list[str] = []

    async def main():
        bridge = ThreadBridge(8)
        handle = await ProcessEnvHandle.create(spec, "test", None, bridge, timeout=120)
        real_join = handle.proc.join

        def join(*a):
            joined_on.append(threading.current_thread().name)
            return real_join(*a)

        handle.proc.join = join
        loop_thread = threading.current_thread().name
        handle.kill()
        await asyncio.sleep(0.5)
        return loop_thread, handle

    loop_thread, handle = asyncio.run(main())
    assert joined_on and loop_thread not in joined_on
    assert not handle.proc.is_alive()


from harness import TextEnv as _TextEnv  # noqa: E402


class StuckThreadEnv(_TextEnv):
    def _load(self, split):
        return ["x", "y"]

    def _reset(self, record):
        return [{"role": "user", "content": "go"}]

    def _step(self, action):
        import time

        end = time.monotonic() + 30
        while time.monotonic() < end and not getattr(self, "closed", False):
            time.sleep(0.05)
        from harness import StepResult

        return StepResult(done=True)

    def _close_episode(self):
        self.closed = True
        Path(os.environ["STUCK_CLOSE_MARKER"]).write_text("closed")


class SlowStartEnv(_TextEnv):
    def _load(self, split):
        import time

        time.sleep(3600)
        return []


@pytest.mark.parametrize("task", ["alfworld", "gsm8k", "mmlu", "rewoo"])
def test_tasks_declaring_a_mean_score_aggregate_to_the_mean_reward(task):
    """``mean_score=True`` sends intervals down the vectorized path: only right if the aggregate is that mean."""
    from harness import get_task

    spec = get_task(task)
    rng = np.random.default_rng(1)
    recs = [{"task": task, "split": "test", "index": i, "status": "completed", "reward": float(rng.random() < 0.4),
             "facts": {"subject": "s", "category": "c", "dataset": "d"}, "metrics": {}} for i in range(50)]
    assert spec.mean_score
    assert spec.aggregate(recs)[0] == pytest.approx(spec.scale * np.mean([r["reward"] for r in recs]))
