"""A full-size results folder (20,000 synthetic episodes, the size of one run of all 16 tasks): the report is built,
opens and filters in Chromium. Times are measured and printed in the test log, never asserted."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from tests.helpers import run_harness
from tests.integration.report_support import Page, browser  # noqa: F401
from tests.synthetic import write_run

pytestmark = [pytest.mark.integration]


def test_twenty_thousand_episodes_open_and_filter(tmp_path, browser, capsys):  # noqa: F811
    out = tmp_path / "results"
    t = time.perf_counter()
    made = write_run(out)
    t_gen = time.perf_counter() - t
    assert made["episodes"] == 20_000
    t = time.perf_counter()
    r = run_harness("report", str(out), timeout=900)
    t_build = time.perf_counter() - t
    assert r.returncode == 0, r.stderr
    report = out / "report.html"
    size = report.stat().st_size

    p = Page(browser)
    figures = {}
    t = time.perf_counter()
    p.open(report.as_uri() + "#episodes")
    p.wait_list("#episodes")
    figures["open the page and list 20,000 episodes"] = time.perf_counter() - t
    assert p.count() == 20_000
    assert p.page.locator("tr.ep-row").count() == 100  # one page is drawn, not 20,000 rows

    status = "task_limit_reached"
    t = time.perf_counter()
    p.page.select_option("#f-status", status)
    p.wait_list("#episodes?" + urlencode({"status": status}))
    figures[f"filter by status ({made['statuses'][status]:,} match)"] = time.perf_counter() - t
    assert p.count() == made["statuses"][status]
    assert set(p.page.eval_on_selector_all("tr.ep-row", "rs => rs.map(r => r.dataset.status)")) == {status}

    t = time.perf_counter()
    p.page.select_option("#f-task", "mmlu")
    p.wait_list("#episodes?" + urlencode({"task": "mmlu", "status": status}))
    figures["filter by task as well (MMLU)"] = time.perf_counter() - t

    t = time.perf_counter()
    p.page.select_option("#f-task", "")
    p.page.select_option("#f-status", "")
    p.page.fill("#f-q", "Problem os-14:")
    p.wait_list("#episodes?" + urlencode({"q": "Problem os-14:"}), timeout=120_000)
    figures["search the text of every conversation (first search decodes every block)"] = time.perf_counter() - t
    assert p.count() == 1

    t = time.perf_counter()
    p.page.click("tr.ep-row")
    p.page.wait_for_selector("#episode .msg")
    figures["open the episode"] = time.perf_counter() - t
    assert "Problem os-14:" in p.page.inner_text("#episode")
    assert p.errors == [] and p.offline.foreign() == [], (p.errors, p.offline.foreign())
    p.close()
    with capsys.disabled():
        print(f"\n[report, 20,000 episodes] records {made['bytes'] / 1e6:.0f} MB written in {t_gen:.1f} s; "
              f"`harness report` {t_build:.1f} s (scoring included) -> {size / 1e6:.1f} MB HTML")
        for k, v in figures.items():
            print(f"[report, 20,000 episodes] {k}: {v:.2f} s")
