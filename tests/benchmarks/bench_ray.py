"""Ray runs (harness/cluster): (a) the driver's overhead per remote env step, local thread env vs Ray actor, with a
zero-latency env; (b) throughput of a CPU-bound env (each env holds one CPU) on one node vs two nodes of one core
each, through the runner, on a ``ray.cluster_utils.Cluster`` started here.

Envs are registered from tests/fixtures/ray_bench_envs.py (a plugin file, so the actors import it by path)."""
from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from harness import Backend, Completion, Request, register_backend
from harness.threads import ThreadBridge

PLUGIN = str(Path(__file__).resolve().parents[1] / "fixtures" / "ray_bench_envs.py")
STEPS = 300
CONCURRENT = 8
BURN_EPISODES = 16


class ZeroBackend(Backend):
    async def complete(self, request: Request) -> Completion:
        return Completion(text="ok")


def _plugin():
    os.environ["HARNESS_PLUGINS"] = ",".join(filter(None, [os.environ.get("HARNESS_PLUGINS", ""), PLUGIN]))
    from harness.registry import discover, get_task

    discover(force=True)
    return get_task("bench_zero"), get_task("bench_burn")


async def _steps(handles, steps: int) -> float:
    """Seconds per step: ``steps`` steps on each handle, the handles in parallel."""
    for h in handles:
        await h.reset(0)

    async def drive(h):
        for _ in range(steps):
            await h.step("x")

    t = time.perf_counter()
    await asyncio.gather(*(drive(h) for h in handles))
    return (time.perf_counter() - t) / (steps * len(handles))


def bench_step_overhead(zero) -> dict[str, float]:
    from harness.cluster import connect
    from harness.envhandle import ThreadEnvHandle

    async def local():
        bridge = ThreadBridge()
        hs = [await ThreadEnvHandle.create(zero, "test", None, bridge) for _ in range(CONCURRENT)]
        one = await _steps(hs[:1], STEPS)
        many = await _steps(hs, STEPS)
        bridge.shutdown()
        return one, many

    session = connect("local", [zero])

    async def remote():
        hs = await asyncio.gather(*(session.new_handle(zero, "test", None, 600) for _ in range(CONCURRENT)))
        one = await _steps(hs[:1], STEPS)
        many = await _steps(hs, STEPS)
        for h in hs:
            await h.close()
        return one, many

    try:
        l1, lm = asyncio.run(local())
        r1, rm = asyncio.run(remote())
    finally:
        session.close()
    return {"a_local_step_ms_sequential": 1e3 * l1, "a_ray_step_ms_sequential": 1e3 * r1,
            "a_ray_overhead_ms_per_step": 1e3 * (r1 - l1),
            f"a_local_steps_per_s_{CONCURRENT}_envs": 1 / lm, f"a_ray_steps_per_s_{CONCURRENT}_envs": 1 / rm}


def _burn_run(address: str, burn) -> float:
    from harness.runner import RunConfig, Runner

    with tempfile.TemporaryDirectory() as out:
        cfg = RunConfig(model="zero:0", tasks=[burn], limit=BURN_EPISODES, concurrency=8, output=Path(out),
                        progress=False, ray=address)
        t = time.perf_counter()
        asyncio.run(Runner(cfg).run())
        return BURN_EPISODES / (time.perf_counter() - t)


def bench_cpu_bound(burn) -> dict[str, float]:
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": 80 << 20,
                                                      "include_dashboard": False})
    try:
        c.add_node(num_cpus=1, object_store_memory=80 << 20)
        c.wait_for_nodes()
        one = [_burn_run(c.address, burn) for _ in range(2)]
        c.add_node(num_cpus=1, object_store_memory=80 << 20)
        c.wait_for_nodes()
        two = [_burn_run(c.address, burn) for _ in range(2)]
    finally:
        c.shutdown()
    a, b = statistics.median(one), statistics.median(two)
    return {"b_cpu_env_episodes_per_s_1_node": a, "b_cpu_env_episodes_per_s_2_nodes": b, "b_2_nodes_over_1": b / a}


def run() -> dict[str, float]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    register_backend("zero", ZeroBackend)
    zero, burn = _plugin()
    figures = {"load_avg_1min_at_start": os.getloadavg()[0]}
    figures.update(bench_step_overhead(zero))
    figures.update(bench_cpu_bound(burn))
    figures["load_avg_1min_at_end"] = os.getloadavg()[0]
    for k, v in figures.items():
        print(f"{k}: {v:.3f}")
    return figures


if __name__ == "__main__":
    run()
