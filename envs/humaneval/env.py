"""HumanEval: one reply per problem, run with the problem's unit tests in a Docker sandbox; pass@1 (pass@k for n > 1)."""
from __future__ import annotations

import os
from typing import Any

from harness import StepResult, TextEnv
from harness import status as S
from harness.services import ensure
from harness.services.docker import require_image

from . import problems
from .sandbox import DEFAULT_IMAGE, Limits, Sandbox, _client

#: environment variable that names another sandbox image (default harness/humaneval-python)
IMAGE_VAR = "HARNESS_HUMANEVAL_IMAGE"

# HumanEval ships no chat instruction and AgentTuning has no HumanEval script: this one asks for the completed function.
INSTRUCTION = "Complete the following Python function. Reply with the whole function in a ```python code block.\n\n"


class HumanEvalEnv(TextEnv):
    max_rounds = 1

    def __init__(self, split: str, data_dir=None, samples: int = 1, timeout_s: float = 10.0,
                 memory: str = "512m", image: str | None = None, **kwargs: Any) -> None:
        self.samples = max(1, int(samples))  # n completions per problem (episodes index*n .. index*n+n-1)
        self._limits = Limits(timeout_s=float(timeout_s), memory=memory)
        self._image = image or os.environ.get(IMAGE_VAR) or DEFAULT_IMAGE
        self._sandbox: Sandbox | None = None
        super().__init__(split, data_dir, **kwargs)
        self._preflight()

    def _preflight(self) -> None:
        """The engine answers and the sandbox image exists (the engine would otherwise try to pull it, and every
        episode would end in an error): else one line naming the command that builds it."""
        host = ensure("docker")["host"]
        cli = _client(host)
        try:
            require_image(cli, self._image, "harness setup --tasks humaneval", host)
        finally:
            cli.close()

    def _load(self, split: str) -> list[dict]:
        rows = problems.load(self.data_dir)
        return [dict(row, sample=s) for row in rows for s in range(self.samples)]

    def _reset(self, record: dict) -> list[dict[str, str]]:
        return [{"role": "user", "content": INSTRUCTION + record["prompt"]}]

    def _step(self, action: str) -> StepResult:
        record = self.records[self.index]
        if self._sandbox is None:
            self._sandbox = Sandbox(self._image, self._limits)
        result = self._sandbox.run(problems.build_program(record, action))
        metrics = {"task_id": record["task_id"], "sample": record["sample"], "passed": result.passed,
                   "outcome": result.outcome, "exit_code": result.exit_code}
        if not result.passed:
            metrics["output"] = result.output[-1000:]
        self.timings["run_s"] = round(result.seconds, 3)
        return StepResult(done=True, reward=1.0 if result.passed else 0.0, status=S.COMPLETED, metrics=metrics)

    def oracle_actions(self, index: int) -> list[str]:
        return [self.records[index]["canonical_solution"]]

    def close(self) -> None:
        super().close()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
