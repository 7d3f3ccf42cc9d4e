"""The runner: many episodes at once on one event loop, each finished episode appended to its JSONL at once.

Preflight, before any record is written: the model and judge specs are parsed, every service a task needs starts
and answers, each task's first env is built (an env stops a run it cannot serve: missing data, image or endpoint),
the backend starts and answers a probe request. Any failure there is bad input or a broken installation: one line,
exit 2, nothing written.

Errors are not outcomes: an episode ends either with an agent outcome (scored) or with an error (backend, env,
service or harness failure: recorded with its message, never scored). Resume skips only outcomes, so the same
command run again retries errored episodes. ``max_errors`` stops a run whose errors pile up (a dead model server).

Concurrency: a global limit and a per-task limit (the env's safe concurrency, or --task-concurrency). Env calls run
off the loop (threads, or worker processes for envs that are not thread-safe, or Ray actors spread over a cluster's
nodes with ``--ray``: see :mod:`harness.cluster`). Model calls go straight to the backend, which batches across
episodes.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
import traceback
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import services
from . import status as S
from .agent import EpisodeContext, EpisodeOutcome
from .backend import Backend, Completion, EpisodeKey, Request, make_backend
from .data import data_dir
from .envhandle import EnvCallError, ProcessEnvHandle, ThreadEnvHandle
from .errors import BackendError, ContextLimitError, UsageError
from .identity import config_hash, data_fingerprint, task_config
from .progress import Progress
from .records import RecordWriter, latest_by_episode, make_record, read_records, remember_config, slug
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
    env_start_timeout: float = 900.0  # building one env (a worker process, a game engine, a simulator)
    agent_options: dict[str, Any] = field(default_factory=dict)
    generation: dict[str, Any] = field(default_factory=dict)  # overrides of the tasks' Generation settings
    epochs: int = 1  # runs of each episode (with temperature > 0: mean, pass@k, pass^k)
    max_errors: int = 10  # stop the run once this many episodes errored (0: never stop early)
    progress: bool = True
    #: tasks named on the command line; a task picked only through a group (held_in, all, ...) that cannot start
    #: (missing data or endpoint, no judge, a service that fails) is skipped with a notice instead of stopping the
    #: run. None: all named.
    named: set[str] | None = None
    #: None: envs run on this machine; "local": in actors of a local Ray instance; else a Ray address ("auto",
    #: "ray://host:10001", "host:6379"): envs run in actors spread over that cluster's nodes (harness.cluster)
    ray: str | None = None
    #: on a cluster, an episode whose env actor or node is lost is recorded as an error and run again on another
    #: actor up to this many times in the same run
    lost_env_retries: int = 2


@dataclass
class TaskPlan:
    spec: TaskSpec
    split: str
    run_dir: Path
    config: dict[str, Any]
    hash: str
    todo: list[tuple[int, int]] = field(default_factory=list)  # (index, epoch)
    total: int = 0
    done_before: int = 0
    split_size: int = 0
    facts: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class RunResult:
    """What a run did: summaries per task, the errors of this run, and whether it stopped early."""

    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)  # first line of each error -> episodes
    aborted: bool = False
    skipped: list[str] = field(default_factory=list)

    @property
    def n_errors(self) -> int:
        return sum(self.errors.values())

    def most_frequent_error(self) -> tuple[str, int] | None:
        return self.errors.most_common(1)[0] if self.errors else None


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
    if cfg.epochs < 1:
        raise UsageError("--epochs must be at least 1")
    if cfg.max_errors < 0:
        raise UsageError("--max-errors must be 0 (never stop early) or a positive number of episodes")


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


def _error_text(exc: BaseException) -> str:
    """The error's first line, then the innermost frames of its traceback (short)."""
    frames = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3)
    return f"{type(exc).__name__}: {exc}\n" + "".join(frames[1:-1]).rstrip()


def configuration(spec: TaskSpec, split: str, cfg: RunConfig, backend: Backend, judge: Backend | None,
                  strategy: type) -> dict[str, Any]:
    """What the configuration hash of ``spec``'s episodes covers (see :mod:`harness.identity`)."""
    names = getattr(strategy, "option_names", None)
    unhashed = set(getattr(strategy, "unhashed_options", ()))
    options = {k: v for k, v in cfg.agent_options.items() if (names is None or k in names) and k not in unhashed}
    reads_judge = spec.needs_judge or getattr(strategy, "uses_judge", False)
    return task_config(model=backend.describe(), generation=_generation(spec, cfg.generation),
                       overrides={k: v for k, v in cfg.generation.items() if v is not None}, task=spec.name,
                       split=split, env=spec.env, env_version=spec.version, env_kwargs=spec.env_kwargs,
                       data=data_fingerprint(data_dir(), tuple(spec.data)),
                       endpoints={v: os.environ.get(v) for v in spec.endpoints}, agent=spec.agent,
                       agent_options=options, judge=judge.describe() if (judge is not None and reads_judge) else None)


class Runner:
    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.backend: Backend | None = None
        self.judge: Backend | None = None
        self.bridge: ThreadBridge | None = None
        self.progress = Progress(enabled=cfg.progress)
        self.model_dir = Path(cfg.output) / slug(cfg.name or cfg.model)
        self.result = RunResult()
        self._episodes: set[asyncio.Task] = set()
        self.cluster = None  # harness.cluster.RaySession with --ray

    # --- preflight ----------------------------------------------------------------------------------------------------
    def _skip_or_raise(self, spec: TaskSpec, exc: UsageError) -> None:
        if self.cfg.named is None or spec.name in self.cfg.named:
            raise exc
        self.progress.console.print(f"note: skipping {spec.name}: {exc}", highlight=False, soft_wrap=True,
                                    markup=False)
        self.result.skipped.append(spec.name)

    def _keep(self, tasks: list[TaskSpec]) -> list[TaskSpec]:
        if not tasks:
            raise UsageError(f"none of the selected tasks can run here ({', '.join(self.result.skipped)}): "
                             f"see the notes above")
        return tasks

    def _strategy(self, spec: TaskSpec):
        cache = self.__dict__.setdefault("_strategies", {})
        if spec.agent not in cache:
            try:
                cache[spec.agent] = lookup(AGENT_GROUP, spec.agent)
            except KeyError:
                raise UsageError(f"task {spec.name!r} needs agent strategy {spec.agent!r}, which is not installed: "
                                 f"reinstall with `pip install -e '.[all]'`") from None
        return cache[spec.agent]

    def _check_agent_options(self) -> None:
        if not self.cfg.agent_options:
            return
        readers = [self._strategy(s) for s in self.cfg.tasks]
        if any(getattr(r, "option_names", None) is None for r in readers):
            return
        known = {o for r in readers for o in r.option_names}
        unknown = sorted(set(self.cfg.agent_options) - known)
        if unknown:
            raise UsageError(f"--agent-option {unknown[0]} is read by none of the selected tasks' agents "
                             f"(they read: {', '.join(sorted(known)) or 'no options'})")

    async def _start_services(self) -> None:
        if self.cluster is not None:  # each node starts what its envs need, when the first one lands there
            for spec in list(self.cfg.tasks):
                try:
                    self.cluster.check(spec)
                except UsageError as exc:
                    self._skip_or_raise(spec, exc)
            self.cfg.tasks = self._keep([s for s in self.cfg.tasks if s.name not in self.result.skipped])
            return
        needed: dict[str, list[TaskSpec]] = {}
        for spec in self.cfg.tasks:
            for name in spec.services:
                needed.setdefault(name, []).append(spec)
        for name, specs in needed.items():
            self.progress.log(f"starting service {name} ...")
            try:
                await self.bridge.submit(services.ensure, name)
            except Exception as exc:
                msg = str(exc) if isinstance(exc, UsageError) else f"{type(exc).__name__}: {exc}"
                error = UsageError(f"service {name} (needed by {', '.join(s.name for s in specs)}) failed to start: "
                                   f"{msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__}"
                                   + ("" if isinstance(exc, UsageError) else "; run `harness setup --tasks "
                                      f"{','.join(s.name for s in specs)}` and check the service"))
                for spec in specs:
                    self._skip_or_raise(spec, error)
        self.cfg.tasks = self._keep([s for s in self.cfg.tasks if s.name not in self.result.skipped])

    async def _start_model(self, backend: Backend, role: str, spec_text: str) -> None:
        try:
            await backend.start()
            async with asyncio.timeout(max(30.0, min(self.cfg.turn_timeout, 300.0))):
                await backend.probe()
        except ContextLimitError:  # the model answered (that its context is too small for the probe): it is up
            pass
        except UsageError:
            raise
        except (Exception, TimeoutError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise UsageError(f"the {role} {spec_text} did not answer a probe request ({type(exc).__name__}: {first}): "
                             f"check that the model loads or the server runs at that address") from None

    # --- planning ---------------------------------------------------------------------------------------------------
    async def _plan(self, spec: TaskSpec, first, backend: Backend) -> TaskPlan:
        split = self.cfg.split or spec.default_split
        config = await self.bridge.submit(configuration, spec, split, self.cfg, backend, self.judge,
                                          self._strategy(spec))
        h = config_hash(config)
        total = await first.length()
        plan = TaskPlan(spec=spec, split=split, run_dir=self.model_dir / spec.name, config=config, hash=h,
                        split_size=total)
        wanted = list(range(total))
        if self.cfg.indices is not None:
            bad = [i for i in self.cfg.indices if not 0 <= i < total]
            if bad:
                raise UsageError(f"--indices {bad[0]} is out of range for {spec.name}/{split} (0..{total - 1})")
            wanted = list(dict.fromkeys(self.cfg.indices))
        if self.cfg.limit is not None:
            wanted = wanted[: self.cfg.limit]
        recorded = latest_by_episode(read_records(plan.run_dir / EPISODES), h)
        done = {(i, e) for (s, i, e), r in recorded.items() if s == split and r.get("status") != S.TASK_ERROR}
        plan.todo = [(i, e) for i in wanted for e in range(self.cfg.epochs) if (i, e) not in done]
        plan.total = len(wanted) * self.cfg.epochs
        plan.done_before = plan.total - len(plan.todo)
        indices = sorted({i for i, _ in plan.todo})
        facts = await first.facts(indices) if indices else []
        plan.facts = dict(zip(indices, facts))
        return plan

    async def _new_handle(self, spec: TaskSpec, split: str):
        if self.cluster is not None:
            return await self.cluster.new_handle(spec, split, str(data_dir()), timeout=self.cfg.env_start_timeout)
        cls = ThreadEnvHandle if spec.thread_safe else ProcessEnvHandle
        return await cls.create(spec, split, str(data_dir()), self.bridge, timeout=self.cfg.env_start_timeout)

    async def _first_env(self, spec: TaskSpec):
        try:
            return await self._new_handle(spec, self.cfg.split or spec.default_split)
        except UsageError:
            raise
        except (EnvCallError, TimeoutError, Exception) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise UsageError(f"task {spec.name!r}: the environment failed to start ({type(exc).__name__}: "
                             f"{first}); run `harness setup --tasks {spec.name}` and check its README") from None

    # --- run ------------------------------------------------------------------------------------------------------
    async def run(self) -> RunResult:
        cfg = self.cfg
        validate_limits(cfg)
        for spec in list(cfg.tasks):
            try:
                validate_task(cfg, spec)
            except UsageError as exc:
                self._skip_or_raise(spec, exc)
        cfg.tasks = self._keep([s for s in cfg.tasks if s.name not in self.result.skipped])
        # the model side is parsed (and checked where it can be, e.g. a path that must exist) before any service
        self.backend = make_backend(cfg.model)
        if cfg.judge and any(s.needs_judge or getattr(self._strategy(s), "uses_judge", False) for s in cfg.tasks):
            self.judge = make_backend(cfg.judge)
        self._check_agent_options()
        if cfg.epochs > 1 and not cfg.generation.get("temperature"):
            self.progress.log("note: --epochs without --temperature repeats greedy decoding; pass --temperature to "
                              "sample different replies")
        self.bridge = ThreadBridge(max_workers=min(512, max(8, cfg.concurrency + 8)))
        firsts: dict[str, Any] = {}
        plans: dict[str, TaskPlan] = {}
        try:
            if cfg.ray is not None:
                from .cluster import connect

                self.progress.log(f"joining Ray cluster {cfg.ray} ...")
                self.cluster = await self.bridge.submit(connect, cfg.ray, cfg.tasks)
            await self._start_services()
            for spec in list(cfg.tasks):
                try:
                    firsts[spec.name] = await self._first_env(spec)
                except UsageError as exc:  # found by the env itself (e.g. an endpoint or image it needs)
                    self._skip_or_raise(spec, exc)
                    continue
                plans[spec.name] = await self._plan(spec, firsts[spec.name], self.backend)
            cfg.tasks = self._keep([s for s in cfg.tasks if s.name in firsts])
            await self._start_model(self.backend, "model", cfg.model)
            if self.judge:
                await self._start_model(self.judge, "judge", cfg.judge or "")
        except BaseException:
            for handle in firsts.values():
                await handle.close()
            await self._close_models()
            self._close_cluster()
            self.bridge.shutdown()
            raise
        self.model_dir.mkdir(parents=True, exist_ok=True)
        (self.model_dir / "run.json").write_text(json.dumps(
            {"model": cfg.model, "name": cfg.name, "judge": cfg.judge, "harness_version": __version__}, indent=2))
        for plan in plans.values():
            remember_config(plan.run_dir, plan.hash, plan.config, plan.split_size)
        global_sem = asyncio.Semaphore(cfg.concurrency)
        try:
            with self.progress:
                await asyncio.gather(*(self._run_task(plans[spec.name], firsts[spec.name], global_sem)
                                       for spec in cfg.tasks))
        finally:
            await self._close_models()
            self._close_cluster()
            self.bridge.shutdown()
        self.progress.print_summary(self.result.summaries)
        return self.result

    async def _close_models(self) -> None:
        for backend in (self.backend, self.judge):
            if backend is not None:
                try:
                    await backend.close()
                except Exception:
                    pass

    def _close_cluster(self) -> None:
        if self.cluster is not None:
            self.cluster.close()

    def _count_error(self, record: dict[str, Any]) -> None:
        self.result.errors[(record.get("error") or "?").splitlines()[0][:300]] += 1
        if self.cfg.max_errors and self.result.n_errors >= self.cfg.max_errors and not self.result.aborted:
            self.result.aborted = True
            for task in list(self._episodes):
                task.cancel()

    async def _run_task(self, plan: TaskPlan, first, global_sem: asyncio.Semaphore) -> None:
        spec, split = plan.spec, plan.split
        limit = min(spec.concurrency, self.cfg.task_concurrency or spec.concurrency)
        if self.cluster is not None and self.cluster.limit(spec) is not None:  # the task's share of the cluster
            limit = max(1, min(limit, self.cluster.limit(spec)))
        pool: asyncio.Queue = asyncio.Queue()
        pool.put_nowait(first)
        created = 1
        task_sem = asyncio.Semaphore(limit)
        self.progress.add_task(spec.name, plan.total, plan.done_before)
        writer = RecordWriter(plan.run_dir / EPISODES)

        async def acquire():
            nonlocal created
            while True:
                room = self.cluster is None or created == 0 or self.cluster.has_room(spec)
                if pool.empty() and created < limit and room:
                    created += 1
                    try:
                        return await self._new_handle(spec, split)
                    except BaseException:
                        created -= 1
                        raise
                handle = await pool.get()
                if handle is not None:  # None: a cluster env was given up on; look again
                    return handle

        def finish(record: dict[str, Any], lost: bool, attempt: int) -> bool:
            """Write the record; False when the episode runs again (its env actor or node was lost)."""
            writer.write(record)
            if record["status"] == S.TASK_ERROR and lost and attempt < self.cfg.lost_env_retries:
                self.progress.log(f"{spec.name} {record['index']}: {(record['error'] or '').splitlines()[0][:200]}; "
                                  f"running the episode again on another env actor")
                return False
            self.progress.update(spec.name, record)
            if record["status"] == S.TASK_ERROR:
                self._count_error(record)
            return True

        async def episode(index: int, epoch: int) -> None:
            nonlocal created
            async with task_sem, global_sem:
                for attempt in itertools.count():
                    try:
                        handle = await acquire()
                    except BaseException as exc:
                        if isinstance(exc, asyncio.CancelledError):
                            raise
                        if finish(self._error_record(plan, index, epoch, exc), getattr(exc, "lost", False), attempt):
                            return
                        continue
                    try:
                        record = await self._episode(plan, handle, index, epoch)
                    except asyncio.CancelledError:  # --max-errors or Ctrl-C: the episode is not recorded
                        handle.kill()
                        raise
                    if handle.broken:
                        created -= 1
                        handle.kill()
                        if self.cluster is not None:
                            pool.put_nowait(None)  # wakes an episode waiting for an env: it may start one now
                    else:
                        pool.put_nowait(handle)
                    if finish(record, getattr(handle, "lost", False), attempt):
                        return

        tasks = [asyncio.ensure_future(episode(i, e)) for i, e in plan.todo]
        self._episodes.update(tasks)
        try:
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                    self.progress.log(f"{spec.name}: {type(r).__name__}: {r}")
        finally:
            self._episodes.difference_update(tasks)
            writer.close()
            while not pool.empty():
                handle = pool.get_nowait()
                if handle is not None:
                    await handle.close()
        summary = write_summary(plan.run_dir, plan.hash, spec)
        if summary is not None:
            self.result.summaries[spec.name] = summary

    def _error_record(self, plan: TaskPlan, index: int, epoch: int, exc: BaseException) -> dict[str, Any]:
        return make_record(task=plan.spec.name, split=plan.split, index=index, epoch=epoch, status=S.TASK_ERROR,
                           reward=0.0, facts=plan.facts.get(index, {}), metrics={}, turns=0, messages=[],
                           usage={}, timings={}, error=_error_text(exc), config_hash=plan.hash,
                           node=getattr(exc, "node", None))

    async def _episode(self, plan: TaskPlan, handle, index: int, epoch: int = 0) -> dict[str, Any]:
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

        async def choose(request: Request, options: Sequence[str]) -> list[float]:
            request.episode = request.episode or key
            t = time.perf_counter()
            try:
                async with asyncio.timeout(cfg.turn_timeout):
                    scores = await backend.choose(request, options)
            except TimeoutError:
                raise BackendError(f"option scoring timed out after {cfg.turn_timeout:.0f} s") from None
            finally:
                timings["model"] += time.perf_counter() - t
            usage["prompt_tokens"] += int(getattr(scores, "prompt_tokens", 0) or 0)
            usage["model_calls"] += 1
            return scores

        env = _TimedEnv(handle, timings, cfg.turn_timeout, last_messages)
        judge = _JudgeProxy(self.judge, key, usage, timings, cfg.turn_timeout) if self.judge else None
        ctx = EpisodeContext(spec=spec, key=key, env=env, backend=backend, judge=judge,
                             options=dict(cfg.agent_options), complete=complete, choose=choose, epoch=epoch)
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
            outcome = _failed(S.TASK_ERROR, _error_text(exc), last_messages)
            if isinstance(exc, EnvCallError) or "timed out" in str(exc):
                handle.kill()
        except Exception as exc:  # a bug in a strategy or env is recorded, never fatal to the run
            outcome = _failed(S.TASK_ERROR, _error_text(exc), last_messages)
        if not handle.broken:  # the env's own measurements (container ready, database setup, ...)
            try:
                timings.update({f"env_{k}": float(v) for k, v in (await handle.call("timings")).items()})
            except Exception:
                pass
        if outcome.status == S.TASK_ERROR and not outcome.error:
            outcome.error = str((outcome.metrics or {}).get("error") or "the env reported task_error")
        if outcome.status == S.TASK_ERROR:
            outcome.reward = 0.0
        timings["total"] = time.perf_counter() - started
        timings = {k: round(v, 4) for k, v in timings.items()}
        return make_record(task=spec.name, split=plan.split, index=index, epoch=epoch, status=outcome.status,
                           reward=outcome.reward, facts=plan.facts.get(index, {}), metrics=outcome.metrics,
                           turns=outcome.turns, messages=outcome.messages, usage=usage, timings=timings,
                           error=outcome.error, config_hash=plan.hash, node=getattr(handle, "node", None))


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
    """Run and return the task summaries (the programmatic entry point; see :func:`run_result` for errors)."""
    return run_result(cfg).summaries


def run_result(cfg: RunConfig) -> RunResult:
    return asyncio.run(Runner(cfg).run())
