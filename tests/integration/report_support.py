"""Shared by the report tests: real runs to report on, and a page in Debian's Chromium that cannot reach the network."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.records import latest_by_episode, read_records
from tests.helpers import ECHO, ROOT, run_harness

#: screenshots go to docs/ when this is set (HARNESS_UPDATE_DOCS=1), else into the test's temporary folder
UPDATE_DOCS = bool(os.environ.get("HARNESS_UPDATE_DOCS"))
DOCS = ROOT / "docs"
LIMIT = 8


def data_tasks() -> list[str]:
    """Offline tasks whose data is here (oracle and replay runs of them are real runs of the real envs)."""
    from harness.data import data_dir
    from harness.registry import tasks
    specs = tasks()
    out = [t for t in ("gsm8k", "mmlu", "hotpotqa") if t in specs and all((data_dir() / p).exists()
                                                                          for p in specs[t].data)]
    return out


def wrong_replay(path: Path, tasks: list[str]) -> Path:
    """Replies that are wrong (or malformed) for each task: a run that fails in the ways models fail."""
    lines = []
    for i in range(LIMIT):
        lines.append({"task": "echo", "index": i, "responses": ["Answer: no", f"Answer: answer-{i}"] if i % 3 == 1
                      else (["Invalid"] if i % 3 == 2 else ["hmm", "no", "still no"])})
        lines.append({"task": "gsm8k", "index": i, "responses": ["Let me think. The answer is 0."]})
        lines.append({"task": "mmlu", "index": i, "responses": ["Z"]})
        lines.append({"task": "hotpotqa", "index": i,
                      "responses": ["Thought: I should search.\nAction: Search[Paris]", "Action: Finish[nothing]"]})
        lines.append({"task": "kg", "index": i, "responses": ["Thought: look.\nAction: get_relations(Nowhere)",
                                                             "Final Answer: #0"]})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def make_real_runs(out: Path) -> dict[str, Any]:
    """Two runs (oracle and a wrong replay) of the echo fixture, the offline tasks whose data is present and KG's
    test graph when Virtuoso is installed; returns what was run. `harness eval` writes the report at the end."""
    env = dict(os.environ)
    env.update(HARNESS_PLUGINS=ECHO, HARNESS_REPORT="1")
    tasks = ["echo"] + data_tasks()
    replay = wrong_replay(out.parent / "wrong.jsonl", tasks + ["kg"])
    for name, model in (("oracle", "oracle"), ("wrong-replay", f"replay:{replay}")):
        r = run_harness("eval", "--model", model, "--tasks", ",".join(tasks), "--limit", str(LIMIT), "--output",
                        str(out), "--name", name, "--no-progress", env=env, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        if shutil.which("virtuoso-t"):
            r = run_harness("eval", "--model", model, "--tasks", "kg", "--split", "test-graph", "--limit", "6",
                            "--output", str(out), "--name", name, "--no-progress", env=env, timeout=600)
            assert r.returncode == 0, r.stderr[-2000:]
    return {"tasks": tasks + (["kg"] if shutil.which("virtuoso-t") else []), "stderr": r.stderr}


def records(out: Path) -> list[dict[str, Any]]:
    """Every record that counts, with the run folder's name as ``run``."""
    recs = []
    for f in sorted(out.glob("*/*/episodes.jsonl")):
        for r in latest_by_episode(read_records(f)).values():
            r["run"] = f.parent.parent.name
            recs.append(r)
    return recs


def episode_key(r: dict[str, Any]) -> str:
    return "|".join(str(x) for x in (r["run"], r["task"], r["split"], r["index"], r.get("epoch", 0)))


class Offline:
    """Requests other than the page itself (and data:/blob: URLs) are refused by a route and remembered; every
    request the page makes is recorded too."""

    def __init__(self, context) -> None:
        self.refused: list[str] = []
        self.requests: list[str] = []
        self.allowed: set[str] = set()
        context.route("**/*", self._route)
        context.on("request", lambda req: self.requests.append(req.url))

    def _route(self, route) -> None:
        url = route.request.url.split("#", 1)[0]
        if url in self.allowed or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def foreign(self) -> list[str]:
        """Requests for anything but the page itself."""
        return [u for u in self.requests if u.split("#", 1)[0] not in self.allowed
                and not u.startswith(("data:", "blob:"))] + self.refused


@pytest.fixture(scope="module")
def browser():
    from envs.miniwob.browser import ARGS, chromium_path
    from playwright.sync_api import sync_playwright
    try:
        path = chromium_path()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=ARGS)
        yield b
        b.close()


class Page:
    """A page with its console errors, uncaught exceptions and refused requests collected."""

    def __init__(self, browser, width: int = 1400, height: int = 1000) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.offline = Offline(self.context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.set_default_timeout(30_000)

    def open(self, url: str, wait: str = "load") -> None:
        self.offline.allowed.add(url.split("#", 1)[0])
        self.page.goto(url, wait_until=wait)

    def wait_list(self, filters: str, timeout: float = 60_000) -> None:
        """Wait until the episode list shows the given filters (the hash of the list's state)."""
        self.page.wait_for_function("(f) => document.querySelector('#match-count').dataset.filters === f",
                                    arg=filters, timeout=timeout)

    def count(self) -> int:
        return int(self.page.get_attribute("#match-count", "data-count"))

    def close(self) -> None:
        self.context.close()


def screenshot_path(tmp: Path, name: str) -> Path:
    return (DOCS if UPDATE_DOCS else tmp) / name
