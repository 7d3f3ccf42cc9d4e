"""Report benchmark: a full-size synthetic results folder (20,000 episodes over the 16 tasks), scored and written as
one HTML file, then read in headless Chromium: list every episode, filter by status, search every conversation (first
search and again), open an episode. Figures in seconds and MB; CPU seconds of the build beside its wall time."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path


def _browser_figures(report: Path) -> dict:
    from playwright.sync_api import sync_playwright

    from envs.miniwob.browser import ARGS, chromium_path
    wait = "(f) => document.querySelector('#match-count').dataset.filters === f"
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t = time.perf_counter()
        page.goto(report.as_uri() + "#episodes")
        page.wait_for_function(wait, arg="#episodes", timeout=120_000)
        out["report_page_list_20k_s"] = time.perf_counter() - t
        t = time.perf_counter()
        page.select_option("#f-status", "task_limit_reached")
        page.wait_for_function(wait, arg="#episodes?status=task_limit_reached", timeout=120_000)
        out["report_page_filter_status_s"] = time.perf_counter() - t
        page.select_option("#f-status", "")
        page.wait_for_function(wait, arg="#episodes", timeout=120_000)
        for label in ("report_page_search_first_s", "report_page_search_again_s"):
            page.fill("#f-q", "")
            page.wait_for_function(wait, arg="#episodes", timeout=120_000)
            t = time.perf_counter()
            page.fill("#f-q", "Problem os-14:")
            page.wait_for_function(wait, arg="#episodes?q=Problem+os-14%3A", timeout=120_000)
            out[label] = time.perf_counter() - t
        t = time.perf_counter()
        page.click("tr.ep-row")
        page.wait_for_selector("#episode .msg")
        out["report_page_open_episode_s"] = time.perf_counter() - t
        browser.close()
    return out


def run() -> dict:
    import os

    from harness.report import build_report
    from harness.scoring import score_model_dir
    from tests.synthetic import write_run

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        out = Path(tmp) / "results"
        made = write_run(out)
        cpu, t = time.process_time(), time.perf_counter()
        runs = score_model_dir(out / "synthetic-full")
        score_s, score_cpu = time.perf_counter() - t, time.process_time() - cpu
        cpu, t = time.process_time(), time.perf_counter()
        res = build_report(out, runs=runs)
        build_s, build_cpu = time.perf_counter() - t, time.process_time() - cpu
        figures = {"report_episodes": made["episodes"], "report_records_mb": made["bytes"] / 1e6,
                   "report_score_s": score_s, "report_score_cpu_s": score_cpu,
                   "report_build_s": build_s, "report_build_cpu_s": build_cpu, "report_html_mb": res.bytes / 1e6}
        figures.update(_browser_figures(res.path))
    figures = {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}
    figures["load_average_1min"] = round(os.getloadavg()[0], 1)
    for k, v in figures.items():
        print(f"{k}: {v}")
    return figures


if __name__ == "__main__":
    run()
