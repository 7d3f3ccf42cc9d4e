"""HumanEval (164 problems): pass@1 with the problem's tests run in a Docker sandbox (see env.py, sandbox.py)."""
from harness import Generation, TaskSpec, register_task

from .passk import aggregate


def register() -> TaskSpec:
    return register_task(TaskSpec(
        name="humaneval", category="general", env="envs.humaneval.env:HumanEvalEnv",
        splits={"test": 164}, default_split="test", metric="pass@1", unit="%", aggregate=aggregate,
        description="HumanEval: complete a Python function; it passes when the problem's tests pass in a sandbox",
        generation=Generation(max_new_tokens=512), concurrency=4, services=("docker",), requires=("docker",),
        endpoints=("HARNESS_HUMANEVAL_IMAGE",),
        resources={"docker": 1},  # on a Ray cluster: nodes that advertise docker (one sandbox per env)
        data=("general/humaneval/HumanEval.jsonl.gz",), setup="envs.humaneval.setup:install", max_turns=1,
    ))
