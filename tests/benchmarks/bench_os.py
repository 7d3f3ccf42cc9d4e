"""OS env: time from episode start (reset) to a ready container (started, init run, login shell open),
with the warm pool and without it (every episode waits for its own ``docker run``)."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "os"
EPISODES = 20


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


def run() -> dict:
    figures = {}
    for name, size in (("pool", 4), ("no_pool", 0)):
        xs = _measure(size)
        figures[f"os_ready_p50_s_{name}"] = round(statistics.median(xs), 3)
        figures[f"os_ready_p95_s_{name}"] = round(_quantile(xs, 0.95), 3)
    for k, v in figures.items():
        print(f"{k}: {v}")
    return figures


if __name__ == "__main__":
    run()
