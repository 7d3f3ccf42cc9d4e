"""WebArena speed and memory on the stand-in sites in real Chromium, at 8 concurrent episodes (8 env instances on
threads sharing one browser, one context each, as the runner drives them): episode reset latency, steps per second
(all episodes together; each step = the action, the settling after it, the snapshot and the accessibility-tree
rendering), and the browser's memory (PSS of Chromium's processes) per concurrent episode."""
from __future__ import annotations

import os
import statistics
import threading
import time
from pathlib import Path

CONCURRENT = 8
STEPS = 12  # per episode
#: forum list, then cycle through scrolling and a click/back (never the same action three times in a row)
CYCLE = ["scroll [down]", "scroll [up]", "click [{link 'books'}]", "go_back"]
TASK = 8


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def chromium_pss_mb() -> float:
    """PSS of every Chromium process below this one (the browser, its renderers, GPU and utility processes)."""
    total = 0
    for pid in _descendants(os.getpid()):
        try:
            if b"chrom" not in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]:
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def run() -> dict:
    single = measure(1)
    out = measure(CONCURRENT)
    out["webarena_steps_per_s_one_episode"] = single["webarena_steps_per_s"]
    out["webarena_speedup_8_vs_1"] = round(out["webarena_steps_per_s"] / single["webarena_steps_per_s"], 2)
    for key, value in out.items():
        print(f"{key}: {value}")
    return out


def measure(concurrent: int) -> dict:
    from envs.webarena.env import ORACLE_REF, WebArenaEnv
    from tests.fixtures.webarena import webarena_data

    phrase = "In summary, the next action I will perform is "
    envs = [WebArenaEnv(split="standin", data_dir=webarena_data(), standin=True, sleep_after_execution=0.0,
                        eval_settle=0.0) for _ in range(concurrent)]
    resets: list[float] = []
    steps = [0] * concurrent
    try:
        envs[0].host.run(envs[0].host.browser())  # start Chromium before timing
        idle = chromium_pss_mb()
        barrier = threading.Barrier(concurrent + 1)
        hold = threading.Event()

        def episode(k: int) -> None:
            env = envs[k]
            t = time.perf_counter()
            env.reset(options={"index": TASK})
            resets.append(time.perf_counter() - t)
            barrier.wait()  # every context open: the memory figure is taken here
            hold.wait()
            for n in range(STEPS):
                action = ORACLE_REF.sub(lambda m: env._element_id(m.group(1), m.group(2)), CYCLE[n % len(CYCLE)])
                _, _, done, _, _ = env.step(f"{phrase}```{action}```")
                steps[k] += 1
                if done:
                    env.reset(options={"index": TASK})

        threads = [threading.Thread(target=episode, args=(k,)) for k in range(concurrent)]
        for th in threads:
            th.start()
        barrier.wait()
        time.sleep(1.0)
        loaded = chromium_pss_mb()
        t = time.perf_counter()
        hold.set()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - t
    finally:
        for env in envs:
            env.close()
    return {"webarena_concurrent_episodes": concurrent,
           "webarena_reset_latency_s": round(statistics.median(resets), 3),
           "webarena_steps_per_s": round(sum(steps) / elapsed, 2),
           "webarena_step_latency_s": round(elapsed / STEPS, 3),
           "webarena_browser_idle_pss_mb": round(idle, 1),
           "webarena_browser_pss_mb_all_open": round(loaded, 1),
           "webarena_browser_mb_per_episode": round((loaded - idle) / concurrent, 1),
           "load_average_1min": round(os.getloadavg()[0], 2)}


if __name__ == "__main__":
    run()
