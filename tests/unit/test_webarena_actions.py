"""WebArena's id-based action language against what upstream's own parser made of the same strings (computed once
with AgentTuning's browser_env/actions.py, kept in tests/fixtures/webarena/upstream_actions.json)."""
from __future__ import annotations

import json

import pytest

from envs.webarena.actions import ActionParsingError, describe, equivalent, extract, parse
from tests.fixtures.webarena import HERE

UPSTREAM = json.loads((HERE / "upstream_actions.json").read_text(encoding="utf-8"))
KINDS = {"CLICK": "click", "HOVER": "hover", "TYPE": "type", "KEY_PRESS": "press", "SCROLL": "scroll",
         "GOTO_URL": "goto", "NEW_TAB": "new_tab", "GO_BACK": "go_back", "GO_FORWARD": "go_forward",
         "PAGE_CLOSE": "close_tab", "PAGE_FOCUS": "tab_focus", "STOP": "stop"}
FEEDBACK = {"missing_element": "no element [{element_id}] for {action}", "unparsed": "bad: {prediction} {splitter}"}


@pytest.mark.parametrize("case", UPSTREAM["parse"], ids=lambda c: c["input"])
def test_parse_matches_upstream(case):
    want = case["upstream"]
    if "error" in want:
        with pytest.raises(ActionParsingError):
            parse(case["input"])
        return
    got = parse(case["input"])
    assert KINDS[want["kind"]] == got.kind
    for field in ("element_id", "text", "key_comb", "direction", "url", "page_number", "answer"):
        assert getattr(got, field) == want[field], field
    texts = {got.element_id: f"[{got.element_id}] SEM"} if got.element_id else {}
    assert describe(got, texts, FEEDBACK, "```") == want["str"]


@pytest.mark.parametrize("case", UPSTREAM["equivalent"], ids=lambda c: f"{c['a']}~{c['b']}")
def test_equivalence_matches_upstream(case):
    assert equivalent(parse(case["a"]), parse(case["b"])) is case["upstream"]


def test_extract_takes_the_first_pair_on_one_line():
    reply = "Let's think. In summary, the next action I will perform is ```click [12]``` and ```stop [x]```"
    assert extract(reply, "```") == "click [12]"
    with pytest.raises(ActionParsingError):
        extract("```click\n[12]```", "```")  # upstream's pattern does not cross lines
    with pytest.raises(ActionParsingError):
        extract("click [12]", "```")


def test_untypable_characters_and_empty_actions_are_parse_failures():
    with pytest.raises(ActionParsingError):
        parse("type [3] [\u4f60\u597d] [0]")  # upstream's key vocabulary has no such characters
    with pytest.raises(ActionParsingError):
        parse("   ")


def test_descriptions_of_missing_elements_and_unparsed_replies():
    assert describe(parse("click [99]"), {}, FEEDBACK, "```") == "no element [99] for click"
    from envs.webarena.actions import none_action
    assert describe(none_action("hello"), {}, FEEDBACK, "```") == "bad: hello ```"
