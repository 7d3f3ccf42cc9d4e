"""The HTML report of real runs (oracle and a wrong replay of several tasks), read in Debian's Chromium offline."""
from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

import pytest

from tests.integration.report_support import (Page, browser, episode_key, make_real_runs, records,  # noqa: F401
                                              screenshot_path)

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "results"
    info = make_real_runs(out)
    return {"out": out, "report": out / "report.html", "records": records(out), **info}


@pytest.fixture
def page(browser, runs):  # noqa: F811
    p = Page(browser)
    yield p
    assert p.errors == [], p.errors
    assert p.offline.foreign() == [], p.offline.foreign()
    p.close()


def url(runs, fragment: str = "") -> str:
    return runs["report"].as_uri() + fragment


def test_eval_writes_the_report_and_it_loads_offline_with_leaderboard_plots_and_runs(runs, page, tmp_path):
    assert "wrote " in runs["stderr"] and "report.html" in runs["stderr"]
    page.open(url(runs))
    page.page.wait_for_selector("#leaderboard tr.run")
    labels = page.page.locator("#leaderboard tr.run td.name").all_inner_texts()
    assert sorted(x.strip() for x in labels) == ["oracle", "wrong-replay"]
    assert page.page.locator("#leaderboard tr.paper").count() == 8
    # intervals and n in the cells, as in the terminal tables
    text = page.page.inner_text("#tab-overview")
    assert "± 0.0 (8/" in text or "± 0.0 (8)" in text
    assert page.page.locator("svg.plot").count() >= 3  # categories or tasks, and cost (two runs)
    assert page.page.locator("#plot-cost svg").count() == 1
    page.page.screenshot(path=str(screenshot_path(tmp_path, "report-leaderboard.png")), full_page=True)


def test_filtering_by_status_shows_exactly_the_matching_episodes(runs, page):
    recs = runs["records"]
    page.open(url(runs, "#episodes"))
    page.wait_list("#episodes")
    assert page.count() == len(recs)
    for status, n in Counter(r["status"] for r in recs).items():
        page.page.select_option("#f-status", status)
        page.wait_list("#episodes?" + urlencode({"status": status}))
        assert page.count() == n
        shown = page.page.eval_on_selector_all("tr.ep-row", "rows => rows.map(r => [r.dataset.key, r.dataset.status])")
        assert {k for k, _ in shown} == {episode_key(r) for r in recs if r["status"] == status}
        assert {s for _, s in shown} == {status}
    # status and reward together, and one task
    page.page.select_option("#f-status", "completed")
    page.page.select_option("#f-reward", "0")
    page.page.select_option("#f-task", "echo")
    page.wait_list("#episodes?" + urlencode({"task": "echo", "status": "completed", "reward": "0"}))
    assert page.count() == sum(1 for r in recs if r["task"] == "echo" and r["status"] == "completed"
                               and r["reward"] <= 0)


def test_opening_an_episode_shows_its_full_conversation_and_a_permalink(runs, page, tmp_path):
    recs = runs["records"]
    # the conversation with the most (non-empty) model turns
    rec = max(recs, key=lambda r: (sum(m["role"] == "assistant" and bool(m["content"].strip())
                                       for m in r["messages"]), r["run"] == "oracle"))
    page.open(url(runs, "#episodes?" + urlencode({"run": rec["run"], "task": rec["task"]})))
    page.wait_list("#episodes?" + urlencode({"run": rec["run"], "task": rec["task"]}))
    page.page.click(f'tr.ep-row[data-key="{episode_key(rec)}"]')
    page.page.wait_for_selector("#episode .side .msg")
    page.page.screenshot(path=str(screenshot_path(tmp_path, "report-trajectory.png")), full_page=False)
    folded = page.page.locator("#episode details.opening")
    if folded.count():
        folded.locator("summary").click()
        page.page.wait_for_selector("#episode details.opening .msg")
    shown = page.page.eval_on_selector_all(
        "#episode .side .msg", "ms => ms.map(m => [m.dataset.role, m.querySelector('pre').textContent])")
    assert shown == [[m["role"], m["content"]] for m in rec["messages"]]
    head = page.page.inner_text("#episode .ep-head")
    assert rec["status"] in head and f"#{rec['index']}" in head
    # the permalink opens the same episode in a fresh page
    link = page.page.get_attribute("#episode a.permalink", "href")
    assert link.startswith("#episodes?") and "ep=" in link
    page.page.goto("about:blank")
    page.open(url(runs, link))
    page.page.wait_for_selector("#episode .side .msg")
    assert page.page.get_attribute("#episode .side", "data-key") == episode_key(rec)


def test_side_by_side_pairs_the_same_episode_of_two_runs(runs, page, tmp_path):
    recs = runs["records"]
    by_key = {(r["run"], r["task"], r["split"], r["index"]): r for r in recs}
    rec = next(r for r in recs if r["run"] == "oracle" and r["task"] == "echo" and r["index"] == 1)
    other = by_key[("wrong-replay", "echo", rec["split"], 1)]
    page.open(url(runs, "#episodes?" + urlencode({"run": "oracle", "task": "echo", "vs": "wrong-replay"})))
    page.wait_list("#episodes?" + urlencode({"run": "oracle", "task": "echo"}))
    page.page.click(f'tr.ep-row[data-key="{episode_key(rec)}"]')
    page.page.wait_for_selector("#episode.pair .side + .side")
    sides = page.page.eval_on_selector_all("#episode .side", "s => s.map(x => [x.dataset.run, x.dataset.index])")
    assert sides == [["oracle", "1"], ["wrong-replay", "1"]]
    right = page.page.locator("#episode .side").nth(1)
    # the echo env's opening (2 messages every episode shares) is folded; the model's replies follow
    assert [m.strip() for m in right.locator(":scope > .conversation > .msg.role-assistant pre").all_inner_texts()] \
        == [m["content"].strip() for m in other["messages"][2:] if m["role"] == "assistant"]
    # another episode keeps the pairing by index
    rec2 = next(r for r in recs if r["run"] == "oracle" and r["task"] == "echo" and r["index"] == 2)
    page.page.click(f'tr.ep-row[data-key="{episode_key(rec2)}"]')
    page.page.wait_for_function("() => document.querySelector('#episode .side').dataset.index === '2'")
    assert page.page.eval_on_selector_all("#episode .side", "s => s.map(x => x.dataset.index)") == ["2", "2"]
    # the screenshot for docs/: a task with several turns (KG when Virtuoso is here)
    task = "kg" if "kg" in runs["tasks"] else "echo"
    page.page.select_option("#f-task", task)
    page.wait_list("#episodes?" + urlencode({"run": "oracle", "task": task}))
    page.page.click("tr.ep-row >> nth=1")
    page.page.wait_for_selector("#episode.pair .side + .side .msg")
    page.page.screenshot(path=str(screenshot_path(tmp_path, "report-side-by-side.png")), full_page=False)


def test_search_finds_text_inside_conversations(runs, page):
    recs = runs["records"]
    needle = "answer-5"
    expected = {episode_key(r) for r in recs if any(needle in (m["content"] or "") for m in r["messages"])
                or needle in (r.get("error") or "")}
    assert expected
    page.open(url(runs, "#episodes"))
    page.wait_list("#episodes")
    page.page.fill("#f-q", needle.upper())  # case-insensitive
    page.wait_list("#episodes?" + urlencode({"q": needle.upper()}))
    shown = page.page.eval_on_selector_all("tr.ep-row", "rows => rows.map(r => r.dataset.key)")
    assert set(shown) == expected


def test_a_task_section_opens_lazily_with_breakdown_and_plot(runs, page):
    page.open(url(runs, "#tasks"))
    section = page.page.locator("details#task-echo")
    assert section.locator("table.breakdown").count() == 0  # not built until opened
    section.locator("summary").click()
    page.page.wait_for_selector("details#task-echo table.breakdown")
    text = section.inner_text()
    assert "completed" in text and "agent_invalid_action" in text and "task_limit_reached" in text
    assert section.locator("svg.plot").count() == 1


def test_compare_tab_shows_paired_differences(runs, page):
    recs = runs["records"]
    mean = {run: 100 * sum(r["reward"] for r in recs if r["run"] == run and r["task"] == "echo") / 8
            for run in ("oracle", "wrong-replay")}
    page.open(url(runs, "#compare"))
    row = page.page.locator("table.compare:not([hidden]) tr.task", has_text="echo").first
    cells = row.locator("td").all_inner_texts()
    assert cells[:4] == ["echo", f"{mean['oracle']:.2f}", f"{mean['wrong-replay']:.2f}",
                         f"{mean['oracle'] - mean['wrong-replay']:+.2f}"]
    assert cells[5] == "8"


def test_view_serves_the_report_on_localhost(runs, page):
    import subprocess

    import httpx

    from tests.helpers import HARNESS, ROOT, harness_env
    proc = subprocess.Popen([*HARNESS, "view", str(runs["out"]), "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=harness_env())
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving ") and "http://127.0.0.1:" in line, (line, proc.stderr.read())
        base = line.split(" at ", 1)[1].split()[0]
        page.open(base + "#episodes")
        page.wait_list("#episodes")
        assert page.count() == len(runs["records"])
        assert httpx.get(base + "etc/passwd").status_code == 404  # only the report is served
    finally:
        proc.terminate()
        proc.wait(timeout=10)
