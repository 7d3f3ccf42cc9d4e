"""WebArena end to end on the stand-in sites in real headless Chromium: the oracle through the runner (8 episodes at
once, one browser context each), wrong answers and wrong final states failing where upstream's evaluators say so,
the judge's verdicts, the protocol's feedback and early stops, tab and navigation actions, and the Gymnasium checks."""
from __future__ import annotations

import json
import shutil

import pytest

from envs.webarena.env import ORACLE_REF, WebArenaEnv
from harness import get_task, status as S
from harness.records import read_records
from harness.runner import RunConfig, run
from tests.fixtures.webarena import webarena_data

pytestmark = [pytest.mark.integration]
PHRASE = "Let's think step-by-step. In summary, the next action I will perform is "


@pytest.fixture(scope="module")
def env():
    if not shutil.which("chromium") and not shutil.which("/usr/bin/chromium"):
        pytest.fail("Chromium is missing: `harness setup --tasks webarena` installs it")
    e = WebArenaEnv(split="standin", data_dir=webarena_data(), standin=True, sleep_after_execution=0.0,
                    eval_settle=0.0)
    yield e
    e.close()


def reply(env: WebArenaEnv, template: str) -> str:
    action = ORACLE_REF.sub(lambda m: env._element_id(m.group(1), m.group(2)), template)
    return f"{PHRASE}```{action}```"


def play(env: WebArenaEnv, index: int, templates: list[str]):
    env.reset(options={"index": index})
    for template in templates:
        obs, reward, done, _, info = env.step(reply(env, template))
        if done:
            return reward, info
    raise AssertionError("the episode did not end")


#: per task: a wrong answer or a wrong final state, and the check upstream's evaluators fail on
WRONG = {
    0: (["stop [$17.99]"], "exact_match"),
    1: (["type [{textbox 'Search'}] [energy drink] [1]", "stop [V8 at $22.99 and Ciclon]"], "must_include"),
    2: (["type [{textbox 'Search'}] [stylus] [1]", "stop []"], "url_match"),
    3: (["click [{button 'Add to Cart'}]", "stop []"], "program_html"),  # one candle pack, not two
    4: (["click [{radio '5 stars'}]", "type [{textbox 'Nickname'}] [stretchy] [0]",
         "click [{button 'Submit Review'}]", "stop []"], "program_html"),  # rating 100, not 80
    5: (["click [{button 'Add to Cart'}]", "stop []"], "program_html"),  # never ordered: the latest order has socks
    6: (["stop [V8 Energy Drink Pomegranate Blueberry 24 Pack]"], "exact_match"),
    7: (["click [{link 'Edit Ciclon Energy Drink Regular 24 Cans'}]", "type [{textbox 'Price'}] [21.99] [0]",
         "click [{button 'Save'}]", "stop []"], "program_html"),  # typed after the old price: 19.4921.99
    8: (["stop [worldnews, writing]"], "must_include"),  # missed the forum below the fold
    9: (["click [{button 'Downvote Which sci-fi novel should I read next?'}]", "stop []"], "program_html"),
    10: (["click [{link 'Submit a new post'}]", "type [{textbox 'Title'}] [Reading goals] [0]",
          "type [{textbox 'Body'}] [Twelve books, one a month.] [0]", "click [{button 'Create submission'}]",
          "stop []"], "program_html"),
    12: (["click [{link 'Members'}]", "click [{link 'Edit role of byteblaze'}]", "click [{radio 'Owner'}]",
          "click [{button 'Update role'}]", "stop []"], "program_html"),
    13: (["click [{link 'Issues'}]", "stop [byteblaze]"], "url_match"),  # right answer, but not on the issue page
    14: (["stop [V8 Energy Drink Pomegranate Blueberry 24 Pack]"], "must_include"),
    15: (["tab_focus [1]", "click [{link 'Submit a new post'}]", "type [{textbox 'Title'}] [My dotfiles] [0]",
          "click [{button 'Create submission'}]", "stop []"], "program_html"),  # no body
}


@pytest.mark.parametrize("index", sorted(WRONG))
def test_wrong_answers_and_states_fail(env, index):
    templates, failing = WRONG[index]
    reward, info = play(env, index, templates)
    assert reward == 0.0 and info["status"] == S.COMPLETED
    checks = info["metrics"]["checks"]
    assert any(c["check"] == failing and c["score"] == 0.0 for c in checks), checks


def test_every_task_has_a_wrong_case_or_a_judged_one():
    assert set(WRONG) | {11} == set(range(get_task("webarena_standin").splits["standin"]))


def _judge_file(path, verdict: str) -> str:
    path.write_text(json.dumps({"task": "webarena_standin_judge", "index": 11, "responses": [verdict]}) + "\n")
    return f"replay:{path}"


def test_oracle_succeeds_on_every_task_eight_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_DATA", str(webarena_data()))
    spec = get_task("webarena_standin")
    summary = run(RunConfig(model="oracle", judge=_judge_file(tmp_path / "judge.jsonl", "Yes."), tasks=[spec],
                            concurrency=8, output=tmp_path / "out", progress=False))["webarena_standin"]
    records = list(read_records(next((tmp_path / "out").glob("*/webarena_standin/episodes.jsonl"))))
    failed = {r["index"]: (r["status"], r["error"], r["metrics"].get("checks")) for r in records if r["reward"] != 1}
    assert not failed and summary["n"] == spec.splits["standin"] and summary["score"] == 100.0
    judged = next(r for r in records if r["index"] == 11)
    assert judged["metrics"]["judge"][0]["reply"] == "Yes." and judged["usage"]["judge_calls"] == 1
    first = judged["messages"]
    assert first[0]["content"].startswith("You are an autonomous intelligent agent") and first[1]["content"] == "Ok."
    assert first[6]["content"].startswith("OBSERVATION:\nTab 0 (current): /f/gadgets\n\n[")
    assert "\nURL: http://reddit.com/f/gadgets\nOBJECTIVE: What is the main complaint" in first[6]["content"]
    clicked = first[7]["content"].split("```click [")[1].split("]")[0]
    assert (f"\nPREVIOUS ACTION: click [{clicked}] where [{clicked}] is link \"My new phone's battery is awful\" url: "
            in first[8]["content"])
    assert {r["facts"]["sites"] for r in records} == {"shopping", "shopping_admin", "reddit", "gitlab",
                                                       "gitlab+reddit"}


def test_episode_facts_come_from_the_task_data(env):
    assert env.episode_facts(15) == {"sites": "gitlab+reddit", "eval_types": "program_html", "task_id": 15,
                                     "intent_template_id": 9015}
    assert {env.episode_facts(i)["sites"] for i in range(len(env))} == {
        "shopping", "shopping_admin", "reddit", "gitlab", "gitlab+reddit"}


def test_the_judge_saying_no_fails_a_fuzzy_match(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_DATA", str(webarena_data()))
    spec = get_task("webarena_standin")
    summary = run(RunConfig(model="oracle", judge=_judge_file(tmp_path / "judge.jsonl", "No"), tasks=[spec],
                            indices=[11], output=tmp_path / "out", progress=False))["webarena_standin"]
    assert summary["n"] == 1 and summary["score"] == 0.0


def test_feedback_and_early_stop_on_unparsable_replies(env):
    obs, info = env.reset(options={"index": 0})
    assert info["messages"][-1]["content"].endswith("PREVIOUS ACTION: None")
    obs, reward, done, _, info = env.step("I will click the search box.")
    assert not done and 'PREVIOUS ACTION: The previous prediction you issued was "I will click the search box."' in obs
    obs, reward, done, _, info = env.step(f"{PHRASE}```click [987654]```")
    assert not done and obs.endswith('Attempt to perfom "click" on element "[987654]" but no matching element found. '
                                     "Please check the observation more carefully.")
    # three unparsable replies in a row: upstream stops and evaluates the answer "Early stop: ..."
    obs, info = env.reset(options={"index": 0})
    for _ in range(2):
        assert not env.step("nothing")[2]
    obs, reward, done, _, info = env.step("nothing")
    assert done and info["status"] == S.AGENT_VALIDATION_FAILED and reward == 0.0
    assert info["metrics"]["answer"] == "Early stop: Failed to parse actions for 3 times"


def test_repeated_actions_stop_and_are_still_evaluated(env):
    env.reset(options={"index": 8})  # forums list: scrolling three times in a row stops the episode
    for k in range(3):
        obs, reward, done, _, info = env.step(f"{PHRASE}```scroll [down]```")
    assert done and info["status"] == S.AGENT_INVALID_ACTION
    assert info["metrics"]["early_stop"] == "Same action for 3 times" and reward == 0.0


def test_tabs_and_navigation(env):
    obs, info = env.reset(options={"index": 14})
    assert obs.split("\n")[1].startswith("Tab 0 (current): V8 Energy Drink") and " | Tab 1: Ciclon" in obs
    obs = env.step(f"{PHRASE}```new_tab```")[0]
    assert "| Tab 2 (current): \n" in obs or "| Tab 2 (current): " in obs.split("\n")[1]
    obs = env.step(f"{PHRASE}```goto [http://onestopmarket.com/quest-lumaflex-band.html]```")[0]
    assert "URL: http://onestopmarket.com/quest-lumaflex-band.html" in obs and "heading 'Quest Lumaflex Band'" in obs
    obs = env.step(f"{PHRASE}```go_back```")[0]
    assert "URL: about:blank" in obs
    obs = env.step(f"{PHRASE}```go_forward```")[0]
    assert "heading 'Quest Lumaflex Band'" in obs
    env.step(reply(env, "hover [{button 'Add to Cart'}]"))
    obs = env.step(f"{PHRASE}```press [PageDown]```")[0]
    assert "PREVIOUS ACTION: press [PageDown]" in obs
    obs = env.step(f"{PHRASE}```close_tab```")[0]
    assert obs.split("\n")[1] == "Tab 0: V8 Energy Drink Pomegranate Blueberry 24 Pack | Tab 1 (current): " \
                                 "Ciclon Energy Drink Regular 24 Cans"
    obs = env.step(f"{PHRASE}```goto [http://example.com/]```")[0]  # pages reach only the sites' hosts
    assert "ERR_PROXY_CONNECTION_FAILED" in env.fail_errors[-1] and env.session.url.startswith("chrome-error:")
    obs = env.step(f"{PHRASE}```go_back```")[0]
    obs = env.step(f"{PHRASE}```tab_focus [7]```")[0]  # no such tab: nothing happens
    assert "PREVIOUS ACTION: page_focus [7]" in obs
    reward, info = env.step(f"{PHRASE}```stop [Ciclon Energy Drink Regular 24 Cans]```")[1:5:3]
    assert reward == 1.0 and "IndexError" in info["metrics"]["failed_actions"][-1]


def test_gymnasium_checks(monkeypatch):
    import gymnasium
    from gymnasium.utils.env_checker import check_env

    monkeypatch.setenv("HARNESS_DATA", str(webarena_data()))
    get_task("webarena_standin")  # registers the Gymnasium ids
    made = gymnasium.make("harness/webarena_standin-v0")
    try:
        # element ids are Chromium's accessibility node ids, which vary between loads of a page: the spec says so
        assert made.spec.nondeterministic
        check_env(made.unwrapped)
        obs, info = made.reset(options={"index": 6})
        assert obs.startswith("OBSERVATION:\nTab 0 (current): Dashboard / Magento Admin")
    finally:
        made.close()
