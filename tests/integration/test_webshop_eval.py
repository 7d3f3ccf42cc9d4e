"""WebShop end to end: the CLI with the oracle and with replayed wrong purchases, 16 concurrent episodes on one shared
catalogue, and the full-catalogue splits on a generated catalogue in the full data's format."""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from envs.webshop.env import WebShopEnv, reply
from harness.data import data_dir
from harness.records import read_records
from harness.runner import RunConfig, run
from tests.fixtures.webshop_catalogue import generate
from tests.unit.webshop_support import fixture, need_small, small_env

pytestmark = pytest.mark.integration


def _spec():
    from harness import get_task

    return get_task("webshop")


def test_oracle_on_the_small_split_scores_at_least_95(tmp_path):
    """The runner (as ``harness eval --model oracle --tasks webshop --split small --limit 40``); the full 200 are
    measured in the README."""
    need_small()
    summary = run(RunConfig(model="oracle", tasks=[_spec()], split="small", limit=40, output=tmp_path,
                            progress=False))["webshop"]
    assert summary["n"] == 40 and summary["split"] == "small"
    assert summary["score"] >= 95.0
    assert summary["metrics"]["statuses"] == {"completed": 40}


def test_replayed_wrong_purchases_score_upstreams_reward(tmp_path):
    need_small()
    episodes = [ep for ep in fixture("trajectories.json.gz")["episodes"]
                if len(ep["steps"]) <= 10 and 0 < ep["steps"][-1]["reward"] < 1]
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"task": "webshop", "index": ep["index"],
                                          "responses": [reply("go on.", s["action"]) for s in ep["steps"]]}) + "\n"
                              for ep in episodes))
    run(RunConfig(model=f"replay:{replay}", tasks=[_spec()], split="small", indices=[ep["index"] for ep in episodes],
                  output=tmp_path / "out", name="wrong", progress=False))
    records = {r["index"]: r for r in read_records(tmp_path / "out" / "wrong" / "webshop" / "episodes.jsonl")}
    assert len(records) == len(episodes) >= 8
    for ep in episodes:
        rec = records[ep["index"]]
        assert rec["status"] == "completed"
        assert abs(rec["reward"] - ep["steps"][-1]["reward"]) <= 1e-9 and rec["reward"] > 0
        assert rec["metrics"]["goal_asin"] == fixture_goal_asin(ep["index"])


def fixture_goal_asin(index: int) -> str:
    return small_env().records[index][1]["asin"]


def test_sixteen_concurrent_episodes_share_one_store_and_index():
    """16 env instances (as the runner makes for a thread-safe task) share one catalogue object; their episodes,
    interleaved step by step in 16 threads, give exactly upstream's observations and rewards."""
    episodes = fixture("trajectories.json.gz")["episodes"][:16]
    envs = [small_env() for _ in range(16)]
    assert len({id(e.catalogue) for e in envs}) == 1 and len({id(e.catalogue.searcher) for e in envs}) == 1
    barrier = threading.Barrier(16)

    def play(k: int) -> list[str]:
        env, ep = envs[k], episodes[k]
        env.reset(options={"index": ep["index"]})
        errors = []
        for n, step in enumerate(ep["steps"]):
            barrier.wait(timeout=120) if n < 3 else None  # the first steps of all 16 run at the same moment
            reward, done = env.session.step(step["action"])
            if env.session.observation != step["observation"] or abs(reward - step["reward"]) > 1e-9:
                errors.append(f"episode {ep['index']} step {n}")
        return errors

    needs = [len(ep["steps"]) >= 3 for ep in episodes]
    assert all(needs)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(play, range(16)))
    assert results == [[]] * 16


@pytest.fixture(scope="module")
def full_data(tmp_path_factory):
    """A data folder with a generated 3,000-product catalogue in the full data's format (no WebShop data in it)."""
    need_small()
    root = tmp_path_factory.mktemp("webshop-full")
    generate(root / "webshop", 3000, seed=1, human_every=7)  # 429 human goals: std and dev
    for rel in ("agentbench/prompts/webshop.json", "upstream"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(data_dir() / rel)
    return root


def test_full_catalogue_splits_load_search_and_buy(full_data, tmp_path):
    std = WebShopEnv(split="std", data_dir=full_data, cache_dir=tmp_path / "cache")
    dev = WebShopEnv(split="dev", data_dir=full_data, cache_dir=tmp_path / "cache")
    assert len(std) == 200 and len(dev) == 80 and std.catalogue is dev.catalogue
    assert std.catalogue.n == 3000 and std.records[0][0] == 0 and dev.records[0][0] == 200
    assert std.catalogue.search("waterproof shoes", 50)
    rewards = []
    for index in range(8):
        std.reset(options={"index": index})
        for action in std.oracle_actions(index):
            _, reward, done, _, info = std.step(action)
            if done:
                break
        assert done and info["status"] == "completed"
        rewards.append(reward)
    assert min(rewards) > 0.5 and sum(rewards) / len(rewards) > 0.9


def test_a_second_process_reuses_the_build(full_data, tmp_path):
    """The build is keyed by the files' sha256: a new process finds it and builds nothing."""
    import subprocess
    import sys

    cache = tmp_path / "cache"
    WebShopEnv(split="std", data_dir=full_data, cache_dir=cache)
    builds = sorted(p.name for p in cache.iterdir() if p.name.startswith("catalogue-"))
    code = ("import sys; from envs.webshop.env import WebShopEnv; "
            f"e = WebShopEnv(split='dev', data_dir={str(full_data)!r}, cache_dir={str(cache)!r}); "
            "print(e.catalogue.folder.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr[-2000:]
    assert [out.stdout.strip()] == builds
