"""The runner: many episodes at once on one event loop, each finished episode appended to its JSONL at once.

Concurrency: a global limit and a per-task limit (the env's safe concurrency, or --task-concurrency). Env calls run
off the loop (threads, or worker processes for envs that are not thread-safe). Model calls go straight to the
backend, which batches across episodes. Resume: indices already recorded under the same configuration hash are
skipped, so a run killed at any point and started again records every episode exactly once.
"""
from __future__ import annotations

import asyncio
import json
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import services
from . import status as S
from .agent import EpisodeContext, EpisodeOutcome
from .backend import Backend, Completion, EpisodeKey, Request, make_backend
from .data import data_dir
from .envhandle import EnvCallError, ProcessEnvHandle, ThreadEnvHandle
from .errors import BackendError, ContextLimitError, UsageError
from .progress import Progress
from .records import RecordWriter, config_hash, latest_by_episode, make_record, read_records, slug
from .registry import AGENT_GROUP, availability, lookup
from .scoring import EPISODES, write_summary
from .spec import TaskSpec
from .threads import ThreadBridge
from .version import __version__


@dataclass
class RunConfig:
    model: str
    tasks: list[TaskSpec]
    split: str | None = None
    limit: int | None = None
    indices: list[int] | None = None
    concurrency: int = 32
    task_concurrency: int | None = None
    output: Path = Path("results")
    name: str | None = None
    judge: str | None = None
    turn_timeout: float = 900.0
    episode_timeout: float = 7200.0
    agent_options: dict[str, Any] = field(default_factory=dict)
    generation: dict[str, Any] = field(default_factory=dict)  # overrides of the tasks' Generation settings
    retry_errors: bool = False
    progress: bool = True
    #: tasks named on the command line; a task picked only through a group (held_in, all, ...) that cannot start
    #: (missing data or endpoint, no judge) is skipped with a notice instead of stopping the run. None: all named.
    named: set[str] | None = None


@dataclass
class TaskPlan:
    spec: TaskSpec
    split: str
    run_dir: Path
    config: dict[str, Any]
    hash: str
    todo: list[int] = field(default_factory=list)
    total: int = 0
    done_before: int = 0


def validate(cfg: RunConfig) -> None:
    """Everything that can be checked before anything is written or started (bad input -> UsageError)."""
    validate_limits(cfg)
    for spec in cfg.tasks:
        validate_task(cfg, spec)


def validate_limits(cfg: RunConfig) -> None:
    if cfg.concurrency < 1 or (cfg.task_concurrency is not None and cfg.task_concurrency < 1):
        raise UsageError("--concurrency and --task-concurrency must be at least 1")
    if cfg.limit is not None and cfg.limit < 0:
        raise UsageError("--limit must be a non-negative number of episodes")


def validate_task(cfg: RunConfig, spec: TaskSpec) -> None:
    split = cfg.split or spec.default_split
    if split not in spec.splits:
        raise UsageError(f"task {spec.name!r} has no split {split!r}: choose from {', '.join(spec.splits)}")
    avail = availability(spec)
    if not avail.ok:
        raise UsageError(f"task {spec.name!r} is unavailable ({avail.reason}): run `make venv` or "
                         f"`pip install -e '.[all]'`")
    for rel in spec.data:
        if not (data_dir() / rel).exists():
            from .datapull import external_hint

            raise UsageError(f"task {spec.name!r} needs data {data_dir() / rel}: " + (
                external_hint(rel) or "set HARNESS_DATA to the data folder or run `harness data pull`"))
    if spec.needs_judge and not cfg.judge:
        raise UsageError(f"task {spec.name!r} is judged by a model: pass --judge MODEL (e.g. --judge openai:gpt-4)")


def _generation(spec: TaskSpec, overrides: dict[str, Any]) -> dict[str, Any]:
    gen = asdict(spec.generation)
    gen.update({k: v for k, v in overrides.items() if v is not None})
    gen["stop"] = list(gen.get("stop") or ())
    return gen


class Runner:
    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.backend: Backend | None = None
        self.judge: Backend | None = None
        self.bridge: ThreadBridge | None = None
        self.progress = Progress(enabled=cfg.progress)
        self.model_dir = Path(cfg.output) / slug(cfg.name or cfg.model)

    # --- planning ---------------------------------------------------------------------------------------------------
    def _plan(self, spec: TaskSpec, total: int, backend: Backend) -> TaskPlan:
        split = self.cfg.split or spec.default_split
        config = {"model": backend.describe(), "task": spec.name, "split": split,
                  "generation": _generation(spec, self.cfg.generation), "agent": spec.agent,
                  "agent_options": self.cfg.agent_options, "env_kwargs": dict(spec.env_kwargs),
                  "judge": self.judge.describe() if self.judge else None}
        h = config_hash(config)
        plan = TaskPlan(spec=spec, split=split, run_dir=self.model_dir / spec.name, config=config, hash=h)
        wanted = list(range(total))
        if self.cfg.indices is not None:
            bad = [i for i in self.cfg.indices if not 0 <= i < total]
            if bad:
                raise UsageError(f"--indices {bad[0]} is out of range for {spec.name}/{split} (0..{total - 1})")
            wanted = list(dict.fromkeys(self.cfg.indices))
        if self.cfg.limit is not None:
            wanted = wanted[: self.cfg.limit]
        recorded = latest_by_episode(read_records(plan.run_dir / EPISODES), h)
        done = {i for (s, i), r in recorded.items()
                if s == split and not (self.cfg.retry_errors and r.get("status") == S.TASK_ERROR)}
        plan.todo = [i for i in wanted if i not in done]
        plan.total = len(wanted)
        plan.done_before = plan.total - len(plan.todo)
        return plan

    # --- run ------------------------------------------------------------------------------------------------------
    def _skip_or_raise(self, spec: TaskSpec, exc: UsageError) -> None:
        if self.cfg.named is None or spec.name in self.cfg.named:
            raise exc
        self.progress.console.print(f"note: skipping {spec.name}: {exc}", highlight=False, soft_wrap=True,
                                    markup=False)
        self.skipped.append(spec.name)

    def _keep(self, tasks: list[TaskSpec]) -> list[TaskSpec]:
        if not tasks:
            raise UsageError(f"none of the selected tasks can run here ({', '.join(self.skipped)}): see the notes above")
        return tasks

    async def run(self) -> dict[str, dict[str, Any]]:
        cfg = self.cfg
        self.skipped: list[str] = []
        validate_limits(cfg)
        for spec in list(cfg.tasks):
            try:
                validate_task(cfg, spec)
            except UsageError as exc:
                self._skip_or_raise(spec, exc)
        cfg.tasks = self._keep([s for s in cfg.tasks if s.name not in self.skipped])
        self.backend = make_backend(cfg.model)
        if cfg.judge and any(s.needs_judge for s in cfg.tasks):
            self.judge = make_backend(cfg.judge)
        self.bridge = ThreadBridge(max_workers=min(512, max(8, cfg.concurrency + 8)))
        needed = list(dict.fromkeys(s for spec in cfg.tasks for s in spec.services))
        for name in needed:
            self.progress.log(f"starting service {name} ...")
            await self.bridge.submit(services.ensure, name)
        # preflight: every task's first env is built before anything is written, so that bad input found by an env
        # (missing data, an unreachable endpoint) stops the run cleanly
        firsts: dict[str, Any] = {}
        plans: dict[str, TaskPlan] = {}
        try:
            for spec in list(cfg.tasks):
                try:
                    firsts[spec.name] = await self._new_handle(spec, cfg.split or spec.default_split)
                except UsageError as exc:  # found by the env itself (e.g. an endpoint it needs)
                    self._skip_or_raise(spec, exc)
                    continue
                plans[spec.name] = self._plan(spec, await firsts[spec.name].length(), self.backend)
            cfg.tasks = self._keep([s for s in cfg.tasks if s.name in firsts])
            await self.backend.start()
            if self.judge:
                await self.judge.start()
        except BaseException:
            for handle in firsts.values():
                await handle.close()
            raise
        self.model_dir.mkdir(parents=True, exist_ok=True)
        (self.model_dir / "run.json").write_text(json.dumps(
            {"model": cfg.model, "name": cfg.name, "judge": cfg.judge, "harness_version": __version__}, indent=2))
        global_sem = asyncio.Semaphore(cfg.concurrency)
        summaries: dict[str, dict[str, Any]] = {}
        try:
            with self.progress:
                await asyncio.gather(*(self._run_task(plans[spec.name], firsts[spec.name], global_sem, summaries)
                                       for spec in cfg.tasks))
        finally:
            await self.backend.close()
            if self.judge:
                await self.judge.close()
            self.bridge.shutdown()
        self.progress.print_summary(summaries)
        return summaries

    def _strategy(self, spec: TaskSpec):
        cache = self.__dict__.setdefault("_strategies", {})
        if spec.agent not in cache:
            cache[spec.agent] = lookup(AGENT_GROUP, spec.agent)
        return cache[spec.agent]

    async def _new_handle(self, spec: TaskSpec, split: str):
        cls = ThreadEnvHandle if spec.thread_safe else ProcessEnvHandle
        return await cls.create(spec, split, str(data_dir()), self.bridge)

    async def _run_task(self, plan: TaskPlan, first, global_sem: asyncio.Semaphore, summaries: dict) -> None:
        spec, split = plan.spec, plan.split
        limit = min(spec.concurrency, self.cfg.task_concurrency or spec.concurrency)
        pool: asyncio.Queue = asyncio.Queue()
        pool.put_nowait(first)
        created = 1
        task_sem = asyncio.Semaphore(limit)
        self.progress.add_task(spec.name, plan.total, plan.done_before)
        writer = RecordWriter(plan.run_dir / EPISODES)

        async def episode(index: int) -> None:
            nonlocal created
            async with task_sem, global_sem:
                if pool.empty() and created < limit:
                    created += 1
                    try:
                        handle = await self._new_handle(spec, split)
                    except Exception:
                        created -= 1
                        raise
                else:
                    handle = await pool.get()
                record = await self._episode(plan, handle, index)
                writer.write(record)
                self.progress.update(spec.name, record)
                if handle.broken:
                    created -= 1
                    handle.kill()
                else:
                    pool.put_nowait(handle)

        try:
            results = await asyncio.gather(*(episode(i) for i in plan.todo), return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                    self.progress.log(f"{spec.name}: {type(r).__name__}: {r}")
        finally:
            writer.close()
            while not pool.empty():
                await pool.get_nowait().close()
        summary = write_summary(plan.run_dir, spec)
        if summary is not None:
            summaries[spec.name] = summary

    async def _episode(self, plan: TaskPlan, handle, index: int) -> dict[str, Any]:
        spec, cfg = plan.spec, self.cfg
        key = EpisodeKey(spec.name, plan.split, index)
        usage = {"prompt_tokens": 0, "completion_tokens": 0, "model_calls": 0}
        timings = {"model": 0.0, "env": 0.0}
        gen = plan.config["generation"]
        backend = self.backend
        last_messages: list[dict[str, str]] = []

        async def complete(request: Request) -> Completion:
            request.episode = request.episode or key
            for k in ("max_new_tokens", "temperature", "top_p", "stop"):
                if getattr(request, k) is None:
                    setattr(request, k, gen[k])
            if backend.needs_oracle:
                observation = request.messages[-1]["content"] if request.messages else None
                request.oracle = lambda: handle.oracle_next(index, observation)
            t = time.perf_counter()
            try:
                async with asyncio.timeout(cfg.turn_timeout):
                    completion = await backend.complete(request)
            except TimeoutError:
                raise BackendError(f"model turn timed out after {cfg.turn_timeout:.0f} s") from None
            finally:
                timings["model"] += time.perf_counter() - t
            usage["prompt_tokens"] += completion.prompt_tokens
            usage["completion_tokens"] += completion.completion_tokens
            usage["model_calls"] += 1
            return completion

        env = _TimedEnv(handle, timings, cfg.turn_timeout, last_messages)
        judge = _JudgeProxy(self.judge, key, usage, timings, cfg.turn_timeout) if self.judge else None
        ctx = EpisodeContext(spec=spec, key=key, env=env, backend=backend, judge=judge,
                             options=dict(cfg.agent_options), complete=complete)
        strategy = self._strategy(spec)(**cfg.agent_options)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(cfg.episode_timeout):
                outcome: EpisodeOutcome = await strategy.run(ctx)
        except TimeoutError:
            outcome = _failed(S.TASK_ERROR, f"episode timed out after {cfg.episode_timeout:.0f} s", last_messages)
            handle.kill()
        except ContextLimitError as exc:
            outcome = _failed(S.AGENT_CONTEXT_LIMIT, str(exc) or "context limit", last_messages)
        except (BackendError, EnvCallError) as exc:
            outcome = _failed(S.TASK_ERROR, f"{type(exc).__name__}: {exc}", last_messages)
            if isinstance(exc, EnvCallError) or "timed out" in str(exc):
                handle.kill()
        except Exception as exc:  # a bug in a strategy or env is recorded, never fatal to the run
            tb = traceback.format_exc(limit=3).strip().splitlines()
            outcome = _failed(S.TASK_ERROR, f"{type(exc).__name__}: {exc} [{tb[-2].strip() if len(tb) > 1 else ''}]",
                              last_messages)
        timings["total"] = time.perf_counter() - started
        timings = {k: round(v, 4) for k, v in timings.items()}
        return make_record(task=spec.name, split=plan.split, index=index, status=outcome.status,
                           reward=outcome.reward, metrics=outcome.metrics, turns=outcome.turns,
                           messages=outcome.messages, usage=usage, timings=timings, error=outcome.error,
                           config_hash=plan.hash)


def _failed(status: str, error: str, messages: list[dict[str, str]]) -> EpisodeOutcome:
    turns = sum(1 for m in messages if m.get("role") == "assistant")
    return EpisodeOutcome(status=status, reward=0.0, messages=list(messages), turns=turns, error=error)


class _JudgeProxy:
    """The judge backend as a strategy sees it: the same interface, with the turn time limit and its own usage."""

    def __init__(self, backend: Backend, key: EpisodeKey, usage: dict, timings: dict, timeout: float) -> None:
        self._backend, self._key, self._usage, self._timings, self._timeout = backend, key, usage, timings, timeout

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    async def complete(self, request: Request) -> Completion:
        request.episode = request.episode or self._key
        t = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                completion = await self._backend.complete(request)
        except TimeoutError:
            raise BackendError(f"judge call timed out after {self._timeout:.0f} s") from None
        finally:
            self._timings["judge"] = self._timings.get("judge", 0.0) + time.perf_counter() - t
        for k in ("prompt_tokens", "completion_tokens"):
            self._usage[f"judge_{k}"] = self._usage.get(f"judge_{k}", 0) + getattr(completion, k)
        self._usage["judge_calls"] = self._usage.get("judge_calls", 0) + 1
        return completion


class _TimedEnv:
    """Wraps an env handle: per-call time limit, time accounting, and the latest conversation for error records."""

    def __init__(self, handle, timings: dict[str, float], timeout: float, last_messages: list) -> None:
        self.handle, self.timings, self.timeout, self.last = handle, timings, timeout, last_messages

    async def _timed(self, coro):
        t = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                return await coro
        except TimeoutError:
            self.handle.kill()
            raise EnvCallError(f"env call timed out after {self.timeout:.0f} s") from None
        finally:
            self.timings["env"] += time.perf_counter() - t

    async def reset(self, index: int):
        obs, info = await self._timed(self.handle.reset(index))
        self.last[:] = info.get("messages", [])
        return obs, info

    async def step(self, action: str):
        result = await self._timed(self.handle.step(action))
        info = result[4]
        self.last.append({"role": "assistant", "content": action})
        if "messages" in info:
            self.last[:] = info["messages"]
        elif not (result[2] or result[3]):
            self.last.append({"role": "user", "content": result[0]})
        return result

    async def oracle_next(self, index: int, observation: str | None) -> str:
        return await self._timed(self.handle.oracle_next(index, observation))

    async def call(self, method: str, *args: Any) -> Any:
        return await self._timed(self.handle.call(method, *args))


def run(cfg: RunConfig) -> dict[str, dict[str, Any]]:
    return asyncio.run(Runner(cfg).run())
