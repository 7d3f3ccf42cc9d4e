"""Env handles: an env instance driven from the event loop, living in a thread pool or in a worker process.

Both run the same :class:`EnvDriver`, which owns the env and the state of its oracle. An env given up on (a call
that timed out, an episode cancelled) is released, never forgotten: a thread env is closed from another thread (its
container or database removed, which also ends the stuck call); a worker process is killed and reaped off the loop.
"""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import threading
import traceback
from typing import Any, Iterator

from .agent import EnvHandle
from .errors import UsageError
from .registry import load_object
from .services.process import die_with_parent
from .spec import TaskSpec
from .threads import ThreadBridge


class EnvCallError(Exception):
    """The env raised; the message carries the env's exception and the last traceback line."""


class EnvDriver:
    def __init__(self, env_ref: str, split: str, data_dir: str | None, env_kwargs: dict[str, Any]) -> None:
        cls = load_object(env_ref)
        self.env = cls(split=split, data_dir=data_dir, **env_kwargs)
        self._oracle: Iterator[str] | None = None
        self._oracle_started = False

    def handle(self, method: str, args: tuple) -> Any:
        env = self.env
        if method == "reset":
            self._oracle, self._oracle_started = None, False
            return env.reset(options={"index": int(args[0])})
        if method == "step":
            return env.step(args[0])
        if method == "len":
            return len(env)
        if method == "timings":
            return dict(getattr(env, "timings", None) or {})
        if method == "facts":
            facts = getattr(env, "episode_facts", None)
            return [dict(facts(int(i))) if facts else {} for i in args[0]]
        if method == "oracle_next":
            return self._oracle_next(int(args[0]), args[1])
        if method == "close":
            return env.close()
        return getattr(env, method)(*args)

    def _oracle_next(self, index: int, observation: str | None) -> str:
        if self._oracle is None:
            self._oracle = iter(self.env.oracle_actions(index))
            self._oracle_started = False
        try:
            if not self._oracle_started or not hasattr(self._oracle, "send"):
                self._oracle_started = True
                return str(next(self._oracle))
            return str(self._oracle.send(observation))
        except StopIteration:
            return ""


class _DriverHandle(EnvHandle):
    """The env contract over one call primitive, ``_call(method, *args)``."""

    broken = False

    async def _call(self, method: str, *args: Any) -> Any:
        raise NotImplementedError

    async def reset(self, index: int):
        return await self._call("reset", index)

    async def step(self, action: str):
        return await self._call("step", action)

    async def oracle_next(self, index: int, observation: str | None) -> str:
        return await self._call("oracle_next", index, observation)

    async def call(self, method: str, *args: Any) -> Any:
        return await self._call(method, *args)

    async def length(self) -> int:
        return await self._call("len")

    async def facts(self, indices: list[int]) -> list[dict[str, Any]]:
        """The env's ``episode_facts`` for each index (grouping facts from the task data)."""
        return await self._call("facts", list(indices))


class ThreadEnvHandle(_DriverHandle):
    def __init__(self, driver: EnvDriver, bridge: ThreadBridge) -> None:
        self.driver = driver
        self.bridge = bridge
        self.broken = False

    @classmethod
    async def create(cls, spec: TaskSpec, split: str, data_dir: str | None, bridge: ThreadBridge,
                     timeout: float | None = None) -> "ThreadEnvHandle":
        future = bridge.submit(EnvDriver, spec.env, split, data_dir, dict(spec.env_kwargs))
        try:
            async with asyncio.timeout(timeout):
                driver = await asyncio.shield(future)
        except TimeoutError:
            future.add_done_callback(_close_late_driver)  # the env may still come up: release it then
            raise EnvCallError(f"building the env took more than {timeout:.0f} s") from None
        return cls(driver, bridge)

    async def _call(self, method: str, *args: Any) -> Any:
        return await self.bridge.submit(self.driver.handle, method, args)

    async def close(self) -> None:
        try:
            await self._call("close")
        except Exception:
            pass

    def kill(self) -> None:
        """Give up on an env stuck in a call: threads cannot be stopped, so the env is closed from another thread
        (which releases its container or database, and usually ends the stuck call) and the instance dropped."""
        if self.broken:
            return
        self.broken = True
        threading.Thread(target=_close_quietly, args=(self.driver.env,), name="env-close", daemon=True).start()


def _close_quietly(env: Any) -> None:
    try:
        env.close()
    except Exception:
        pass


def _close_late_driver(future: asyncio.Future) -> None:
    if not future.cancelled() and future.exception() is None:
        threading.Thread(target=_close_quietly, args=(future.result().env,), daemon=True).start()


def _worker(conn, env_ref: str, split: str, data_dir: str | None, env_kwargs: dict[str, Any]) -> None:
    die_with_parent()  # a worker stuck in a long env call must not outlive a killed runner
    try:
        driver = EnvDriver(env_ref, split, data_dir, env_kwargs)
        conn.send(("ok", None))
    except BaseException as exc:  # report the failure to build the env, then exit
        conn.send(("err", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5), type(exc).__name__, str(exc)))
        return
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            break
        if msg is None:
            break
        method, args = msg
        try:
            conn.send(("ok", driver.handle(method, args)))
        except BaseException as exc:
            conn.send(("err", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5), type(exc).__name__,
                       str(exc)))
    try:
        driver.env.close()
    except Exception:
        pass


class ProcessEnvHandle(_DriverHandle):
    """One env in one worker process (for envs that are not thread-safe, e.g. TextWorld, the ScienceWorld JVM)."""

    def __init__(self, proc, conn, bridge: ThreadBridge) -> None:
        self.proc, self.conn, self.bridge = proc, conn, bridge
        self.broken = False

    @classmethod
    async def create(cls, spec: TaskSpec, split: str, data_dir: str | None, bridge: ThreadBridge,
                     timeout: float | None = None) -> "ProcessEnvHandle":
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, spec.env, split, data_dir, dict(spec.env_kwargs)), daemon=True)
        await bridge.submit(proc.start)
        child.close()
        handle = cls(proc, parent, bridge)
        try:
            async with asyncio.timeout(timeout):
                await handle._receive()
        except TimeoutError:
            handle.kill()
            raise EnvCallError(f"the env worker process did not start its env within {timeout:.0f} s") from None
        except BaseException:
            handle.kill()
            raise
        return handle

    def _roundtrip(self, msg: Any) -> Any:
        self.conn.send(msg)
        return self.conn.recv()

    async def _receive(self) -> Any:
        try:
            reply = await self.bridge.submit(self.conn.recv)
        except (EOFError, OSError):
            self.broken = True
            raise EnvCallError(f"env worker process died while starting (exit code {self.proc.exitcode})") from None
        return self._unpack(reply)

    def _unpack(self, reply: Any) -> Any:
        if reply[0] == "ok":
            return reply[1]
        if reply[3] == "UsageError":  # bad input found by the env in its worker: same one-line error as in-process
            raise UsageError(reply[4])
        raise EnvCallError(f"{reply[1]} [{reply[2].strip().splitlines()[-1] if reply[2] else ''}]")

    async def _call(self, method: str, *args: Any) -> Any:
        try:
            reply = await self.bridge.submit(self._roundtrip, (method, args))
        except (EOFError, BrokenPipeError, ConnectionResetError):
            self.broken = True
            raise EnvCallError(f"env worker process died (exit code {self.proc.exitcode})") from None
        return self._unpack(reply)

    async def close(self) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        await self.bridge.submit(self.proc.join, 30)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the worker; it is reaped in a thread, so the event loop never waits for it."""
        self.broken = True
        if self.proc.is_alive():
            self.proc.kill()
            threading.Thread(target=self.proc.join, args=(5,), name="env-reap", daemon=True).start()
        try:
            self.conn.close()
        except OSError:
            pass
