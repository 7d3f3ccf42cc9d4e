"""The real `webarena` task (the 812 configs of test.raw.json) run against sites given by URL: here the stand-in
sites' URLs are put in SHOPPING, SHOPPING_ADMIN, REDDIT, GITLAB, MAP, WIKIPEDIA and HOMEPAGE, so every part of a real
episode runs (placeholders, log-ins per storage_state, start pages and tabs, every evaluator and helper) although
the sites' content is not WebArena's: the rewards say nothing, the absence of errors does."""
from __future__ import annotations

import json
import shutil

import pytest

from envs.webarena.env import WebArenaEnv
from envs.webarena.prompts import load_texts
from envs.webarena.sites import VARIABLES
from envs.webarena.standin import StandinSites
from harness import status as S
from tests.conftest import need_data
from tests.fixtures.webarena import webarena_data

pytestmark = [pytest.mark.integration]


def _features(task: dict) -> set[str]:
    ev = task["eval"]
    out = {"types:" + "+".join(ev["eval_types"]), "sites:" + "+".join(task["sites"])}
    out |= {"ref:" + k for k in (ev["reference_answers"] or {})}
    out |= {"func:" + t[f].split("func:")[1].split("(")[0] for t in ev["program_html"] or [] for f in ("url", "locator")
            if t[f].startswith("func:")}
    if " |AND| " in task["start_url"]:
        out.add("tabs")
    return out


def sample(raw: list[dict]) -> list[int]:
    """The fewest tasks (greedily) that cover every evaluator combination, site combination, reference kind,
    helper and multi-tab start of the 812."""
    left = set().union(*(_features(t) for t in raw))
    chosen = []
    while left:
        best = max(range(len(raw)), key=lambda i: len(_features(raw[i]) & left))
        chosen.append(best)
        left -= _features(raw[best])
    return sorted(chosen)


@pytest.fixture(scope="module")
def env():
    if not shutil.which("chromium") and not shutil.which("/usr/bin/chromium"):
        pytest.fail("Chromium is missing: `harness setup --tasks webarena` installs it")
    need_data("webarena", "test.raw.json")
    data = webarena_data()
    standin = StandinSites(load_texts(data)["accounts"])
    patch = pytest.MonkeyPatch()
    for name in VARIABLES:
        patch.setenv(name, standin.urls[name])
    e = WebArenaEnv(split="test", data_dir=data, sleep_after_execution=0.0, eval_settle=0.0)
    yield e
    e.close()
    standin.close()
    patch.undo()


def test_812_configs_with_the_sites_filled_in(env):
    assert len(env) == 812
    assert not any("__SHOPPING" in json.dumps(r) or "__REDDIT__" in json.dumps(r) for r in env.records)
    assert env.episode_facts(0) == {"sites": "shopping_admin", "eval_types": "string_match", "task_id": 0,
                                    "intent_template_id": 279}


def test_a_covering_sample_of_real_tasks_runs_to_its_evaluation(env):
    done = {}
    for index in sample(env.records):
        obs, info = env.reset(options={"index": index})
        assert obs.startswith("OBSERVATION:\nTab 0 (current): ") and f"OBJECTIVE: {env.records[index]['intent']}" in obs
        _, reward, finished, _, info = env.step("In summary, the next action I will perform is ```stop [N/A]```")
        assert finished and info["status"] == S.COMPLETED, (index, info)
        assert reward in (0.0, 1.0)
        done[index] = [c["check"] for c in info["metrics"]["checks"]] + (
            ["judge"] if "judge_requests" in info["metrics"] else [])
    kinds = {k for v in done.values() for k in v}
    assert kinds >= {"exact_match", "must_include", "url_match", "program_html", "judge"}, done
