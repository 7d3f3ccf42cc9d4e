"""DBBench (AgentBench.old's MySQL task): 300 std / 60 dev questions and modifications on one table each.

Registered as task ``db``. The env is ``envs.dbbench.env:DBBenchEnv``; it needs the ``mysql`` service
(an ephemeral MariaDB, or HARNESS_MYSQL_URL) and the Python package mysql-connector-python (extra ``db``).
"""
from harness import Generation, TaskSpec, register_task

from .scoring import aggregate


def register() -> TaskSpec:
    return register_task(TaskSpec(
        name="db",
        category="held_in",
        env="envs.dbbench.env:DBBenchEnv",
        splits={"std": 300, "dev": 60},
        default_split="std",
        metric="mean of SELECT, INSERT and UPDATE accuracy",
        description="AgentBench DBBench: operate a MySQL table with SQL to answer or modify (AgentBench.old protocol)",
        aggregate=aggregate,
        group_by="category",  # the score is the mean of the SELECT, INSERT and UPDATE accuracies
        generation=Generation(max_new_tokens=128),
        concurrency=16,
        services=("mysql",),
        resources={"mysql": 1},  # on a Ray cluster: nodes that advertise mysql (MariaDB installed)
        requires=("mysql.connector",),
        data=("agentbench/dbbench", "agentbench/prompts/dbbench.json"),
        endpoints=("HARNESS_MYSQL_URL",),  # a user's MySQL server instead of the ephemeral MariaDB
        max_turns=15,  # SQL statements; the reply after the 15th is read for the final answer
        setup="envs.dbbench.setup:install",
    ))
