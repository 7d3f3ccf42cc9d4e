"""WebShop's reward and goals against upstream's own code (reference table computed once outside the project)."""
from __future__ import annotations

from collections import Counter

import pytest

from envs.webshop.fuzzy import token_set_ratio
from envs.webshop.reward import get_reward, normalize_color
from harness.data import data_dir
from tests.unit.webshop_support import colors, fixture, small_catalogue

GOAL_FIELDS = ("asin", "category", "query", "name", "product_category", "instruction_text", "attributes",
               "price_upper", "goal_options")


@pytest.fixture(scope="module")
def table():
    return fixture("reward_parity.json.gz")


def test_reward_matches_upstream_on_every_case(table):
    cat, palette = small_catalogue(), colors()
    assert len(table["cases"]) >= 200
    mismatches = []
    for case in table["cases"]:
        goal = table["goals"][case["goal"]]
        product = cat.product(cat.row_of(case["asin"]))
        reward, info = get_reward(product, goal, case["price"], dict(case["options"]), palette)
        if abs(reward - case["reward"]) > 1e-6 or info["r_type"] != case["r_type"]:
            mismatches.append((case["goal"], case["kind"], case["asin"], reward, case["reward"]))
    assert mismatches == []


def test_the_table_exercises_every_branch(table):
    cases = table["cases"]
    r_types = Counter(c["r_type"] for c in cases)
    assert set(r_types) == {0.0, 0.1, 0.5, 1.0}  # wrong type at every level
    by_kind = {k: [c for c in cases if c["kind"] == k] for k in {c["kind"] for c in cases}}
    own = {c["goal"]: c["reward"] for c in by_kind["own_goal_options"]}
    assert any(c["reward"] < own[c["goal"]] for c in by_kind["own_price_over"] if c["goal"] in own)  # over the limit
    assert any(0 < c["reward"] < 1 for c in by_kind["own_no_options"])  # partial options
    assert any(0 < c["reward"] < 1 and c["r_type"] == 1.0 for c in by_kind["same_query_other"])  # missing attributes
    assert any(isinstance(table["goals"][c["goal"]]["goal_options"], list) for c in cases)  # human goals' option lists


def test_goal_lists_are_upstreams(table):
    cat = small_catalogue()
    lists = {"synthetic": cat.goals("synthetic"),
             "human": cat.goals("human", data_dir() / "webshop" / "items_human_ins_1000_subset.json")}
    assert len(lists["synthetic"]) == 6910  # what upstream's SimServer prints for the 1,000-product files
    assert len(lists["human"]) == 13
    for key, goal in table["goals"].items():
        kind, index = key.split(":")
        ours = lists[kind][int(index)]
        assert {k: ours[k] for k in GOAL_FIELDS} == goal, key


def test_token_set_ratio_keeps_thefuzz_0_19_semantics():
    assert token_set_ratio("black", "Black") == 100
    assert token_set_ratio("black", ("color", "black")) == 100  # a (name, value) tuple is compared as its str()
    assert token_set_ratio("x-large", "large") == 100
    assert token_set_ratio("café latte", "caf latte") == 100  # characters U+0080..U+00FF are deleted
    assert token_set_ratio(None, "a") == 0 and token_set_ratio("", "a") == 0 and token_set_ratio("!!", "a") == 0
    assert token_set_ratio("navy blue", "blue navy") == 100
    # values computed with thefuzz 0.19.0 (difflib)
    assert token_set_ratio("12 pack", "pack of 24") == 73
    assert token_set_ratio("navy blue", "dark blue") == 67
    assert token_set_ratio("x-large", "xx-large") == 93
    assert token_set_ratio(("size", "x-large"), "xx-large") == 77
    assert token_set_ratio("a" * 250 + "b", "a" * 240 + "c") == 98  # difflib's autojunk on long strings


def test_normalize_color_on_strings_and_tuples():
    palette = ["black", "blue", "navy"]
    assert normalize_color("dark navy blue", palette) == "blue"  # the first colour of the list that occurs
    assert normalize_color(("color", "navy"), palette) == "navy"  # element test on a tuple
    assert normalize_color(("color", "navy blue"), palette) == ("color", "navy blue")
