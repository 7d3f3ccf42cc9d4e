"""The WebShop env: upstream's pages, clickables and rewards on scripted episodes; AgentBench.old's protocol."""
from __future__ import annotations

import pytest

from envs.webshop.env import ACTION, WebShopEnv, reply
from harness import UsageError
from tests.unit.webshop_support import fixture, small_env


@pytest.fixture(scope="module")
def env():
    return small_env()


@pytest.fixture(scope="module")
def episodes():
    return fixture("trajectories.json.gz")["episodes"]


def test_prompt_and_first_observation(env):
    obs, info = env.reset(options={"index": 0})
    roles = [m["role"] for m in info["messages"]]
    assert roles[:2] == ["user", "assistant"] and roles[-1] == "user" and len(roles) == 11
    assert info["messages"][0]["content"].startswith("\nYou are web shopping.")
    assert obs.startswith("Observation:\nWebShop [SEP] Instruction: [SEP] ")
    assert obs.endswith("\n\nAvailable Actions:\n{'has_search_bar': True, 'clickables': ['search']}")


def test_scripted_episodes_match_upstream_step_by_step(env, episodes):
    """Observations, available actions and rewards of upstream's text env (recorded once) on 24 scripted episodes:
    oracle-like purchases, paging past the last page, sub-pages, back to search, invalid and no-op actions,
    the <q>/<c> searches, wrong purchases."""
    assert len(episodes) == 24
    for ep in episodes:
        env.reset(options={"index": ep["index"]})
        session = env.session
        assert session.observation == ep["observation"]
        assert str(session.available_actions()) == ep["available_actions"]
        for k, step in enumerate(ep["steps"]):
            reward, done = session.step(step["action"])
            where = f"episode {ep['index']} step {k} {step['action']!r}"
            assert session.observation == step["observation"], where
            assert str(session.available_actions()) == step["available_actions"], where
            assert done == step["done"], where
            assert abs(reward - step["reward"]) <= 1e-9, where


def test_wrong_purchases_score_upstreams_reward_through_the_protocol(env, episodes):
    """Replay upstream's recorded actions as model replies: the env's final reward is upstream's (not 0 by
    accident)."""
    partial = [ep for ep in episodes if 0 < ep["steps"][-1]["reward"] < 1 and len(ep["steps"]) <= 10]
    assert len(partial) >= 8
    other = 0
    for ep in partial:
        env.reset(options={"index": ep["index"]})
        for step in ep["steps"]:
            _, reward, done, _, info = env.step(reply("go on.", step["action"]))
            if done:
                break
        assert done and info["status"] == "completed"
        assert abs(reward - ep["steps"][-1]["reward"]) <= 1e-9
        other += info["metrics"]["purchased_asin"] != info["metrics"]["goal_asin"]
    assert other >= 5


def test_reply_without_an_action_ends_with_reward_zero(env):
    env.reset(options={"index": 3})
    _, reward, done, _, info = env.step("I will search for it: search[pillows]")  # no "Action:" line
    assert done and reward == 0.0 and info["status"] == "agent_validation_failed"
    assert info["metrics"]["format_fail"] is True


def test_action_regex_is_upstreams():
    assert ACTION.search("Thought:\nok\n\nAction:\n  click[Buy Now] extra").group(1) == "click[Buy Now]"
    assert ACTION.search("action: \nsearch[a]b]").group(1) == "search[a]"
    assert ACTION.search("Action: click[x]") is None  # the action must follow a newline
    assert ACTION.search("Action:\nbuy[x]") is None


def test_ten_rounds_without_a_purchase(env):
    env.reset(options={"index": 5})
    for k in range(10):
        _, reward, done, _, info = env.step(reply("I look around.", "click[nothing]"))
        assert done == (k == 9)
    assert info["status"] == "task_limit_reached" and reward == 0.0


def test_oracle_buys_the_goal(env):
    env.reset(options={"index": 7})
    for action in env.oracle_actions(7):
        _, reward, done, _, info = env.step(action)
        if done:
            break
    assert done and info["status"] == "completed" and reward > 0.9
    assert info["metrics"]["purchased_asin"] == info["metrics"]["goal_asin"]


def test_episode_facts_come_from_the_goal(env):
    facts = env.episode_facts(0)
    assert facts == {"session": 0, "asin": "B0743JKHBV", "category": "garden"}


def test_full_catalogue_splits_stop_with_one_line_naming_the_files(tmp_path):
    (tmp_path / "webshop").mkdir()
    for split in ("std", "dev"):
        with pytest.raises(UsageError) as err:
            WebShopEnv(split=split, data_dir=tmp_path)
        msg = str(err.value)
        assert "\n" not in msg and "items_shuffle.json" in msg and "items_ins_v2.json" in msg
        assert "items_human_ins.json" in msg and "--split small" in msg
    with pytest.raises(UsageError, match="unknown split"):
        WebShopEnv(split="test", data_dir=tmp_path)


def test_gymnasium_checker_passes(env):
    from gymnasium.utils.env_checker import check_env

    check_env(env, skip_render_check=True)


def test_page_parser_agrees_with_beautifulsoup_on_awkward_data(env):
    """The single-pass page parser against BeautifulSoup (what upstream uses) on pages with markup characters,
    entities, white-space-only and multi-line values, empty bullet points and repeated option values."""
    from envs.webshop.site import parse_page, parse_page_bs4

    site = env.site
    awkward = ["<b>bold</b> & co", "  ", "\n\n", "\t x \n y ", "a &amp; b", "'quoted' \"double\"", "", "x\u00a0y",
               "-->", "<!-- c -->", "é ❤ ½", "a\r\nb"]
    product = {"asin": "B000000001", "name": awkward[0], "Title": awkward[0], "Description": awkward[3],
               "BulletPoints": awkward[1:6] + [""], "Price": "$1.0", "Rating": "N.A.", "Reviews": [],
               "MainImage": "", "option_to_image": {}, "Attributes": awkward[:3],
               "options": {"color": awkward[:4] + ["red", "red"], "size <x>": awkward[4:9]},
               "category": awkward[8], "query": awkward[9], "product_category": awkward[10]}
    pages = [site.render("item_page.html", session_id="1", product_info=product, keywords=["a"], page=1,
                         asin=product["asin"], options={"color": "red"}, instruction_text=t, show_attrs=True)
             for t in awkward]
    pages += [site.render(name, session_id="1", product_info=product, keywords=["a"], page=1, asin="B000000001",
                          options={}, instruction_text=awkward[2]) for name in site.sub_pages.values()]
    pages += [site.render("results_page.html", session_id="1", products=[product] * 3, keywords=["a"], page=p,
                          total=3, instruction_text=awkward[5]) for p in (1, 2)]
    pages += [site.render("search_page.html", session_id="1", instruction_text=t) for t in awkward]
    for html in pages:
        ours, ref = parse_page(html, ""), parse_page_bs4(html, "")
        assert ours.text == ref.text
        assert list(ours.clickables) == list(ref.clickables)
        assert ours.has_search_bar == ref.has_search_bar
        for key, tag in ours.clickables.items():
            assert tag.get("class") == ref.clickables[key].get("class")
            assert tag.get("name") == ref.clickables[key].get("name")


def test_prompt_file_holds_upstreams_texts():
    """The shared prompt file (benchmark data) against the texts of upstream's ``__init__.py``, read with ``ast``."""
    import ast

    from harness import load_prompts
    from harness.data import data_dir
    from tests.conftest import need_data
    from envs.webshop.site import UPSTREAM

    source = need_data(*UPSTREAM.split("/"), "__init__.py")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    prompt = next(ast.literal_eval(n.value) for n in tree.body
                  if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "prompt")
    predict = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "predict")
    injected, templates = [], []
    for node in ast.walk(predict):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "inject":
            arg = node.args[0]
            if all(isinstance(v, ast.Constant) for v in arg.values):
                injected.append(ast.literal_eval(arg))
            elif isinstance(arg.values[0], ast.Constant) and arg.values[0].value == "user":
                content = arg.values[1]
                if isinstance(content, ast.Name):
                    injected.append({"role": "user", "content": prompt})
                else:
                    parts = content.values if isinstance(content, ast.JoinedStr) else \
                        [v for s in (content.left, content.right) for v in s.values]
                    templates.append("".join(p.value if isinstance(p, ast.Constant) else "{%s}" % p.value.id
                                             for p in parts))
    ours = load_prompts("webshop", root=data_dir())
    assert ours["conversation"] == injected
    assert templates == [ours["templates"]["observation"]]
    assert ours["constants"]["max_rounds"] == 10
