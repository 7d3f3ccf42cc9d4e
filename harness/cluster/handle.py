"""RayEnvHandle: an env living in a Ray actor on some node of the cluster, behind the same interface as the thread
and worker-process handles (:mod:`harness.envhandle`).

Calls are actor method calls awaited on the driver's event loop. An exception raised by the env comes back as the
env's own error (a ``UsageError`` stays one, anything else becomes :class:`~harness.envhandle.EnvCallError`); an
actor that is gone (its node died, it was killed, it ran out of memory) marks the handle ``lost``: the runner records
that episode as an error and runs it again on another actor (see ``Runner._run_task``).
"""
from __future__ import annotations

from typing import Any, Callable

from ..envhandle import EnvCallError, _DriverHandle
from ..errors import UsageError


class EnvLost(EnvCallError):
    """The env's actor or its node is gone (not the env's fault): the episode is run again on another actor."""

    lost = True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def unwrap(exc: BaseException, where: str) -> BaseException:
    """The exception the driver should see for a failed actor call (``where`` names the node)."""
    import ray.exceptions as rex

    if isinstance(exc, rex.RayTaskError):
        cause = exc.cause
        if isinstance(cause, UsageError):
            return UsageError(str(cause))
        tb = [line for line in str(exc).strip().splitlines() if line.strip()]
        last = next((line.strip() for line in reversed(tb) if "File " in line), "")
        return EnvCallError(f"{type(cause).__name__}: {cause} [{last}]")
    return EnvLost(f"env actor lost{where}: {type(exc).__name__}: {_first_line(exc)}")


def is_lost(exc: BaseException) -> bool:
    """The actor (or its node) is gone, as opposed to the env raising."""
    import ray.exceptions as rex

    return isinstance(exc, rex.RayError) and not isinstance(exc, rex.RayTaskError)


class RayEnvHandle(_DriverHandle):
    def __init__(self, actor, info: dict[str, Any], release: Callable[[bool], None]) -> None:
        self.actor = actor
        self.node: str | None = info.get("node")
        self.host: str | None = info.get("host")
        self.broken = False
        self.lost = False
        self._release = release

    def _where(self) -> str:
        return f" on node {self.node} ({self.host})" if self.node else ""

    async def _call(self, method: str, *args: Any) -> Any:
        try:
            return await self.actor.handle.remote(method, args)
        except Exception as exc:
            if is_lost(exc):
                self.lost = True
                self.kill()
            raise unwrap(exc, self._where()) from None

    async def close(self) -> None:
        if self.broken:
            return
        try:
            await self.actor.close.remote()
        except Exception:
            pass
        self.kill()

    def kill(self) -> None:
        """Stop the actor's process at once (an env stuck in a call, a cancelled episode, the end of the run)."""
        if self.broken:
            return
        self.broken = True
        try:
            import ray

            ray.kill(self.actor, no_restart=True)
        except Exception:
            pass
        self._release(self.lost)
