"""How the WebArena tasks are registered, how `webarena` stops without site URLs, and upstream's early-stop rules."""
from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from envs.webarena.actions import none_action, parse
from envs.webarena.env import WebArenaEnv
from envs.webarena.sites import VARIABLES, UrlMap, fill_placeholders, login_sites
from harness import UsageError, get_task, status as S
from tests.fixtures.webarena import webarena_data


def test_specs():
    real, standin = get_task("webarena"), get_task("webarena_standin")
    assert (real.category, real.splits, real.decimals, real.agent) == ("held_out", {"test": 812}, 2, "webarena")
    assert real.endpoints == VARIABLES == ("SHOPPING", "SHOPPING_ADMIN", "REDDIT", "GITLAB", "MAP", "WIKIPEDIA",
                                           "HOMEPAGE")
    assert real.needs_judge and real.generation.max_new_tokens == 384 and real.generation.temperature == 1.0
    assert standin.category == "other" and standin.offtable_splits == ("standin",)
    assert standin.name.startswith("webarena")


def test_groups_count_webarena_and_never_the_stand_ins():
    from harness import resolve_tasks
    for group in ("held_out", "all"):
        names = [t.name for t in resolve_tasks(group)]
        assert "webarena" in names and "webarena_standin" not in names
    assert [t.name for t in resolve_tasks("webarena_standin")] == ["webarena_standin"]


@pytest.fixture
def no_sites(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_without_site_urls_the_env_names_every_variable(no_sites, monkeypatch):
    monkeypatch.setenv("GITLAB", "http://h:8023")
    with pytest.raises(UsageError) as err:
        WebArenaEnv(split="test", data_dir=webarena_data())
    message = str(err.value)
    assert "\n" not in message
    assert all(name in message for name in VARIABLES if name != "GITLAB") and "GITLAB," not in message


def test_cli_stops_at_start_with_one_line(no_sites, tmp_path):
    import os
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env["HARNESS_DATA"] = str(webarena_data())
    judge = tmp_path / "judge.jsonl"
    judge.write_text("")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "harness.cli", "eval", "--model", "oracle", "--tasks", "webarena",
                        "--judge", f"replay:{judge}", "--output", str(out)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and all(name in lines[0] for name in VARIABLES), r.stderr
    assert not any(p.is_file() for p in out.rglob("*"))


def test_placeholders_urls_and_logins():
    sites = {"SHOPPING": "http://h:7770", "SHOPPING_ADMIN": "http://h:7780/admin", "REDDIT": "http://h:9999"}
    filled = fill_placeholders('"__SHOPPING_ADMIN__/x __SHOPPING__/y"', sites)
    assert filled == '"http://h:7780/admin/x http://h:7770/y"'
    urls = UrlMap(sites, {"REDDIT": "http://reddit.com", "SHOPPING": "http://onestopmarket.com",
                          "SHOPPING_ADMIN": "http://luma.com/admin"})
    assert urls.to_public("http://h:7780/admin/dashboard") == "http://luma.com/admin/dashboard"
    assert urls.to_local("goto [http://reddit.com/f/books]") == "goto [http://h:9999/f/books]"
    assert login_sites("./.auth/gitlab.reddit_state.json") == ("gitlab", "reddit")
    assert login_sites(None) == ()
    with pytest.raises(ValueError):
        login_sites("./.auth/map_state.json")


def _stub(actions):
    return SimpleNamespace(actions=actions, max_steps=30, thresholds=(3, 3))


@pytest.mark.parametrize("actions,want", [
    ([parse("click [1]")] * 2, None),
    ([parse("click [1]")] * 3, ("Same action for 3 times", S.AGENT_INVALID_ACTION)),
    ([parse("click [1]"), parse("click [1]"), parse("click [2]")], None),
    ([parse("type [4] [a]"), parse("click [1]"), parse("type [4] [b] [0]"), parse("scroll [down]"),
      parse("type [4] [c]")], ("Same typing action for 3 times", S.AGENT_INVALID_ACTION)),
    ([none_action("x")] * 3, ("Failed to parse actions for 3 times", S.AGENT_VALIDATION_FAILED)),
    ([parse(f"click [{k}]") for k in range(30)], ("Reach max steps 30", S.TASK_LIMIT_REACHED)),
    ([parse(f"click [{k}]") for k in range(29)], None),
])
def test_early_stop_rules(actions, want):
    assert WebArenaEnv._early_stop(_stub(actions)) == want


def test_stand_in_configs_are_in_webarena_format():
    from envs.webarena.standin import TASKS
    raw = json.loads(TASKS.read_text())
    kinds = {k for t in raw for k in t["eval"]["eval_types"]}
    refs = {k for t in raw for k in (t["eval"]["reference_answers"] or {})}
    assert kinds == {"string_match", "url_match", "program_html"}
    assert refs == {"exact_match", "must_include", "fuzzy_match"}
    assert [t["task_id"] for t in raw] == list(range(get_task("webarena_standin").splits["standin"]))
    for t in raw:
        assert set(t) >= {"sites", "task_id", "require_login", "storage_state", "start_url", "geolocation", "intent",
                          "eval", "reference_action_sequence"}
        assert t["reference_action_sequence"]["action_sequence"][-1].startswith("stop [")
