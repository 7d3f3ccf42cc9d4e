"""OS env: (1) time from episode start (reset) to a ready container (started, login shell open, init run), with the
warm pool and without it; (2) oracle episodes per second at concurrency 1, 4 and 8 (one env per worker thread, as the
runner drives a thread-safe env), with the CPU seconds per episode of this process and of the Docker daemons.

Throughput uses 48 std episodes spread over every problem file when HARNESS_DATA holds the task data, else the
fixture records repeated. On a 2-core machine the Docker engine's own work (dockerd, containerd, runc, the shims)
is most of the CPU an episode costs, so figures depend strongly on other load: the load average is reported.
"""
from __future__ import annotations

import os
import resource
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "os"
EPISODES = 20
CONCURRENCY = (1, 4, 8)
THROUGHPUT_EPISODES = 48


def _quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def _measure(pool_size: int, episodes: int = EPISODES, gap: float = 1.0) -> list[float]:
    from envs.os_interaction.env import OSEnv
    env = OSEnv(split="std", data_dir=FIXTURE, pool_size=pool_size)
    try:
        if pool_size:
            time.sleep(3.0)  # let the pool fill, as it does while a run loads its model
        ready = []
        for _ in range(episodes):
            env.reset(options={"index": 0})
            ready.append(env.timings["ready_s"])
            env.step("Act: answer(hello)")
            time.sleep(gap)  # a model turn's worth of time, during which the pool refills
        return ready
    finally:
        env.close()


def _daemon_cpu() -> float:
    """CPU seconds used so far by dockerd and containerd (0 when they cannot be read)."""
    hz, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat[stat.index("(") + 1:stat.rindex(")")] in ("dockerd", "containerd"):
            total += sum(int(x) for x in stat.rsplit(")", 1)[1].split()[11:15]) / hz
    return total


def _episodes() -> tuple[Path | None, list[int]]:
    from harness.data import data_dir
    if (data_dir() / "agentbench" / "os_interaction").is_dir():
        return None, list(range(0, 144, 3))[:THROUGHPUT_EPISODES]
    return FIXTURE, [i % 5 for i in range(THROUGHPUT_EPISODES)]


def _throughput(concurrency: int, data: Path | None, indices: list[int]) -> dict[str, float]:
    from envs.os_interaction import containers
    from envs.os_interaction.env import OSEnv
    from envs.os_interaction.images import DEFAULT
    local, envs, lock = threading.local(), [], threading.Lock()

    def env() -> OSEnv:
        if not hasattr(local, "env"):
            local.env = OSEnv(split="std", data_dir=data)
            with lock:
                envs.append(local.env)
        return local.env

    def episode(i: int) -> float:
        e = env()
        e.reset(options={"index": i})
        gen = e.oracle_actions(i)
        reply = next(gen)
        while True:
            obs, reward, done, _, _ = e.step(reply)
            if done:
                return reward
            reply = gen.send(obs)

    first = OSEnv(split="std", data_dir=data)  # the pool starts and fills before the clock starts
    envs.append(first)
    containers.get_pool(first.host, DEFAULT.tag, first.pool_size, first.limits)
    time.sleep(3.0)
    own0, daemons0, load0 = resource.getrusage(resource.RUSAGE_SELF), _daemon_cpu(), os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            rewards = list(pool.map(episode, indices))
    finally:
        wall = time.perf_counter() - t0
        for e in envs:
            e.close()
    own1, daemons1 = resource.getrusage(resource.RUSAGE_SELF), _daemon_cpu()
    containers.close_pools()
    n = len(indices)
    own = own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime
    return {f"os_oracle_eps_per_s_c{concurrency}": round(n / wall, 3),
            f"os_oracle_solved_c{concurrency}": f"{int(sum(rewards))}/{n}",
            f"os_cpu_s_per_episode_harness_c{concurrency}": round(own / n, 3),
            f"os_cpu_s_per_episode_dockerd_containerd_c{concurrency}": round((daemons1 - daemons0) / n, 3),
            f"os_load_avg_c{concurrency}": round((load0 + os.getloadavg()[0]) / 2, 1)}


def run() -> dict:
    figures: dict = {}
    for name, size in (("pool", 4), ("no_pool", 0)):
        xs = _measure(size)
        figures[f"os_ready_p50_ms_{name}"] = round(1000 * statistics.median(xs), 1)
        figures[f"os_ready_p95_ms_{name}"] = round(1000 * _quantile(xs, 0.95), 1)
    data, indices = _episodes()
    for c in CONCURRENCY:
        figures.update(_throughput(c, data, indices))
    figures["os_oracle_speedup_c8_over_c4"] = round(figures["os_oracle_eps_per_s_c8"] /
                                                    figures["os_oracle_eps_per_s_c4"], 2)
    for k, v in figures.items():
        print(f"{k}: {v}")
    return figures


if __name__ == "__main__":
    run()
