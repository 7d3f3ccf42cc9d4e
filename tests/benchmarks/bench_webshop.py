"""WebShop at full catalogue size: a generated 1.2 M-product catalogue in the full data's format (made in a temporary
folder at bench time, removed after): catalogue build (once per catalogue) time and peak memory, then in a fresh
process the env's load time, resident memory with 16 concurrent episodes on the shared store and index, and step
latency (p50/p95) of those episodes (search, paging, product pages, options, purchase). Also the small split's step
latency on the shared 1,000-product data when present.

``WEBSHOP_BENCH_PRODUCTS`` changes the catalogue size (default 1,200,000).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BUILD = """
import json, resource, sys, time
from pathlib import Path
from envs.webshop.catalogue import open_catalogue
d = Path(sys.argv[1])
t = time.perf_counter()
cat = open_catalogue(d / 'webshop' / 'items_shuffle.json', d / 'webshop' / 'items_ins_v2.json', cache=Path(sys.argv[2]))
print(json.dumps({'build_s': time.perf_counter() - t, 'products': cat.n,
                  'build_peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

EPISODES = """
import json, resource, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

def rss_mb(field='VmRSS:'):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) / 1024

data, cache, split = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
t = time.perf_counter()
import envs.webshop.env as W
import_s = time.perf_counter() - t
rss_before = rss_mb()
t = time.perf_counter()
first = W.WebShopEnv(split=split, data_dir=data, cache_dir=cache)
load_s = time.perf_counter() - t
envs = [first] + [W.WebShopEnv(split=split, data_dir=data, cache_dir=cache) for _ in range(15)]
t = time.perf_counter()
from envs.webshop import reward
reward.nouns('warm up the tagger')
tagger_s = time.perf_counter() - t
steps, searches = [], []
lock = threading.Lock()

def play(k):
    env = envs[k]
    for index in range(k, len(env), 16)[:int(sys.argv[4])]:
        env.reset(options={'index': index})
        for action in env.oracle_actions(index):
            t0 = time.perf_counter()
            _, r, done, _, info = env.step(action)
            dt = time.perf_counter() - t0
            with lock:
                steps.append(dt)
                if 'search[' in action:
                    searches.append(dt)
            if done:
                break
    return rss_mb()

t = time.perf_counter()
with ThreadPoolExecutor(16) as pool:
    peak_during = max(pool.map(play, range(16)))
wall = time.perf_counter() - t
steps.sort(); searches.sort()
q = lambda xs, p: xs[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else None
print(json.dumps({'import_s': import_s, 'load_s': load_s, 'tagger_load_s': tagger_s,
                  'rss_mb_after_load': rss_mb(), 'rss_mb_16_episodes': max(peak_during, rss_mb()),
                  'rss_anon_mb_16_episodes': rss_mb('RssAnon:'), 'rss_file_mb_16_episodes': rss_mb('RssFile:'),
                  'rss_mb_python_baseline': rss_before, 'steps': len(steps), 'episodes_wall_s': wall,
                  'step_p50_ms': q(steps, .5), 'step_p95_ms': q(steps, .95),
                  'search_p50_ms': q(searches, .5), 'search_p95_ms': q(searches, .95)}))
"""


def _run(code: str, *args: str, timeout: float = 7200) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                         timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> dict:
    from harness import data_dir
    from tests.fixtures.webshop_catalogue import generate

    shared = data_dir()
    needed = ("agentbench/prompts/webshop.json", "upstream")
    if not all((shared / p).exists() for p in needed):
        return {"skipped": f"needs {', '.join(needed)} under {shared}"}
    n = int(os.environ.get("WEBSHOP_BENCH_PRODUCTS", "1200000"))
    figures: dict = {"load_average": os.getloadavg()[0]}
    small = shared / "webshop" / "items_shuffle_1000.reconstructed.json"
    tmp = Path(tempfile.mkdtemp(prefix="bench-webshop-"))
    try:
        if small.exists():
            r = _run(EPISODES, str(shared), str(tmp / "cache-small"), "small", "4")
            figures.update({f"small_{k}": round(v, 3) for k, v in r.items() if k in (
                "load_s", "step_p50_ms", "step_p95_ms", "search_p50_ms", "rss_mb_16_episodes")})
        t = time.perf_counter()
        paths = generate(tmp / "data" / "webshop", n, seed=0)
        figures["generate_s"] = round(time.perf_counter() - t, 1)
        figures["products"] = n
        figures["catalogue_gb"] = round(paths["items"].stat().st_size / 1e9, 2)
        for rel in needed:
            (tmp / "data" / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / "data" / rel).symlink_to(shared / rel)
        r = _run(BUILD, str(tmp / "data"), str(tmp / "cache"))
        figures.update({k: round(v, 1) for k, v in r.items()})
        build = next((tmp / "cache").glob("catalogue-*"))
        figures["build_on_disk_gb"] = round(sum(p.stat().st_size for p in build.rglob("*") if p.is_file()) / 1e9, 2)
        r = _run(EPISODES, str(tmp / "data"), str(tmp / "cache"), "std", "2")
        figures.update({k: round(v, 3) for k, v in r.items()})
        figures["load_average_end"] = os.getloadavg()[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for key, value in figures.items():
        print(f"webshop {key}: {value}")
    return figures


if __name__ == "__main__":
    run()
