"""MMLU: 57 subjects, 5-shot as chat turns from the subject's dev set, as AgentTuning's eval_mmlu_hf.py builds it.

The answer is scored by :mod:`envs.mmlu.agent` (log-probabilities of the four options when the backend can, else a
generated reply); this env only builds the conversation and checks the letter in the reply.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from harness import StepResult, TextEnv
from harness import status as S

LETTERS = ("A", "B", "C", "D")
# AgentTuning's per-subject system message (eval_mmlu_hf.py); MMLU's data carries no prompt text of its own.
SYSTEM = ("The following is a multiple-choice question about {subject}. "
          "Please choose the most suitable one among A, B, C and D as the answer to this question.")
_ANSWER = re.compile(r"answer(?:\s+is)?\s*[:：]?\s*\(?([ABCD])\b", re.I)
_LEADING = re.compile(r"^\s*(?:\(([ABCD])\)|([ABCD])(?:[.):\s]|$))")
_BARE = re.compile(r"\b([ABCD])\b")


def read_csv(path: Path) -> list[dict[str, str]]:
    """hendrycks/test layout: no header; question, A, B, C, D, answer letter."""
    with open(path, newline="", encoding="utf-8") as f:
        return [dict(zip(("question", *LETTERS, "answer"), row)) for row in csv.reader(f) if row]


def format_question(row: dict[str, str]) -> str:
    return f"Question: {row['question']}\n" + "\n".join(f"{x}. {row[x]}" for x in LETTERS)


def parse_letter(reply: str) -> str | None:
    """The chosen letter of a generated reply ("Answer: B", "(C)", "The answer is D", "B. ..."), or None."""
    for pattern in (_LEADING, _ANSWER):
        m = pattern.search(reply)
        if m:
            return next(g for g in m.groups() if g).upper()
    m = _BARE.search(reply)
    return m.group(1) if m else None


def choice_texts() -> list[str]:
    """The four continuations scored by log-probability. Upstream scores the letter token after "Answer:"; the shared
    "Answer:" prefix adds the same log-probability to all four, so the arg-max and the softmax over them are unchanged."""
    return [f"Answer: {x}" for x in LETTERS]


class MMLUEnv(TextEnv):
    max_rounds = 1

    def __init__(self, split: str, data_dir=None, shots: int = 5, subjects: list[str] | str | None = None,
                 **kwargs: Any) -> None:
        self.shots = int(shots)
        self.only = [subjects] if isinstance(subjects, str) else subjects
        super().__init__(split, data_dir, **kwargs)

    def _load(self, split: str) -> list[dict[str, str]]:
        base = self.data_dir / "general" / "mmlu"
        files = sorted((base / split).glob(f"*_{split}.csv"))
        if not files:
            raise FileNotFoundError(f"no MMLU files {base / split}/*_{split}.csv")
        self.dev: dict[str, list[dict[str, str]]] = {}
        records = []
        for path in files:
            subject = path.name[: -len(f"_{split}.csv")]
            if self.only and subject not in self.only:
                continue
            self.dev[subject] = read_csv(base / "dev" / f"{subject}_dev.csv")[: self.shots]
            records += [dict(row, subject=subject) for row in read_csv(path)]
        return records

    def _reset(self, record: dict[str, str]) -> list[dict[str, str]]:
        subject = record["subject"]
        messages = [{"role": "system", "content": SYSTEM.format(subject=subject.replace("_", " "))}]
        for shot in self.dev[subject]:
            messages += [{"role": "user", "content": format_question(shot)},
                         {"role": "assistant", "content": f"Answer: {shot['answer']}"}]
        messages.append({"role": "user", "content": format_question(record)})
        return messages

    def _step(self, action: str) -> StepResult:
        record = self.records[self.index]
        pred = parse_letter(action)
        metrics = {"subject": record["subject"], "gold": record["answer"], "pred": pred}
        status = S.COMPLETED if pred else S.AGENT_INVALID_ACTION
        return StepResult(done=True, reward=float(pred == record["answer"]), status=status, metrics=metrics)

    def episode_facts(self, index: int) -> dict:
        """The question's subject (the per-subject breakdown)."""
        return {"subject": self.records[index]["subject"]}

    def choice_texts(self) -> list[str]:
        return choice_texts()

    def oracle_actions(self, index: int) -> list[str]:
        return [f"Answer: {self.records[index]['answer']}"]
