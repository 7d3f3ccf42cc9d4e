"""``hf:PATH``: a transformers model (a model folder, or a ``.gguf`` file / a folder holding one).

Two ways to batch the requests of concurrent episodes (``batching=``):

- ``static`` (default): requests that arrive together (within ``batch_wait_ms``) with the same sampling
  settings form one padded batch for ``generate()``; the KV cache of what prompts share with earlier ones (the
  conversation before the last message: the previous turns of an episode, a few-shot prefix) is reused instead of
  recomputed (:mod:`agents.backends.hf_engine`), and attention reads grouped key/value heads without copying them.
- ``continuous``: transformers' continuous batching (``init_continuous_batching``): a paged KV cache, requests join
  and leave the running batch at every step, cached prompt blocks are shared. Made for GPUs with flash attention; on
  CPU its attention reads every running request's keys for every query and copies the paged cache at every layer,
  which made it slower than one request at a time on the 2-core test machine (docs/BENCHMARKS.md). Not yet measured on
  a GPU, hence not the default there either.

Greedy by default (temperature 0); stop strings end a reply. ``choose()`` scores options by log-probability in one
forward pass over the prompt and the options' shared tokens, on top of the reused conversation prefix.
A GGUF file is dequantized once into a cached transformers folder keyed by its sha256 (:mod:`agents.gguf`).

Options: ``dtype`` (auto, float32, bfloat16, float16), ``device`` (auto, cpu, cuda, cuda:N), ``chat_format`` (auto,
llama-2, tokenizer, plain, raw; see :mod:`agents.templates`), ``system`` (system prompt; ``none`` for none),
``context_length`` (4096, the paper's), ``truncate`` (true: left-truncate an overlong prompt as TGI did for the paper;
false: agent_context_limit), ``batching`` (static, continuous), ``max_batch`` (32), ``batch_wait_ms`` (5, static),
``prefix_cache_gb`` (memory for reused prefixes, 1; 0 turns reuse off), ``kv_cache_gb`` (continuous: KV cache size;
CPU default 2, GPU default transformers' sizing from free memory), ``page_size`` (continuous; 256),
``max_batch_tokens`` (continuous; CPU default 512).
"""
from __future__ import annotations

import asyncio
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from harness import Backend, BackendError, Completion, Request, UsageError

from .. import gguf
from ..templates import resolve_chat_format
from . import hf_engine as E
from .prompting import OptionScores, Prompter, chat_format_option, common_prefix, flag, number, system_option

DTYPES = ("auto", "float32", "bfloat16", "float16")
MIN_SHARED = 16  # a shorter shared prefix is not worth keeping


@dataclass
class _Pending:
    row: E.Row
    max_new_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...]
    truncated: bool
    future: asyncio.Future = field(repr=False)


class HFBackend(Backend):
    supports_choose = True

    def __init__(self, target: str = "", **options: Any) -> None:
        super().__init__(target, **options)
        self.path = Path(target).expanduser()
        if not self.path.exists():
            raise UsageError(f"hf: model path {self.path} does not exist (give a transformers model folder or a "
                             f".gguf file)")
        self.gguf_file = gguf.find_gguf(self.path)
        if self.gguf_file is None and not (self.path / "config.json").exists():
            raise UsageError(f"hf: {self.path} holds neither config.json nor a .gguf file")
        self.gguf_sha256 = gguf.sha256(self.gguf_file) if self.gguf_file else None
        self.dtype = options.get("dtype") or "auto"
        if self.dtype not in DTYPES:
            raise UsageError(f"hf: option dtype={self.dtype!r}: use one of {', '.join(DTYPES)}")
        self.device_option = options.get("device") or "auto"
        if not (self.device_option in ("auto", "cpu", "cuda") or self.device_option.startswith("cuda:")):
            raise UsageError(f"hf: option device={self.device_option!r}: use auto, cpu, cuda or cuda:N")
        self.batching_option = options.get("batching") or "static"
        if self.batching_option not in ("static", "continuous"):
            raise UsageError(f"hf: option batching={self.batching_option!r}: use static or continuous")
        self.chat_format = chat_format_option(options)
        self.system = system_option(options)
        self.context_length = number(options, "context_length", 4096, int, 16)
        self.truncate = flag(options, "truncate", True)
        self.max_batch = number(options, "max_batch", 32, int, 1)
        self.batch_wait = number(options, "batch_wait_ms", 5.0, float, 0) / 1000
        self.prefix_budget = int(number(options, "prefix_cache_gb", 1.0, float, 0) * 2**30)
        self.kv_cache_gb = number(options, "kv_cache_gb", None, float, 0.01)
        self.page_size = number(options, "page_size", None, int, 4)
        self.max_batch_tokens = number(options, "max_batch_tokens", None, int, 16)
        self.model = None
        self.tokenizer = None
        self.prompter: Prompter | None = None
        self.store: E.PrefixStore | None = None
        self.resolved_chat_format: str | None = None
        self.batching: str | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hf-model")
        self._load_lock = threading.Lock()
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self._managers: dict[tuple, Any] = {}
        self._manager_lock: asyncio.Lock | None = None
        self._ids = itertools.count()
        self.batch_sizes: list[int] = []  # static: rows of each generate() batch (tests and benchmarks read it)
        self._stops: dict[tuple[str, ...], Any] = {}
        self.row_steps = 0  # static: rows x decoding steps computed; completion tokens / row_steps = batch use
        self.in_flight = 0
        self.peak_in_flight = 0  # continuous: most requests in the engine at once

    # --- loading --------------------------------------------------------------------------------------------------
    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        with self._load_lock:
            if self.model is not None:
                return
            folder = self.path
            try:
                if self.gguf_file is not None:
                    folder = gguf.ensure_converted(self.gguf_file, self.gguf_sha256)
                device = self.device_option
                if device == "auto":
                    device = "cuda" if torch.cuda.is_available() else "cpu"
                batching = self.batching_option
                dtype = "auto" if self.dtype == "auto" else getattr(torch, self.dtype)
                tok = AutoTokenizer.from_pretrained(folder)
                extra = {"attn_implementation": E.register_attention()} if batching == "static" else {}
                model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, **extra)
                model.to(device).eval()
            except Exception as exc:  # a model that cannot load stops the run at start, in one line
                what = f"{self.gguf_file} (converted to {folder})" if self.gguf_file else str(folder)
                raise UsageError(f"hf: cannot load the model {what}: {type(exc).__name__}: {exc}".splitlines()[0]) \
                    from exc
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token
            names = [self.path.name, self.gguf_file and self.gguf_file.name, model.config.name_or_path]
            self.resolved_chat_format = resolve_chat_format(self.chat_format, names, tok.chat_template)
            self.prompter = Prompter(tok, self.resolved_chat_format, self.system, self.context_length, self.truncate)
            eos = model.generation_config.eos_token_id
            eos = set(eos if isinstance(eos, list) else [eos]) | {tok.eos_token_id}
            self.eos_ids = sorted(e for e in eos if e is not None)
            self.device = torch.device(device)
            self.batching = batching
            self.store = E.PrefixStore(model, self.prefix_budget)
            self.tokenizer, self.model = tok, model

    async def start(self) -> None:
        if self.model is None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._load)
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._manager_lock = asyncio.Lock()
            if self.batching == "static":
                self._worker = asyncio.create_task(self._batch_loop())

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except (asyncio.CancelledError, Exception):
                pass
            self._worker = None
        managers, self._managers = list(self._managers.values()), {}
        loop = asyncio.get_running_loop()
        for manager in managers:
            await loop.run_in_executor(None, lambda m=manager: m.stop(block=True, timeout=60))
        if self.store is not None:
            self.store.entries.clear()
        self._executor.shutdown(wait=False)

    # --- requests -------------------------------------------------------------------------------------------------
    def _row(self, messages: list[dict[str, str]], ids: list[int]) -> E.Row:
        shared = self.prompter.history_length(messages, ids) if self.prefix_budget else 0
        if self.prefix_budget and len(messages) == 1:  # one growing message: keep all of it for the next turn
            shared = self.prompter.content_length(messages, ids)
        return E.Row(ids, shared if shared >= MIN_SHARED else 0)

    async def complete(self, request: Request) -> Completion:
        await self.start()
        max_new = int(request.max_new_tokens or 128)
        ids, truncated = self.prompter.ids(request.messages, max_new)
        temperature = float(request.temperature or 0.0)
        top_p = float(request.top_p if request.top_p is not None else 1.0)
        stops = tuple(s for s in (request.stop or ()) if s)
        if self.batching == "continuous":
            tokens, text, finish = await self._continuous(ids, max_new, temperature, top_p, stops)
            return Completion(text=text, prompt_tokens=len(ids), completion_tokens=len(tokens), finish_reason=finish,
                              truncated_prompt=truncated)
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(self._row(request.messages, ids), max_new, temperature, top_p, stops,
                                       truncated, future))
        return await future

    async def choose(self, request: Request, options: Sequence[str]) -> OptionScores:
        await self.start()
        ids, _ = self.prompter.ids(request.messages, 1)
        row = self._row(request.messages, ids)
        opts = self.prompter.option_ids(options)
        scores = await asyncio.get_running_loop().run_in_executor(self._executor, self._score, row, opts)
        return OptionScores(scores, prompt_tokens=len(ids))

    # --- static batching ------------------------------------------------------------------------------------------
    async def _batch_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            batch = [first]
            deadline = loop.time() + self.batch_wait
            while len(batch) < self.max_batch:
                timeout = deadline - loop.time()
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout) if timeout > 0
                                 else self._queue.get_nowait())
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
            groups: dict[Any, list[_Pending]] = {}
            for item in batch:
                groups.setdefault((item.max_new_tokens, item.temperature, item.top_p, item.stop), []).append(item)
            for items in groups.values():
                self.batch_sizes.append(len(items))
                try:
                    results = await loop.run_in_executor(self._executor, self._generate_batch, items)
                except Exception as exc:  # report the failure to every request of the batch
                    for item in items:
                        if not item.future.done():
                            item.future.set_exception(exc)
                    continue
                for item, result in zip(items, results):
                    if not item.future.done():
                        item.future.set_result(result)

    def _generate_batch(self, items: list[_Pending]) -> list[Completion]:
        """One padded batch through ``generate()`` (model thread)."""
        import torch

        first = items[0]
        input_ids, mask, cache = E.batch_inputs(self.model, self.store, [it.row for it in items],
                                                self.tokenizer.pad_token_id, first.max_new_tokens)
        kwargs: dict[str, Any] = {"max_new_tokens": first.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id,
                                  "eos_token_id": self.eos_ids}
        if first.temperature > 0:
            kwargs.update(do_sample=True, temperature=first.temperature, top_p=first.top_p, top_k=None)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if first.stop:
            kwargs.update(stopping_criteria=self._stop_criteria(first.stop))
        with torch.inference_mode():
            out = self.model.generate(input_ids=input_ids, attention_mask=mask, past_key_values=cache, **kwargs)
        new = out[:, input_ids.shape[1]:]
        self.row_steps += new.numel()
        return [self._completion(it, tokens) for it, tokens in zip(items, new.tolist())]

    def _stop_criteria(self, stops: tuple[str, ...]):
        """transformers' stop-string criterion, built once per set of stop strings (building it scans the whole
        vocabulary: about a second per call on CPU); it keeps no state between calls."""
        found = self._stops.get(stops)
        if found is None:
            from transformers import StoppingCriteriaList, StopStringCriteria

            found = self._stops[stops] = StoppingCriteriaList([StopStringCriteria(self.tokenizer, list(stops))])
        return found

    def _completion(self, item: _Pending, tokens: list[int]) -> Completion:
        pad = self.tokenizer.pad_token_id
        ended = [i for i, t in enumerate(tokens) if t in self.eos_ids]
        finish = "length"
        if ended:
            tokens, finish = tokens[: ended[0]], "stop"
        elif pad not in self.eos_ids:
            while tokens and tokens[-1] == pad:
                tokens = tokens[:-1]
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        cuts = [i for i in (text.find(s) for s in item.stop) if i >= 0]
        if cuts:
            text, finish = text[: min(cuts)], "stop"
        elif item.stop and len(tokens) < item.max_new_tokens:
            finish = "stop"
        return Completion(text=text, prompt_tokens=len(item.row.ids), completion_tokens=len(tokens),
                          finish_reason=finish, truncated_prompt=item.truncated)

    # --- continuous batching --------------------------------------------------------------------------------------
    def _cb_config(self):
        from transformers import ContinuousBatchingConfig

        cpu = self.device.type == "cpu"
        page = self.page_size or 256
        kwargs: dict[str, Any] = {"page_size": page, "max_requests_per_batch": self.max_batch,
                                  "allow_block_sharing": True}
        batch_tokens = self.max_batch_tokens or (512 if cpu else None)
        if batch_tokens:
            kwargs["max_batch_tokens"] = batch_tokens
        gb = self.kv_cache_gb if self.kv_cache_gb is not None else (2.0 if cpu else None)
        if gb is not None:  # on CPU transformers would otherwise take 90 % of the machine's RAM
            cfg = self.model.config.get_text_config()
            heads = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
            head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
            per_token = 2 * cfg.num_hidden_layers * heads * head_dim * self.model.dtype.itemsize
            wanted = min(int(gb * 2**30 // per_token), self.max_batch * self.context_length)
            kwargs["num_blocks"] = max(-(-wanted // page), -(-2 * self.context_length // page))
        return ContinuousBatchingConfig(**kwargs)

    def _new_manager(self, temperature: float, top_p: float):
        from transformers import GenerationConfig

        sampling = dict(do_sample=True, temperature=temperature, top_p=top_p, top_k=0) if temperature > 0 else \
            dict(do_sample=False)
        config = GenerationConfig(max_new_tokens=256, eos_token_id=self.eos_ids,
                                  pad_token_id=self.tokenizer.pad_token_id, **sampling)
        manager = self.model.init_continuous_batching(generation_config=config,
                                                      continuous_batching_config=self._cb_config())
        manager.start()
        return manager

    async def _continuous(self, ids: list[int], max_new: int, temperature: float, top_p: float,
                          stops: tuple[str, ...]):
        key = (temperature, top_p) if temperature > 0 else ("greedy",)
        if key not in self._managers:
            async with self._manager_lock:
                if key not in self._managers:
                    self._managers[key] = await asyncio.get_running_loop().run_in_executor(
                        self._executor, self._new_manager, temperature, top_p)
        manager = self._managers[key]
        future = asyncio.get_running_loop().create_future()
        rid = f"hf-{next(self._ids)}"

        def on_output(out) -> None:  # runs on the event loop
            if future.done():
                return
            if out.error:
                future.set_exception(BackendError(f"hf: generation failed: {out.error}"))
                return
            tokens = list(out.generated_tokens)
            if stops:
                text, cut = self._cut(tokens, stops)
                if cut:
                    future.set_result((tokens, text, "stop"))
                    manager.cancel_request(rid)
                    _forget_handler(manager, rid)
                    return
            if out.is_finished():
                future.set_result((tokens, None, None))

        manager.register_result_handler(rid, on_output)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            manager.add_request(ids, request_id=rid, max_new_tokens=max_new, streaming=bool(stops))
            while True:
                try:
                    tokens, text, finish = await asyncio.wait_for(asyncio.shield(future), 5.0)
                    break
                except asyncio.TimeoutError:
                    if not manager.is_running():
                        error = manager.background_thread_status.fatal_error
                        raise BackendError(f"hf: the generation thread stopped ({error})") from None
        except asyncio.CancelledError:
            manager.cancel_request(rid)
            _forget_handler(manager, rid)
            raise
        finally:
            self.in_flight -= 1
        if text is None:
            finish = "length" if len(tokens) >= max_new else "stop"
            while tokens and tokens[-1] in self.eos_ids:
                tokens, finish = tokens[:-1], "stop"
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        return tokens, text, finish

    def _cut(self, tokens: list[int], stops: tuple[str, ...]) -> tuple[str, bool]:
        text = self.tokenizer.decode([t for t in tokens if t not in self.eos_ids], skip_special_tokens=True)
        cuts = [i for i in (text.find(s) for s in stops) if i >= 0]
        return (text[: min(cuts)], True) if cuts else (text, False)

    # --- option scoring (model thread) ----------------------------------------------------------------------------
    def _score(self, row: E.Row, options: list[list[int]]) -> list[float]:
        """Log-probability of each option after the prompt.

        The prompt's shared prefix comes from the prefix store; the rest of the prompt and the options' common leading
        tokens are read in one pass; each option's diverging token is read from the last position's distribution,
        and longer options continue from that cache. Only positions that score option tokens compute logits.
        """
        import copy

        import torch

        common = common_prefix(options)
        if all(len(o) == len(common) for o in options):  # identical options
            common = common[:-1]
        ids, shared = row.ids, row.shared
        with torch.inference_mode():
            cache = E.layers_to_cache(self.model, [self.store.get(ids[:shared])], shared) if shared else None
            seq = ids[shared:] + common
            out = E.forward(self.model, [seq], cache, [[1] * (shared + len(seq))], keep=len(common) + 1)
            logprobs = torch.log_softmax(out.logits[0].float(), dim=-1)  # rows predict common[0..], then the rest
            base = sum(float(logprobs[i, t]) for i, t in enumerate(common))
            last = logprobs[len(common)]
            after = out.past_key_values
            total = shared + len(seq)
            scores = []
            for option in options:
                rest = option[len(common):]
                score = base + float(last[rest[0]])
                if len(rest) > 1:
                    more = E.forward(self.model, [rest[:-1]], copy.deepcopy(after), [[1] * (total + len(rest) - 1)],
                                     keep=len(rest) - 1)
                    lp = torch.log_softmax(more.logits[0].float(), dim=-1)
                    score += sum(float(lp[i, t]) for i, t in enumerate(rest[1:]))
                scores.append(score)
        return scores

    def describe(self) -> dict[str, Any]:
        model = {"gguf_sha256": self.gguf_sha256} if self.gguf_sha256 else {"target": str(self.path)}
        return {"backend": "hf", **model, "chat_format": self.chat_format, "system": self.system,
                "context_length": self.context_length, "truncate": self.truncate, "dtype": self.dtype,
                "batching": self.batching_option}


def _forget_handler(manager, rid: str) -> None:
    """A cancelled request gets no final output, so its result handler would stay registered."""
    router = getattr(manager, "output_router", None)
    lock = getattr(router, "_lock", None)
    if router is not None and lock is not None:
        with lock:
            router.result_handlers.pop(rid, None)
