"""The accessibility-tree text equals what upstream's processor rendered from the same CDP answers (computed once
with AgentTuning's browser_env/processors.py in Chromium, kept in tests/fixtures/webarena), and so do the click
points of every element."""
from __future__ import annotations

import pytest

from envs.webarena.observation import render, tabs_line
from tests.fixtures.webarena import upstream_observations

VIEWPORT = {"width": 1280, "height": 720}
CASES = upstream_observations()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_text_equals_upstream(case):
    assert render(case["raw"], VIEWPORT).text == case["upstream_text"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_element_centres_equal_upstream(case):
    rendered = render(case["raw"], VIEWPORT)
    assert set(rendered.nodes) == set(case["upstream_centers"])
    for node_id, centre in case["upstream_centers"].items():
        if centre is not None:
            assert list(rendered.element_center(node_id, VIEWPORT)) == centre


def test_the_fixtures_cover_the_renderers_branches():
    texts = {c["name"]: c["upstream_text"] for c in CASES}
    edge = texts["edge_cases_top"]
    assert '"Edge cases: Bob\'s page"' in edge  # repr of a name with a quote
    assert "\t\t\t\t[" in edge or "\t\t\t[" in edge  # nesting kept for named nodes
    assert "StaticText 'Sale'" not in edge  # a repeated text is dropped after its heading
    assert "Below the fold" not in edge and "Tall block" in edge  # the viewport cut
    assert texts["two_tabs"].startswith("Tab 0 (current): ") and " | Tab 1: " in texts["two_tabs"].split("\n")[0]
    assert render(CASES[0]["raw"], VIEWPORT).nodes  # ids are backed by element info


def test_tabs_line_falls_back_like_upstream():
    assert tabs_line(["A", "B"], 1, 2) == "Tab 0: A | Tab 1 (current): B"
    assert tabs_line(None, 0, 2) == "Tab {idx} | Tab {idx}"  # upstream's placeholder is not an f-string
