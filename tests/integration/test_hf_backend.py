"""hf: backend with a tiny random-weight Llama built in a temporary folder (no download).

The real model (SmolLM2-135M-Instruct) runs in test_realmodel_hf.py; these check the mechanics cheaply: batching,
prefix reuse, both batching engines, option scoring, truncation, stop strings and bad specs."""
import asyncio

import pytest

pytest.importorskip("transformers")

from agents.backends.hf import HFBackend
from harness import ContextLimitError, Request, UsageError
from harness.train.tiny import build_tiny_model as make_tiny_llama


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_llama(tmp_path_factory.mktemp("tiny"))


PROMPTS = [f"question {i}: the quick brown fox {i % 7} jumps" + " over" * (i % 5) for i in range(16)]


async def _run(backend, prompts, concurrent=True, stop=None, max_new=12):
    await backend.start()
    try:
        reqs = [Request(messages=[{"role": "user", "content": p}], max_new_tokens=max_new, temperature=0.0, stop=stop)
                for p in prompts]
        if concurrent:
            return await asyncio.gather(*(backend.complete(r) for r in reqs))
        return [await backend.complete(r) for r in reqs]
    finally:
        await backend.close()


def test_concurrent_requests_are_batched_and_greedy_outputs_match_one_at_a_time(tiny):
    batched = HFBackend(str(tiny), dtype="float32", batch_wait_ms="20")
    out_b = asyncio.run(_run(batched, PROMPTS, concurrent=True))
    single = HFBackend(str(tiny), dtype="float32")
    out_s = asyncio.run(_run(single, PROMPTS, concurrent=False))
    assert batched.batching == "static" and batched.resolved_chat_format == "llama-2"  # tiny's template has <<SYS>>
    assert max(batched.batch_sizes) >= 8, batched.batch_sizes  # served in batches
    assert max(single.batch_sizes) == 1
    assert [c.text for c in out_b] == [c.text for c in out_s]
    assert all(c.completion_tokens > 0 and c.prompt_tokens > 0 for c in out_b)


def test_continuous_batching_engine_gives_the_same_greedy_replies(tiny):
    cont = HFBackend(str(tiny), dtype="float32", batching="continuous", kv_cache_gb="0.05")
    out_c = asyncio.run(_run(cont, PROMPTS[:8], concurrent=True))
    single = HFBackend(str(tiny), dtype="float32")
    out_s = asyncio.run(_run(single, PROMPTS[:8], concurrent=False))
    assert cont.peak_in_flight >= 4
    assert [c.text for c in out_c] == [c.text for c in out_s]
    assert [c.completion_tokens for c in out_c] == [c.completion_tokens for c in out_s]


def _turns(n):
    msgs = [{"role": "user", "content": "instruction: answer in one word " * 8}]
    for i in range(n):
        msgs += [{"role": "assistant", "content": f"reply {i} " * 6}, {"role": "user", "content": f"observation {i}"}]
    return msgs


def test_later_turns_reuse_the_cached_conversation_and_reply_as_without_it(tiny):
    async def episode(backend):
        await backend.start()
        try:
            out = []
            for turn in range(4):
                out.append((await backend.complete(Request(messages=_turns(turn), max_new_tokens=8))).text)
            return out
        finally:
            await backend.close()

    reused = HFBackend(str(tiny), dtype="float32")
    plain = HFBackend(str(tiny), dtype="float32", prefix_cache_gb="0")
    assert asyncio.run(episode(reused)) == asyncio.run(episode(plain))
    assert reused.store.extended >= 2  # turn t's history extends turn t-1's kept prefix
    assert plain.store.entries == {} and plain.store.computed_tokens == 0


def test_choose_scores_options_exactly_and_prompt_truncation(tiny):
    backend = HFBackend(str(tiny), dtype="float32")
    plain = HFBackend(str(tiny), dtype="float32", prefix_cache_gb="0")
    messages = _turns(2)
    options = ["A", "B", "answer C", "answer C and D"]

    async def go(b):
        await b.start()
        try:
            scores = [await b.choose(Request(messages=messages), options) for _ in range(2)]
            long = Request(messages=[{"role": "user", "content": "word " * 5000}], max_new_tokens=4)
            return scores, await b.complete(long)
        finally:
            await b.close()

    (first, again), c = asyncio.run(go(backend))
    (ref, _), _ = asyncio.run(go(plain))
    assert first == again and first.prompt_tokens > 100
    assert max(abs(a - b) for a, b in zip(first, ref)) < 1e-4
    assert len(first) == 4 and all(s < 0 for s in first) and len(set(first)) == 4
    assert first[3] < first[2]  # a longer option adds the log-probabilities of its extra tokens
    assert backend.store.hits >= 1
    assert c.truncated_prompt and c.prompt_tokens == 4096 - 4
    strict = HFBackend(str(tiny), dtype="float32", truncate="false")
    with pytest.raises(ContextLimitError):
        asyncio.run(_run(strict, ["word " * 5000]))


def test_stop_strings_cut_the_reply(tiny):
    full = asyncio.run(_run(HFBackend(str(tiny), dtype="float32"), PROMPTS[:4], max_new=24))
    stop = [c.text[3:5] for c in full]  # a piece of each greedy reply
    for prompt, whole, s in zip(PROMPTS[:4], full, stop):
        cut = asyncio.run(_run(HFBackend(str(tiny), dtype="float32"), [prompt], stop=[s], max_new=24))[0]
        assert cut.text == whole.text[: whole.text.find(s)] and cut.finish_reason == "stop"


def test_specs_that_cannot_work_stop_with_one_line(tiny, tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        HFBackend(str(tmp_path / "missing"))
    with pytest.raises(UsageError, match="neither config.json nor a .gguf"):
        HFBackend(str(tmp_path))
    for bad in ({"dtype": "float8"}, {"chat_format": "chatml"}, {"batching": "dynamic"}, {"context_length": "x"}):
        with pytest.raises(UsageError):
            HFBackend(str(tiny), **bad)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    with pytest.raises(UsageError, match="cannot load the model"):
        asyncio.run(HFBackend(str(broken)).start())
