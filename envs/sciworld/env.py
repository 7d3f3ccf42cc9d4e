"""SciWorld env: AgentTuning's ScienceWorld protocol over the real simulator (one JVM per env instance).

Per reply: ``Think: ...`` is answered "OK." and costs no simulator step; anything else has ``Action:`` removed,
is mapped onto the simulator's valid actions (``actions.match_action``) and executed. The episode ends when the
simulator says so (task done or its 100-step limit), after 200 replies, after 10 failed actions in a row, or when
the last five actions show only two distinct (action, observation) pairs (a loop). A negative simulator score
(a failed task) keeps the last non-negative score, as upstream runs with ``no_stop``. Reward = score / 100.
"""
from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import Any, Iterator, Sequence

from harness import StepResult, TextEnv, status as S

from .actions import is_action_failed, match_action
from .prompts import load_texts

STEP_LIMIT = 100  # simulator steps (envStepLimit)
SIMPLIFICATION = "easy"
MAX_FAILED = 10
JVM_HEAP = os.environ.get("HARNESS_SCIWORLD_HEAP", "1g")
CONTEXT_TOKENS = 4096  # upstream trims the 1-shot example to fit this, keeping 60 tokens of room


def clean(text: str) -> str:
    return text.replace("\n", " ").replace("\t", " ")


def estimate_tokens(messages: Sequence[dict[str, str]]) -> int:
    """A tokenizer-free estimate of the prompt length (about 4 characters per token, plus words and marks)."""
    text = " ".join(m["content"] for m in messages)
    return max(len(text) // 4, len(re.findall(r"\w+|[^\w\s]", text)) * 3 // 4)


class SciWorldEnv(TextEnv):
    max_rounds = 2 * STEP_LIMIT

    def __init__(self, split: str = "test", data_dir=None, texts: str | None = None, trim_context: bool = True,
                 step_limit: int = STEP_LIMIT, loop_stop: bool = True, match_actions: bool = True,
                 fresh_jvm: bool = True, **kwargs: Any) -> None:
        super().__init__(split, data_dir, **kwargs)
        self.texts = load_texts(self.data_dir, texts)
        self.examples: dict[str, list[str]] = json.loads(
            (self.data_dir / "sciworld" / "prompt.json").read_text(encoding="utf-8"))
        self.trim_context = trim_context
        self.step_limit = int(step_limit)
        self.max_rounds = 2 * self.step_limit
        self.loop_stop = _flag(loop_stop)
        self.match_actions = _flag(match_actions)  # False: actions go to the simulator verbatim (diagnostics)
        # The simulator keeps random state across loads, so an episode's world depends on what the JVM ran before.
        # A fresh JVM per episode makes every episode reproducible whatever the scheduling (upstream ran each task
        # type's variations in order in one JVM); False reuses the JVM (faster, order-dependent).
        self.fresh_jvm = _flag(fresh_jvm)
        self._sim = None
        self._jvm_pids: set[int] = set()

    # --- data --------------------------------------------------------------------------------------------------------
    def _load(self, split: str) -> list[dict[str, Any]]:
        if split != "test":
            raise ValueError(f"sciworld has only the test split (AgentTuning's 270 variations), not {split!r}")
        return load_records(self.data_dir)

    def episode_facts(self, index: int) -> dict[str, Any]:
        """The task type: the score is the mean per task type, then over the types."""
        record = self.records[index]
        return {"task_name": record["task_name"], "task_num": record["task_num"], "variation": record["variation"]}

    @property
    def sim(self):
        """The simulator, started on first use. Its JVM dies with this process (py4j die_on_exit)."""
        if self._sim is None:
            from scienceworld import ScienceWorldEnv
            before = _java_children()
            saved = os.environ.get("JAVA_TOOL_OPTIONS")
            # the JVM's default heap (a quarter of the machine's memory) lets it grow to several GB per episode run
            os.environ["JAVA_TOOL_OPTIONS"] = f"{saved or ''} -Xmx{JVM_HEAP}".strip()
            try:
                self._sim = ScienceWorldEnv("", None, envStepLimit=self.step_limit)
            finally:
                if saved is None:
                    os.environ.pop("JAVA_TOOL_OPTIONS", None)
                else:
                    os.environ["JAVA_TOOL_OPTIONS"] = saved
            self._jvm_pids = _java_children() - before
        return self._sim

    # --- protocol ----------------------------------------------------------------------------------------------------
    def _reset(self, record: dict[str, Any]) -> list[dict[str, str]]:
        self.record = record
        if self.fresh_jvm:
            self._stop_jvm()
        self.sim.load(record["task_name"], record["variation"], SIMPLIFICATION, generateGoldPath=True)
        task_description = self.sim.taskdescription()[18:]  # upstream drops the first 18 characters
        obs, info = self.sim.reset()
        self.look = info["look"]
        self.recent_actions = ["look around"]
        self.score = self.last_score = 0.0
        self.failed = 0
        self.actions_taken: list[str] = []
        messages = [{"role": "user", "content": self.texts["instruction"]},
                    {"role": "assistant", "content": self.texts["ack"]}]
        for i, turn in enumerate(self.examples[str(record["task_num"])]):
            messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": turn})
        opening = self.texts["new_task_prefix"] + clean(obs) + "\n" + task_description
        messages.append({"role": "user", "content": opening.strip()})
        return messages

    def _metrics(self, stop: str) -> dict[str, Any]:
        return {"task_name": self.record["task_name"], "task_num": self.record["task_num"],
                "variation": self.record["variation"], "score": self.score, "stop_reason": stop,
                "sim_steps": len(self.actions_taken)}

    def _finish(self, obs: str, status: str, stop: str) -> StepResult:
        return StepResult(observation=obs, done=True, reward=max(0.0, self.score) / 100.0, status=status,
                          metrics=self._metrics(stop))

    def _step(self, action: str) -> StepResult:
        reply = action.strip()
        done = False
        if reply.startswith("Think:"):
            obs = self.texts["think_reply"]
            executed = reply
        else:
            wanted = reply.replace("Action:", "").strip()
            executed = (match_action(wanted, self.sim, self.look, self.recent_actions) if self.match_actions
                        else wanted)
            obs, _reward, done, info = self.sim.step(executed)
            self.actions_taken.append(executed)
            self.look = info.get("look", self.look)
            self.failed = self.failed + 1 if is_action_failed(obs) else 0
            self.score = float(info["score"])
            if self.score < 0:  # the simulator failed the task: keep the last score (upstream no_stop)
                self.score, done = self.last_score, True
            self.last_score = self.score
            if self.failed >= MAX_FAILED and not done:
                return self._finish(clean(obs), S.AGENT_INVALID_ACTION, "invalid_actions")
        obs = clean(obs)
        self.recent_actions.append(f"({executed}, {obs})")
        if done:
            limit = int(info.get("moves", 0)) > self.step_limit and self.score < 100
            return self._finish(obs, S.TASK_LIMIT_REACHED if limit else S.COMPLETED,
                                "step_limit" if limit else "done")
        if self.loop_stop and len(self.recent_actions) >= 5 and len(set(self.recent_actions[-5:])) == 2:
            return self._finish(obs, S.TASK_LIMIT_REACHED, "loop")
        result = StepResult(observation=obs)
        if self.trim_context:
            result.messages = self._trimmed(obs)
        return result

    def _trimmed(self, obs: str) -> list[dict[str, str]] | None:
        """Upstream's context rule: drop the oldest 1-shot turn pairs (then the whole shot) until the prompt fits."""
        messages = self.messages + [{"role": "user", "content": obs}]
        if estimate_tokens(messages) <= CONTEXT_TOKENS - 60:
            return None
        while estimate_tokens(messages) > CONTEXT_TOKENS - 60 and len(messages) > 6:
            del messages[4:6]
            if messages[4]["content"].startswith(self.texts["new_task_prefix"].strip()):
                del messages[2:4]
        return messages

    def _evaluate_on_limit(self) -> tuple[float, dict[str, Any]]:
        return max(0.0, self.score) / 100.0, self._metrics("max_replies")

    # --- gold ---------------------------------------------------------------------------------------------------------
    def oracle_actions(self, index: int) -> Iterator[str]:
        """The simulator's own gold action sequence for this variation, as ``Action:`` replies."""
        if self.index != index or self.done:
            raise RuntimeError("oracle_actions(index) needs the episode reset to that index first")
        for gold in self.sim.getGoldActionSequence():
            yield f"Action: {gold}"

    def _close_episode(self) -> None:
        pass

    def close(self) -> None:
        super().close()
        self._stop_jvm()

    def _stop_jvm(self) -> None:
        if self._sim is not None:
            try:
                self._sim._gateway.shutdown()
            except Exception:
                pass
            for pid in self._jvm_pids:  # the gateway's shutdown leaves the JVM running
                try:
                    os.kill(pid, signal.SIGTERM)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
            self._sim = None


def _flag(value: Any) -> bool:
    return str(value).lower() not in ("0", "false", "no", "off")


def load_records(data_dir: Path) -> list[dict[str, Any]]:
    """The 270 (task type, variation) test cases, in AgentTuning's order (task 0..29, its shuffled variations)."""
    spec = json.loads((Path(data_dir) / "sciworld" / "agenttuning_test_variations.json").read_text())
    return [{"task_num": t["task_num"], "task_name": t["task_name"], "variation": v}
            for t in spec["tasks"] for v in t["selected_variations"]]


def _java_children() -> set[int]:
    """Process ids of this process's java children (the simulator's JVM, started by py4j)."""
    me, found = str(os.getpid()), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] == me and "java" in stat.read_text():
                found.add(int(stat.parent.name))
        except (OSError, IndexError):
            continue
    return found
