"""HotpotQA with AgentTuning's ReAct agent (eval_heldout/hotpotQA, itself BOLAA's React_HotPotQA_run_Agent).

One completion prompt (instruction, 2 examples, the question, the scratchpad) is sent as a single user message;
every step asks twice: ``Thought n:`` then ``Action n:`` (the model's reply is cut at the first newline, as the
upstream stop sequence does). Actions: ``Search[entity]``, ``Lookup[keyword]``, ``Finish[answer]``. The episode halts
after 10 steps or when the prompt passes 1700 tokens; the reward is the token F1 of the Finish answer.
Deviation: the closed corpus of ``corpus.py`` replaces live Wikipedia (see the README of this folder).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from harness import StepResult, TextEnv, UsageError, status as S

from .corpus import ClosedWiki, Explorer
from .prompts import load_prompt, token_counter
from .scoring import LEVELS, exact_match, f1_score

MAX_STEPS = 10
MAX_CONTEXT_TOKENS = 1700
_ACTION = re.compile(r"^(\w+)\[(.+)\]$", re.DOTALL)
_ACTION_PREFIX = re.compile(r"^(\w+)\[(.+)\]", re.DOTALL)
_WIKIS: dict[str, ClosedWiki] = {}


def clean(text: str) -> str:
    """The upstream stop at the first newline, then BOLAA's format_step."""
    return text.split("\n", 1)[0].strip()


def parse_action(text: str) -> tuple[str, str]:
    match = _ACTION.match(text) or _ACTION_PREFIX.match(text.strip(" ").strip("."))
    return (match.group(1), match.group(2)) if match else (text.strip(" ").strip("."), "")


def load_questions(data_dir: Path, levels=LEVELS) -> list[dict[str, Any]]:
    out = []
    for level in levels:
        path = data_dir / "hotpotqa" / f"agenttuning_{level}.json"
        if not path.exists():
            raise UsageError(f"missing task data {path}: set HARNESS_DATA to the data folder or run `harness data pull`")
        for row in json.loads(path.read_text(encoding="utf-8")):
            out.append({**row, "level": row.get("level") or level})
    return out


def closed_wiki(data_dir: Path) -> ClosedWiki:
    """The corpus of all 300 questions' paragraphs (the same for every split), built once per process."""
    key = str(data_dir.resolve())
    if key not in _WIKIS:
        _WIKIS[key] = ClosedWiki.from_contexts(q["context"] for q in load_questions(data_dir))
    return _WIKIS[key]


class HotpotQAEnv(TextEnv):
    max_rounds = 2 * MAX_STEPS  # Thought + Action per step; the env ends the episode itself first

    def _load(self, split: str):
        levels = LEVELS if split == "test" else (split,)
        if split != "test" and split not in LEVELS:
            raise UsageError(f"hotpotqa: unknown split {split!r}: use test, easy, medium or hard")
        self.prompt = load_prompt(self.data_dir, self.options.get("prompt_file"))
        self.counter_name, self.count_tokens = token_counter(self.options.get("token_counter", "auto"))
        self.max_context = int(self.options.get("max_context_tokens", MAX_CONTEXT_TOKENS))
        self.wiki = closed_wiki(self.data_dir)
        return load_questions(self.data_dir, levels)

    def episode_facts(self, index: int) -> dict:
        """The question's difficulty level: the score is the mean F1 per level, then over the levels."""
        record = self.records[index]
        return {"level": record["level"], "id": record.get("id")}

    # --- prompt ------------------------------------------------------------------------------------------------
    def _prompt(self) -> str:
        return self.prompt["template"].format(examples=self.prompt["examples"], question=self.record["question"],
                                              scratchpad=self.scratchpad)

    def _messages(self) -> list[dict[str, str]]:
        return [{"role": "user", "content": self._prompt()}]

    def _reset(self, record):
        self.record, self.step_n, self.phase = record, 1, "thought"
        self.explorer = Explorer(self.wiki)
        self.scratchpad = "\nThought 1:"
        return self._messages()

    # --- protocol ----------------------------------------------------------------------------------------------
    def _step(self, action: str) -> StepResult:
        text = clean(action)
        self.scratchpad += " " + text
        if self.phase == "thought":
            self.phase = "action"
            self.scratchpad += f"\nAction {self.step_n}:"
            return self._continue()
        kind, argument = parse_action(text)
        obs = self.prompt["observations"]
        self.scratchpad += f"\nObservation {self.step_n}: "
        if kind == "Finish":
            correct = exact_match(argument, self.record["answer"])
            self.scratchpad += obs["correct"] if correct else obs["incorrect"]
            return self._finish(S.COMPLETED, argument)
        if kind == "Search":
            try:
                self.scratchpad += clean(self.explorer.search(argument).replace("\n", ""))
            except Exception:
                self.scratchpad += obs["search_failed"]
        elif kind == "Lookup":
            try:
                self.scratchpad += clean(self.explorer.lookup(argument).replace("\n", ""))
            except ValueError:
                self.scratchpad += obs["lookup_failed"]
        else:
            self.scratchpad += obs["invalid_action"]
        self.step_n += 1
        if self.step_n > MAX_STEPS:
            return self._finish(S.TASK_LIMIT_REACHED, "")
        if self.count_tokens(self._prompt()) > self.max_context:
            return self._finish(S.AGENT_CONTEXT_LIMIT, "")
        self.phase = "thought"
        self.scratchpad += f"\nThought {self.step_n}:"
        return self._continue()

    def _continue(self) -> StepResult:
        messages = self._messages()
        return StepResult(observation=messages[-1]["content"], messages=messages)

    def _finish(self, status: str, answer: str) -> StepResult:
        gold = self.record["answer"]
        f1 = f1_score(answer, gold)
        metrics = {"level": self.record["level"], "type": self.record.get("type"), "id": self.record.get("id"),
                   "prediction": answer, "gold": gold, "f1": f1, "em": exact_match(answer, gold),
                   "steps": self.step_n if status == S.COMPLETED else self.step_n - 1, "token_counter": self.counter_name}
        messages = self._messages()
        return StepResult(observation=messages[-1]["content"], done=True, reward=f1, status=status,
                          metrics=metrics, messages=messages)

    def _evaluate_on_limit(self):
        return 0.0, {"level": self.record["level"], "f1": 0.0, "em": False}

    def oracle_actions(self, index: int) -> Iterator[str] | list[str]:
        return ["I know the answer.", f"Finish[{self.records[index]['answer']}]"]
