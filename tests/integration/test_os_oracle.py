"""OS env on the real task data: every dev record's init runs; the oracle solves the tasks; wrong answers score 0.

CI runs a sample that covers every problem file and judging mode; the full std split is marked ``slow``
(``pytest -m slow tests/integration/test_os_oracle.py``, or ``make eval MODEL=oracle TASKS=os``).
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import need_data
from tests.integration.os_support import need_image

pytestmark = pytest.mark.integration
docker = pytest.importorskip("docker")

# one or more std episodes of every problem file: match, check with example, state checks, start scripts; 32
# (Q30-00004: init writes ~/.bashrc, issue 20's shell race) and 78 (bootstrap-00022: GNU find warns only on a terminal)
STD_SAMPLE = [0, 5, 7, 11, 15, 19, 21, 24, 30, 32, 34, 35, 38, 42, 48, 53, 56, 78, 100, 140]
# dev-001-dev-00008: `du -sh` prints "8.0K", which size-match.py cannot parse (fails upstream as well)
UNSOLVABLE = {"std": set(), "dev": {9}}
# answers that depend on the host or on the moment, so the oracle's run and the judge's may disagree (README lists
# them with measured pass rates): std-007-bootstrap-00006 (62) and -00018 (74) read the host's memory figures
# (`free`); -00008 (64), -00009 (65), -00029 (85) and -00057 (113) walk the whole file system from / (the variable or
# `cd` of their init does not reach the shell), including /proc, whose entries come and go with the processes of the
# moment (find also warns about the ones that vanish while it walks); -00000 (56) counts the processes of the moment
NONDETERMINISTIC = {"std": {56, 62, 64, 65, 74, 85, 113}, "dev": set()}
# std-006-new-00008 (`apt remove sudo` in init): like the stock Ubuntu image ours has no sudo, so nothing is
# removed and its check (`sudo whoami` works) passes only when the agent installs sudo: no exception
PASSES_ANYWAY: set[int] = set()
WORKERS = 4


def make_env(split: str):
    need_data("agentbench", "os_interaction")
    need_image()
    from envs.os_interaction.env import OSEnv
    return OSEnv(split=split, pool_size=WORKERS)


def parallel(split: str, episode, indices) -> dict:
    """``episode(env, index)`` for every index, WORKERS at a time, one env per worker thread (as the runner does)."""
    local, envs, lock = threading.local(), [], threading.Lock()

    def one(i):
        if not hasattr(local, "env"):
            local.env = make_env(split)
            with lock:
                envs.append(local.env)
        return i, episode(local.env, i)

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            return dict(pool.map(one, indices))
    finally:
        for e in envs:
            e.close()


def play_oracle(env, index: int) -> tuple[float, dict]:
    obs, _ = env.reset(options={"index": index})
    gen = env.oracle_actions(index)
    reply = next(gen)
    while True:
        obs, reward, done, _, info = env.step(reply)
        if done:
            return reward, info
        reply = gen.send(obs)


def play_wrong(env, index: int) -> float:
    env.reset(options={"index": index})
    _, reward, done, _, _ = env.step("Think: guess.\n\nAct: answer(-1)")
    assert done
    return reward


def play_init(env, index: int) -> dict:
    obs, info = env.reset(options={"index": index})
    assert obs.startswith("Now, I will start a new problem in a new OS.")
    assert len(info["messages"]) == 7 and env.container is not None
    metrics = dict(env.metrics)
    env.step("Act: finish")
    return metrics


def test_dev_split_loads_and_every_init_runs():
    results = parallel("dev", play_init, range(26))
    assert len(results) == 26
    assert {i: m["init_exit_codes"] for i, m in results.items() if m.get("init_exit_codes")} == {}


def test_oracle_solves_a_sample_of_std():
    results = parallel("std", play_oracle, STD_SAMPLE)
    assert {i: info["metrics"] for i, (reward, info) in results.items() if reward != 1.0} == {}


def test_wrong_answers_score_zero_on_the_sample():
    rewards = parallel("std", play_wrong, STD_SAMPLE)
    assert rewards == {i: 0.0 for i in STD_SAMPLE}


@pytest.mark.slow
@pytest.mark.parametrize("split, n, minimum", [("std", 144, 0.95), ("dev", 26, 0.95)])
def test_oracle_full_split(split, n, minimum):
    results = parallel(split, play_oracle, range(n))
    failed = sorted(i for i, (reward, _) in results.items() if reward != 1.0)
    assert sum(r for r, _ in results.values()) / n >= minimum
    assert set(failed) <= UNSOLVABLE[split] | NONDETERMINISTIC[split], failed


@pytest.mark.slow
def test_wrong_answers_score_zero_on_full_std():
    rewards = parallel("std", play_wrong, range(144))
    assert {i for i, r in rewards.items() if r} <= PASSES_ANYWAY
