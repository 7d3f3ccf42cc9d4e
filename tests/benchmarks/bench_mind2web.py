"""Mind2Web env speed: one call's pruning and rendering on synthetic pages of Mind2Web-like size (1k, 5k, 20k
elements), reading a ranker-scores pickle, and oracle episodes per second on the fixture split."""
from __future__ import annotations

import json
import pickle
import random
import statistics
import tempfile
import time
from pathlib import Path


def synthetic_page(n_elements: int, seed: int = 0) -> tuple[str, list[str]]:
    """Nested sections of lists, links, inputs and text, every element with a backend_node_id."""
    rng = random.Random(seed)
    parts, ids, next_id = ["<html backend_node_id=\"0\"><body backend_node_id=\"1\">"], [], 2
    count = 0
    while count < n_elements:
        sid = next_id
        parts.append(f'<section backend_node_id="{sid}" aria_label="block {sid}"><ul backend_node_id="{sid + 1}">')
        next_id += 2
        for _ in range(rng.randint(5, 30)):
            li, a, t = next_id, next_id + 1, next_id + 2
            next_id += 3
            kind = rng.choice(["a", "button", "input"])
            if kind == "input":
                parts.append(f'<li backend_node_id="{li}"><input backend_node_id="{a}" type="text" '
                             f'placeholder="field {a}"/><text backend_node_id="{t}">label {t}</text></li>')
            else:
                parts.append(f'<li backend_node_id="{li}"><{kind} backend_node_id="{a}" title="item {a}">'
                             f'<text backend_node_id="{t}">item {a} text words here</text></{kind}></li>')
            ids.append(str(a))
            count += 3
        parts.append("</ul></section>")
        count += 2
    parts.append("</body></html>")
    return "".join(parts), ids


def run() -> dict:
    from envs.mind2web import dom
    from envs.mind2web.data import _read_steps, load_ranks

    figures: dict = {}
    for n in (1000, 5000, 20000):
        html, ids = synthetic_page(n)
        rng = random.Random(n)
        times = []
        for _ in range(15):
            cands = rng.sample(ids, 5)
            t0 = time.perf_counter()
            dom.page_and_choices(html, cands)
            times.append(1000 * (time.perf_counter() - t0))
        figures[f"call_ms_p50_{n // 1000}k_elements"] = round(statistics.median(times), 2)
    # the ranker file: samples x candidates of float scores and int ranks (Mind2Web's holds ~10k samples)
    samples, per = 2000, 300
    results = {"scores": {}, "ranks": {}}
    for s in range(samples):
        results["scores"][f"s{s}"] = {str(c): 1.0 / (c + 1) for c in range(per)}
        results["ranks"][f"s{s}"] = {str(c): c for c in range(per)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scores.pkl"
        path.write_bytes(pickle.dumps(results))
        del results
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            pickle.load(f)
        plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        load_ranks(path, {f"s{s}" for s in range(0, samples, 10)})
        seconds = time.perf_counter() - t0
        figures["scores_read_MB_per_s"] = round(path.stat().st_size / 1e6 / seconds, 1)
        figures["scores_read_time_over_plain_pickle_load"] = round(seconds / plain, 2)
        figures["scores_file_MB"] = round(path.stat().st_size / 1e6, 1)
    # a task file shaped like the official ones: large raw_html, 100 KB-class cleaned_html per step
    html, ids = synthetic_page(1500)
    task = {"annotation_id": "a", "website": "w", "domain": "d", "subdomain": "s", "confirmed_task": "t",
            "action_reprs": ["r"] * 8,
            "actions": [{"action_uid": f"u{k}", "raw_html": "<p>raw page</p>" * 150_000, "cleaned_html": html,
                         "operation": {"op": "CLICK", "original_op": "CLICK", "value": ""},
                         "pos_candidates": [{"backend_node_id": ids[0]}],
                         "neg_candidates": [{"backend_node_id": i} for i in ids[1:200]]} for k in range(8)]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "test_x_0.json"
        path.write_text(json.dumps([dict(task, annotation_id=f"a{n}") for n in range(6)]))
        t0 = time.perf_counter()
        steps = _read_steps(path)
        seconds = time.perf_counter() - t0
        figures["task_file_read_MB_per_s"] = round(path.stat().st_size / 1e6 / seconds, 1)
        figures["page_memory_over_text"] = round(sum(len(s["page"]) for s in steps) / (len(html) * len(steps)), 3)
    try:
        from tests.fixtures.mind2web.layout import fixture_root

        root = fixture_root()
    except BaseException:  # the prompt texts are absent (pytest.skip raises)
        root = None
    if root is not None:
        from envs.mind2web.env import Mind2WebEnv

        env = Mind2WebEnv(split="fixture", data_dir=root)
        oracle_runs, t0 = 0, time.perf_counter()
        for _ in range(5):
            for i in range(len(env)):
                obs, info = env.reset(options={"index": i})
                gold = env.oracle_actions(i)
                done = info.get("done", False)
                while not done:
                    done = env.step(next(gold))[2]
                oracle_runs += 1
        figures["fixture_oracle_episodes_per_s"] = round(oracle_runs / (time.perf_counter() - t0), 1)
    for key, value in figures.items():
        print(f"mind2web {key}: {value}")
    return figures


if __name__ == "__main__":
    run()
