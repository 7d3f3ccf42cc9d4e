"""OS interaction (AgentBench.old): the agent solves a task with bash in a fresh, confined Docker container.

Episode: take a warm container from the pool, open the persistent ``bash --login`` (before init, as upstream), run
the record's init scripts, send ``start`` into the shell; then up to 8 rounds of ``Act: bash`` / ``Act: finish`` / ``Act: answer(...)``. The episode
is judged as upstream judges it whenever it ends (an answer, finish, an unparseable reply, or the round limit):
``match`` compares the answer, ``check`` runs the scripts in the same container.
"""
from __future__ import annotations

import shlex
import time
from typing import Any, Iterator

from harness import StepResult, TextEnv, UsageError, status as S
from harness.services import ensure

from . import containers
from .data import Record, load_split
from .images import DEFAULT, RECIPES
from .judge import judge, run_script
from .protocol import Prompts, parse_action
from .shell import Shell


class OSEnv(TextEnv):
    def __init__(self, split: str = "std", data_dir=None, pool_size: int = 4, command_timeout: float = 30.0,
                 image: str | None = None, memory: str = "512m", cpus: float = 1.0, pids: int = 256,
                 **kwargs: Any) -> None:
        super().__init__(split, data_dir, **kwargs)
        self.prompts = Prompts(self.data_dir)
        self.max_rounds = self.prompts.round_limit
        self.command_timeout = float(command_timeout)
        self.image = image
        self.limits = containers.Limits(memory=memory, cpus=float(cpus), pids=int(pids))
        self.pool_size = int(pool_size)
        self.host = ensure("docker")["host"]
        self._check_image(self.image or DEFAULT.tag)
        self.container = None
        self.shell: Shell | None = None
        self.metrics: dict[str, Any] = {}
        self._pool: containers.Pool | None = None

    def _check_image(self, tag: str) -> None:
        import docker
        try:
            containers.client(self.host).images.get(tag)
        except docker.errors.ImageNotFound:
            raise UsageError(f"image {tag} is missing: run `harness setup --tasks os`") from None

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
        pool = containers.get_pool(self.host, self._image_for(record), self.pool_size, self.limits)
        self._pool = pool
        self.container = pool.take()
        self.metrics = {"sample_id": record.sample_id, "file": record.file, "index_in_file": record.index_in_file}
        # as upstream: the login shell opens with the container, before init (so it has not read an init's ~/.bashrc)
        self.shell = Shell(self.container.client.api, self.container.id, timeout=self.command_timeout)
        init_codes = [run_script(self.container, s, timeout=self.command_timeout).exit_code for s in record.init]
        self.timings["ready_s"] = round(time.monotonic() - t0, 4)  # container up, init done, shell open
        if record.start is not None:
            self.shell.run(record.start[1])
        if any(init_codes):
            self.metrics["init_exit_codes"] = init_codes
        self.timings["reset_s"] = round(time.monotonic() - t0, 4)
        return self.prompts.opening(record.description)

    def _finish(self, answer: str | None, status: str) -> StepResult:
        ok, info = judge(self.records[self.index], self.container, answer)
        return StepResult(done=True, reward=1.0 if ok else 0.0, status=status,
                          metrics={**self.metrics, **info, "answer": answer})

    def _step(self, action: str) -> StepResult:
        act = parse_action(action)
        if act.kind == "bash":
            output, timed_out = self.shell.run(act.content or "")
            if timed_out:
                self.metrics["timeouts"] = self.metrics.get("timeouts", 0) + 1
            # the prompt line that followed upstream's output is gone; so is the newline before it
            return StepResult(observation=self.prompts.observation(output.rstrip("\n")))
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

    # -- gold -----------------------------------------------------------------------------------------------------
    def oracle_actions(self, index: int) -> Iterator[str]:
        return oracle(self.records[index])


def _bash_reply(code: str) -> str:
    return f"Think: I run the reference solution.\n\nAct: bash\n\n```bash\n{code}\n```"


def _as_bash(script) -> str:
    """The example as the judge runs it (``bash -c`` / ``python3 -c``), typed into the agent's shell."""
    language, code = script
    return f"{'python3' if language == 'python' else 'bash'} -c {shlex.quote(code)}"


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
    observation = yield _bash_reply(_as_bash(record.example))
    output = _output_of(observation or "").strip()
    uses_answer = any(s is None for s in record.check or ())
    if uses_answer or (output and "\n" not in output and len(output) < 200):
        yield f"Think: The output is the answer.\n\nAct: answer({output})"
    else:
        yield "Think: Done.\n\nAct: finish"
