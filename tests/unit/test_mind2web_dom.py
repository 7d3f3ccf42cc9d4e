"""The pruned page and the choices, byte for byte as AgentBench.old's MindAct code renders them.

``upstream_dom_cases.json`` holds upstream's ``format_input_multichoice`` output (computed once outside the project)
for candidate subsets of the fixture pages and of a stress page (deep nesting, 60 siblings, quotes and entities,
URLs, long words, hidden/presentation values, elements without ids, tails)."""
import pytest

from envs.mind2web import dom
from tests.fixtures.mind2web.layout import load, tasks

CASES = load("upstream_dom_cases.json")
PAGES = [a["cleaned_html"] for t in tasks() for a in t["actions"]] + [CASES["stress_page"]]


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: f"page{c['page']}-{'-'.join(c['candidates'])}")
@pytest.mark.parametrize("mode", ["brackets", "parens"])
def test_page_and_choices_match_upstream(case, mode):
    page, choices = dom.page_and_choices(PAGES[case["page"]], case["candidates"], brackets=mode == "brackets")
    assert page == case[mode]["page"]
    assert [list(c) for c in choices] == case[mode]["choices"]


def test_cases_cover_the_quirks():
    stress = [c for c in CASES["cases"] if c["page"] == len(PAGES) - 1]
    assert len(CASES["cases"]) >= 50 and len(stress) >= 20
    rendered = " ".join(c["brackets"]["page"] for c in stress)
    assert "intro tail" in rendered  # tail text of a kept element
    assert "<b>" in rendered and "&lt;" not in rendered  # entities turned back into characters
    assert "<!-- a comment among the siblings -->" in rendered  # comments stay, and count as id-less relatives
    # every candidate of a call is one of its choices
    assert all(sorted(ch[0] for ch in c["brackets"]["choices"]) == sorted(c["candidates"]) for c in CASES["cases"])


def test_prune_keeps_candidates_and_their_ids_only():
    html = PAGES[0]
    pruned = dom.prune(dom.parse(html), ["600", "575"])
    assert sorted(e.attrib["backend_node_id"] for e in pruned.xpath("//*[@backend_node_id]")) == ["575", "600"]


def test_unknown_candidate_is_an_error():
    with pytest.raises(KeyError):
        dom.page_and_choices(PAGES[0], ["does-not-exist"])
