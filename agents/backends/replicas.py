"""Engine replicas as Ray actors: ``vllm:PATH?replicas=N`` (any backend class can be replicated the same way).

Each replica is an async Ray actor that builds the wrapped backend (``VLLMBackend`` for ``vllm:``) inside itself and
serves ``complete``/``choose``/``probe`` on its own event loop, so that concurrent requests reach the engine together
and are batched there (vLLM's continuous batching). The driver spreads episodes over the replicas and keeps each
episode on one replica for its whole conversation, so the engine's prefix cache serves every later turn: a new
episode goes to the replica with the fewest requests in flight (then the fewest episodes). A replica that dies is
dropped; the requests it had, and later ones of its episodes, go to another replica (model calls hold no state, so
the episode goes on; with greedy decoding the answer is the same). When none is left, the call fails with
``BackendError`` (the episode is recorded as an error and retried by the same command).

GPUs (Ray's documented scheduling API): a replica with tensor parallelism 1 is an actor with ``num_gpus=1``; with
``tp=K > 1`` it is an actor without GPUs of its own, scheduled in a placement group of K bundles ``{"GPU": 1, "CPU":
1}`` with ``placement_group_capture_child_tasks=True``, so that vLLM's Ray executor starts its K workers in that
group (the layout vLLM's documentation gives for running it inside Ray actors). Replicas join the cluster of
``--ray``, or start a local Ray instance.

Options: ``replicas`` (number of engine replicas); every other option goes to the wrapped backend unchanged, and the
configuration hash is the wrapped backend's (``describe()``): N replicas answer as one engine does.

Never executed here: vLLM replicas on GPUs (no GPU and no vLLM build on the test machines). The tests run this layer
with replicas of a tiny random-weight transformers model (``HFBackend``) on a local Ray cluster.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
from collections import Counter
from typing import Any, Sequence

from harness import Backend, BackendError, Completion, EpisodeKey, OptionScores, Request, UsageError


def _ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise UsageError("replicas=N needs Ray: pip install -e '.[ray]'") from None
    return ray


class ReplicaActor:
    """One engine replica (wrapped by ``ray.remote`` on the driver; every method is a coroutine: an async actor)."""

    def __init__(self, backend_cls: type, target: str, options: dict[str, Any]) -> None:
        self.backend = backend_cls(target, **options)
        self.requests = 0

    async def start(self) -> dict[str, Any]:
        import ray

        await self.backend.start()
        return {"node": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}

    async def probe(self) -> None:
        await self.backend.probe()

    async def complete(self, request: Request) -> Completion:
        self.requests += 1
        return await self.backend.complete(request)

    async def choose(self, request: Request, options: Sequence[str]) -> tuple[list[float], int]:
        self.requests += 1
        scores = await self.backend.choose(request, options)
        return list(scores), int(getattr(scores, "prompt_tokens", 0) or 0)

    async def close(self) -> None:
        await self.backend.close()

    async def served(self) -> int:
        """Requests this replica answered (complete and choose)."""
        return self.requests


class ReplicatedBackend(Backend):
    def __init__(self, backend_cls: type, target: str = "", replicas: int | str = 2, gpus_per_replica: int = 0,
                 **options: Any) -> None:
        try:
            n = int(replicas)
        except ValueError:
            n = 0
        if n < 1:
            raise UsageError(f"replicas={replicas!r}: give a positive number of engine replicas")
        super().__init__(target, **options)
        self.backend_cls, self.n, self.gpus = backend_cls, n, int(gpus_per_replica)
        self.supports_choose = getattr(backend_cls, "supports_choose", False)
        self._inner_description = backend_cls(target, **options).describe()
        self.actors: list[Any] = []
        self.alive: list[bool] = []
        self.nodes: list[str] = []
        self.in_flight: list[int] = []
        self.assigned: dict[EpisodeKey | None, int] = {}  # episode -> replica (tests read it)
        self.episodes = Counter()  # replica -> episodes assigned
        self._groups: list[Any] = []
        self._own_ray = False

    def describe(self) -> dict[str, Any]:
        return dict(self._inner_description)

    # --- lifecycle ----------------------------------------------------------------------------------------------------
    def _actor_options(self) -> dict[str, Any]:
        if self.gpus <= 1:
            return {"num_gpus": self.gpus, "num_cpus": 0}
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        group = placement_group([{"GPU": 1, "CPU": 1}] * self.gpus)
        self._groups.append(group)
        return {"num_gpus": 0, "num_cpus": 0, "scheduling_strategy": PlacementGroupSchedulingStrategy(
            placement_group=group, placement_group_capture_child_tasks=True)}

    async def start(self) -> None:
        if self.actors:
            return
        ray = _ray()
        if not ray.is_initialized():
            ray.init(log_to_driver=False, include_dashboard=False)
            self._own_ray = True
        remote = ray.remote(ReplicaActor)
        self.actors = [remote.options(max_restarts=0, **self._actor_options())
                       .remote(self.backend_cls, self.target, dict(self.options)) for _ in range(self.n)]
        self.alive = [True] * self.n
        self.in_flight = [0] * self.n
        try:
            started = await asyncio.gather(*(a.start.remote() for a in self.actors))
        except Exception as exc:
            await self.close()
            raise BackendError(f"an engine replica failed to start: {_cause(exc)}") from None
        self.nodes = [s["node"] for s in started]

    async def probe(self) -> None:
        await self.start()
        await asyncio.gather(*(a.probe.remote() for a in self.actors))

    async def close(self) -> None:
        if not self.actors:
            return
        ray = _ray()
        try:
            await asyncio.wait_for(asyncio.gather(*(a.close.remote() for a, ok in zip(self.actors, self.alive) if ok),
                                                  return_exceptions=True), 30)
        except (asyncio.TimeoutError, Exception):
            pass
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        for group in self._groups:
            ray.util.remove_placement_group(group)
        self.actors, self._groups = [], []
        if self._own_ray:
            ray.shutdown()
            self._own_ray = False

    # --- routing ------------------------------------------------------------------------------------------------
    def _replica(self, episode: EpisodeKey | None) -> int:
        i = self.assigned.get(episode)
        if i is not None and self.alive[i]:
            return i
        live = [j for j in range(len(self.actors)) if self.alive[j]]
        if not live:
            raise BackendError(f"all {self.n} engine replicas are gone")
        i = min(live, key=lambda j: (self.in_flight[j], self.episodes[j], j))
        if episode is not None:
            self.assigned[episode] = i
            self.episodes[i] += 1
        return i

    async def _call(self, method: str, request: Request, *args: Any) -> Any:
        await self.start()
        from ray.exceptions import RayError, RayTaskError

        request = dataclasses.replace(request, oracle=None)  # the replica needs the text, not the driver's env
        while True:
            i = self._replica(request.episode)
            self.in_flight[i] += 1
            try:
                return await getattr(self.actors[i], method).remote(request, *args)
            except RayTaskError as exc:  # the engine raised (a context limit, a bad request): the episode's outcome
                raise exc.cause if isinstance(exc.cause, Exception) else BackendError(str(exc)) from None
            except RayError:  # the replica is gone: its episodes move to the others
                self.alive[i] = False
            finally:
                self.in_flight[i] -= 1

    async def complete(self, request: Request) -> Completion:
        return await self._call("complete", request)

    async def choose(self, request: Request, options: Sequence[str]) -> list[float]:
        scores, prompt_tokens = await self._call("choose", request, list(options))
        return OptionScores(scores, prompt_tokens=prompt_tokens)


def _cause(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]


def vllm_backend(target: str = "", **options: Any) -> Backend:
    """The ``vllm:`` scheme: one in-process engine, or ``?replicas=N`` engines as Ray actors (``tp`` GPUs each)."""
    from .vllm import VLLMBackend

    replicas = options.pop("replicas", None)
    if replicas is None:
        return VLLMBackend(target, **options)
    return ReplicatedBackend(VLLMBackend, target, replicas=replicas, gpus_per_replica=int(options.get("tp", 1)),
                             **options)
