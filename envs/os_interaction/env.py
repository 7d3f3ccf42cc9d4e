"""OS interaction (AgentBench.old): the agent solves a task with bash in a fresh, confined Docker container.

Episode: take a warm container from the pool, open the persistent ``bash --login`` (before init, as upstream), run
the record's init scripts, send ``start`` into the shell; then up to 8 rounds of ``Act: bash`` / ``Act: finish`` / ``Act: answer(...)``. The episode
is judged as upstream judges it whenever it ends (an answer, finish, an unparseable reply, or the round limit):
``match`` compares the answer, ``check`` runs the scripts in the same container.
"""
from __future__ import annotations

import os
import re
import shlex
import time
from typing import Any, Iterator

from harness import StepResult, TextEnv, status as S
from harness.services import ensure
from harness.services.docker import require_image

from . import containers
from .data import Record, load_split
from .images import DEFAULT, RECIPES
from .judge import SCRIPT_TIMEOUT, judge, run_script
from .protocol import Prompts, parse_action
from .shell import TIMEOUT_NOTICE, Shell  # noqa: F401 - the type of self.shell

#: environment variable that names another image for every record (default: harness/os-default)
IMAGE_VAR = "HARNESS_OS_IMAGE"


class OSEnv(TextEnv):
    def __init__(self, split: str = "std", data_dir=None, pool_size: int = 4, command_timeout: float = 30.0,
                 image: str | None = None, memory: str = "512m", cpus: float = 1.0, pids: int = 256,
                 script_timeout: float = SCRIPT_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(split, data_dir, **kwargs)
        self.prompts = Prompts(self.data_dir)
        self.max_rounds = self.prompts.round_limit
        self.command_timeout = float(command_timeout)
        self.script_timeout = float(script_timeout)
        self.image = image or os.environ.get(IMAGE_VAR) or None
        self.limits = containers.Limits(memory=memory, cpus=float(cpus), pids=int(pids))
        self.pool_size = int(pool_size)
        self.host = ensure("docker")["host"]
        # preflight: the engine answers and the default image exists (the engine would otherwise try to pull it)
        cli = containers.client(self.host)
        try:
            require_image(cli, self.image or DEFAULT.tag, "harness setup --tasks os", self.host)
        finally:
            cli.close()
        self.container = None
        self.shell: Shell | None = None
        self.metrics: dict[str, Any] = {}
        self._pools: dict[str, containers.Pool] = {}  # by image, each held until close()
        self._pool: containers.Pool | None = None

    def _load(self, split: str) -> list[Record]:
        return load_split(self.data_dir / "agentbench" / "os_interaction", split)

    # -- episode --------------------------------------------------------------------------------------------------
    def _image_for(self, record: Record) -> str:
        if self.image:
            return self.image
        if record.image:  # upstream's local-os/<name>, or an image the user built
            return RECIPES[record.image].tag if record.image in RECIPES else record.image
        return DEFAULT.tag

    def _reset(self, record: Record) -> list[dict[str, str]]:
        t0 = time.monotonic()
        image = self._image_for(record)
        if image not in self._pools:
            self._pools[image] = containers.get_pool(self.host, image, self.pool_size, self.limits)
        pool = self._pool = self._pools[image]
        # as upstream: the login shell opens with the container, before init (so it has not read an init's ~/.bashrc);
        # a warm pair from the pool has both ready
        self.container, self.shell = pool.take()
        self.shell.timeout = self.command_timeout
        self.metrics = {"sample_id": record.sample_id, "file": record.file, "index_in_file": record.index_in_file}
        init_codes = []
        for script in record.init:
            result = run_script(self.container, script, timeout=self.script_timeout)
            if not result.finished:  # before the agent acted: the machine's failure, not the agent's
                raise RuntimeError(f"init script of {record.sample_id} did not run: {result.output}")
            init_codes.append(result.exit_code)
        self.timings["ready_s"] = round(time.monotonic() - t0, 4)  # container up, init done, shell open
        if record.start is not None:
            self.shell.run(record.start[1])
        if any(init_codes):
            self.metrics["init_exit_codes"] = init_codes
        self.timings["reset_s"] = round(time.monotonic() - t0, 4)
        return self.prompts.opening(record.description)

    def _finish(self, answer: str | None, status: str) -> StepResult:
        ok, info = judge(self.records[self.index], self.container, answer, timeout=self.script_timeout)
        return StepResult(done=True, reward=1.0 if ok else 0.0, status=status,
                          metrics={**self.metrics, **info, "answer": answer})

    def _step(self, action: str) -> StepResult:
        act = parse_action(action)
        if act.kind == "bash":
            output, timed_out = self.shell.run(act.content or "")
            tail = ""
            if timed_out:
                self.metrics["timeouts"] = self.metrics.get("timeouts", 0) + 1
                tail = TIMEOUT_NOTICE.format(timeout=self.shell.timeout)
                output = output.removesuffix(tail)
            # the prompt line that followed upstream's output is gone; so is the newline before it
            return StepResult(observation=self.prompts.observation(output.rstrip("\n"), tail))
        if act.kind == "answer":
            return self._finish(act.content, S.COMPLETED)
        if act.kind == "finish":
            return self._finish(None, S.COMPLETED)
        # upstream ends the episode on an unparseable reply and still judges it (with no answer)
        return self._finish(None, S.AGENT_INVALID_ACTION)

    def _evaluate_on_limit(self) -> tuple[float, dict[str, Any]]:
        result = self._finish(None, S.TASK_LIMIT_REACHED)
        return result.reward, result.metrics

    def _close_episode(self) -> None:
        if self.shell is not None:
            self.shell.close()
            self.shell = None
        if self.container is not None:
            self._pool.release(self.container)
            self.container = None

    def close(self) -> None:
        super().close()
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:  # the last env of a pool closes it: no warm container outlives its envs
            containers.release_pool(pool)

    # -- gold -----------------------------------------------------------------------------------------------------
    def oracle_actions(self, index: int) -> Iterator[str]:
        return oracle(self.records[index])


def _bash_reply(code: str) -> str:
    return f"Think: I run the reference solution.\n\nAct: bash\n\n```bash\n{code}\n```"


def _as_bash(script) -> str:
    """The example as the judge runs it (``bash -c`` / ``python3 -c`` with no terminal on stdin), typed into the
    agent's shell. Without the terminal, tools print what they print for the judge: GNU find warns about misplaced
    options only when stdin is a terminal (std-007-bootstrap-00022)."""
    language, code = script
    return f"{'python3' if language == 'python' else 'bash'} -c {shlex.quote(code)} </dev/null"


_TIMED_OUT = re.compile(re.escape(TIMEOUT_NOTICE.strip()).replace(r"\{timeout:g\}", r"[0-9.e+]+") + "$")
_ORACLE_OUT = "/tmp/.oracle-output"  # a name no example's file pattern matches (*.txt, *.log, ...)


def _output_of(observation: str) -> str:
    for prefix in ("The output of the OS:\n\n",):
        if observation.startswith(prefix):
            return observation[len(prefix):]
    return ""


def oracle(record: Record) -> Iterator[str]:
    """The gold replies: the ``match`` answer; or the example run in the shell and its output answered."""
    if record.match is not None and "answer" in record.match:
        yield f"Think: I know it.\n\nAct: answer({record.match['answer']})"
        return
    if record.example is None:
        yield "Think: There is no reference solution.\n\nAct: finish"
        return
    command = _as_bash(record.example)
    observation = yield _bash_reply(command)
    output = _output_of(observation or "").strip()
    if _TIMED_OUT.search(output):
        # a loaded machine ran it past the per-command limit: run it again in the background and wait for it over
        # the following rounds (the round limit leaves room for five waits)
        # (in a subshell, so that the shell has no job to report; the output file appears when the run is complete;
        # stdout only: what a slow walk of the file system prints on stderr is about /proc entries that vanished
        # meanwhile; the wait uses no processes of its own, which the walk would meet)
        yield _bash_reply(f"( ( {command} >{_ORACLE_OUT}.part 2>/dev/null; mv {_ORACLE_OUT}.part {_ORACLE_OUT} ) & )")
        for _ in range(5):
            observation = yield _bash_reply(f"while [ ! -e {_ORACLE_OUT} ]; do read -t 0.5; done; cat {_ORACLE_OUT}")
            output = _output_of(observation or "").strip()
            if not _TIMED_OUT.search(output):
                break
    uses_answer = any(s is None for s in record.check or ())
    if uses_answer or (output and "\n" not in output and len(output) < 200):
        yield f"Think: The output is the answer.\n\nAct: answer({output})"
    else:
        yield "Think: Done.\n\nAct: finish"
