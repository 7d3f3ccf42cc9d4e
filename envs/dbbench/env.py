"""DBBench (AgentBench.old): answer questions about, or modify, one MySQL table with at most 15 SQL statements.

Conversation: the instruction, "Ok.", then the question with the table description. Each reply whose first
``Action: ...`` line says ``Operation`` has its first ```` ```sql ```` block run (newlines folded to spaces); the
observation is the bare result, cut at 800 characters plus "[TRUNCATED]". Any other reply, or the reply after the
15th statement, ends the episode and its ``Final Answer:`` line is the answer. INSERT/UPDATE episodes are judged by
the table's MD5 whatever the answer says.
"""
from __future__ import annotations

import json
import re
import threading
import time
from typing import Any, Iterator

import mysql.connector

from harness import StepResult, TextEnv, load_prompts, status
from harness.services import ensure

from . import data as D
from .database import EpisodeDatabase, Limits, drop_stale
from .scoring import MODIFY_TYPES, category, modify_correct, select_correct

MAX_STATEMENTS = 15  # upstream's max_round (configs/tasks/dbbench/std.yaml)
TRUNCATE_AT = 800
_ACTION = re.compile(r"Action: (.*?)\n")
_SQL_BLOCK = re.compile(r"```sql\n([\s\S]*?)\n```")
_FINAL = re.compile(r"\nFinal Answer:(.*)")

_stale_checked = False
_stale_lock = threading.Lock()


def truncate(text: str) -> str:
    return text[:TRUNCATE_AT] + "[TRUNCATED]" if len(text) > TRUNCATE_AT else text


class DBBenchEnv(TextEnv):
    """Keyword options: ``statement_seconds`` (time limit per statement), ``watchdog_grace`` (seconds after it
    before the connection is killed), ``max_rows`` (rows fetched per statement), ``mysql`` (connection info;
    default: the run's shared ``mysql`` service)."""

    max_rounds = None  # the env ends every episode itself, at the latest on the reply after the 15th statement

    def __init__(self, split: str = "std", data_dir=None, **kwargs: Any) -> None:
        super().__init__(split, data_dir, **kwargs)
        prompts = load_prompts("dbbench", root=self.data_dir)
        self._opening = [{"role": "assistant" if m["role"] == "agent" else "user", "content": m["content"]}
                         for m in prompts["conversation"]]
        self._problem = prompts["templates"]["problem"]
        self.limits = Limits(statement_seconds=float(kwargs.get("statement_seconds", Limits.statement_seconds)),
                             watchdog_grace=float(kwargs.get("watchdog_grace", Limits.watchdog_grace)),
                             max_rows=int(kwargs.get("max_rows", Limits.max_rows)))
        self._db: EpisodeDatabase | None = None
        self.record: dict[str, Any] | None = None
        self.executed = 0
        self.setup_error: str | None = None
        self.setup_seconds = 0.0
        # preflight: the server answers before any episode (HARNESS_MYSQL_URL at a closed port stops here, one line)
        self._info = self.options.get("mysql") or ensure("mysql")

    def _load(self, split: str):
        return D.load_split(self.data_dir, split)

    def episode_facts(self, index: int) -> dict[str, Any]:
        """The question type from the data (``type``: counting, INSERT, ...) and the family the score averages over
        (``category``: SELECT, INSERT or UPDATE)."""
        typ = self.records[index]["type"][0]
        return {"type": typ, "category": category(typ)}

    # --- episode -------------------------------------------------------------------------------------------------
    def _database(self) -> EpisodeDatabase:
        global _stale_checked
        if self._db is None:
            with _stale_lock:
                if not _stale_checked:
                    _stale_checked = True
                    drop_stale(self._info)
            self._db = EpisodeDatabase(self._info, self.limits)
        return self._db

    def _reset(self, record: dict[str, Any]) -> list[dict[str, str]]:
        self.record, self.executed = record, 0
        start = time.perf_counter()
        self.setup_error = self._database().create(record)
        self.setup_seconds = time.perf_counter() - start
        self.timings["db_setup_s"] = round(self.setup_seconds, 4)
        problem = self._problem.format(description=record["description"], add_description=record["add_description"])
        return [dict(m) for m in self._opening] + [{"role": "user", "content": problem}]

    def _step(self, action: str) -> StepResult:
        act = _ACTION.search(action)
        operating = bool(act) and act.group(1) == "Operation"
        if operating and self.executed < MAX_STATEMENTS:
            block = _SQL_BLOCK.search(action)
            if block is None:  # upstream: the episode ends with an empty answer
                return self._finish("", status.AGENT_VALIDATION_FAILED)
            sql = block.group(1).strip().replace("\n", " ")
            self.executed += 1
            return StepResult(observation=truncate(self._db.execute(sql)))
        final = _FINAL.search(action)
        if operating:  # the reply after the 15th statement
            st = status.TASK_LIMIT_REACHED
        else:
            st = status.COMPLETED if final else status.AGENT_VALIDATION_FAILED
        return self._finish(final.group(1) if final else "", st)

    def _finish(self, answer: str, st: str) -> StepResult:
        record = self.record
        typ = record["type"][0]
        if typ in MODIFY_TYPES:
            answer = self._db.table_hash(record)
            correct = modify_correct(answer, record["answer_md5"])
        else:
            correct = select_correct(answer, record["label"])
        metrics = {"type": typ, "category": category(typ), "answer": answer, "rounds": self.rounds,
                   "statements": self.executed}
        if self.setup_error:
            metrics["setup_error"] = self.setup_error
        return StepResult(done=True, reward=1.0 if correct else 0.0, status=st, metrics=metrics)

    def _close_episode(self) -> None:
        if self._db is not None:
            try:
                self._db.drop()
            except mysql.connector.Error:
                # the server went away after the verdict (which needed it no more): the outcome stands; the owner
                # record stays for the next start to clean up
                pass

    def close(self) -> None:
        super().close()
        if self._db is not None:
            try:
                self._db.close()
            except mysql.connector.Error:
                pass
            self._db = None

    # --- gold ------------------------------------------------------------------------------------------------------
    def oracle_actions(self, index: int) -> list[str] | Iterator[str]:
        record = self.records[index]
        if record["type"][0] in MODIFY_TYPES:
            sql = record["label"][0].replace("\n", " ")
            return [f"Action: Operation\n```sql\n{sql}\n```", 'Action: Answer\nFinal Answer: [""]']
        return ["Action: Answer\nFinal Answer: " + json.dumps(record["label"], ensure_ascii=False)]
