"""AgentBench.old's Mind2Web protocol: reply parsing, the gold action, the step metrics and the candidate rounds.

One sample is one step of a Mind2Web task. The ranker's top-k candidates (positives and negatives, shuffled) are put
to the model five at a time, each call a fresh conversation; a chosen element goes back to the end of the pool and
the rounds go on while more than one candidate is left. The prediction is the last element chosen (with the
operation and value of that reply), or nothing when the model never chose or the pool ran empty.

Scoring (``Mind2Web.metric`` upstream): element accuracy (the predicted element is a positive within the top-k),
action F1 (token-set F1 of ``"OP value"`` against the gold ``"OP value"``), step success (both right, F1 = 1).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

ANSWER = re.compile(r"Answer: (A|B|C|D|E|F)")
OPERATION = re.compile(r"Action: (CLICK|SELECT|TYPE)")
VALUE = re.compile(r"Value: (.*)$", re.MULTILINE)
NONE_LETTER = "A"


def action_string(text: str) -> str:
    """``"OP value"`` as upstream reads it from a reply: the first ``Action:`` operation, the first ``Value:`` line."""
    text = text.strip()
    op = OPERATION.search(text)
    value = VALUE.search(text)
    return (op.group(1) if op else "").strip() + " " + (value.group(1) if value else "").strip()


def parse_reply(text: str) -> tuple[str, str]:
    """(letter, action string); a reply without ``Answer: <A-F>`` counts as A, None of the above."""
    letter = ANSWER.search(text.strip())
    return (letter.group(1) if letter else NONE_LETTER), action_string(text)


def gold_reply(letter: str, op: str, value: str) -> str:
    """The reply that names the gold element and operation (the shape of the prompt's examples, without a thought)."""
    reply = f"Answer: {letter}.\nAction: {op}"
    return reply + (f"\nValue: {value}" if op != "CLICK" else "")


def target_action(op: str, value: str) -> str:
    """The gold ``"OP value"``, read back from upstream's target text (``"X.\\nAction: OP\\nValue: v"``) as it does."""
    target = f"X.\nAction: {op}\n" + (f"Value: {value}" if op != "CLICK" else "")
    return action_string(target)


def action_f1(predicted: str, gold: str) -> float:
    """Token-set F1 (whitespace tokens, case-sensitive); two empty strings agree."""
    pred, ref = set(predicted.split()), set(gold.split())
    if not pred and not ref:
        return 1
    if not pred or not ref:
        return 0
    tp = len(pred & ref)
    precision = tp / (tp + len(pred - ref))
    recall = tp / (tp + len(ref - pred))
    if precision == 0 or recall == 0:
        return 0
    return 2 * precision * recall / (precision + recall)


def step_metrics(prediction: tuple[str, str], gold_elements: list[str] | None, gold_action: str | None) -> dict:
    """Element accuracy, action F1 and step success of one step; no gold in the top-k scores zero on all three."""
    if not gold_elements:
        return {"element_acc": 0, "action_f1": 0, "step_success": 0}
    element = int(prediction[0] in gold_elements)
    f1 = action_f1(prediction[1], gold_action or "")
    return {"element_acc": element, "action_f1": f1, "step_success": int(element > 0 and f1 >= 1.0)}


@dataclass
class Rounds:
    """The pool of candidates still in play and the prediction so far (upstream's ``predict_single`` loop)."""

    pool: list[str]
    per_call: int = 5
    prediction: tuple[str, str] | None = None
    shown: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return len(self.pool) <= 1

    def next_candidates(self) -> list[str]:
        """Take the next call's candidates off the front of the pool."""
        self.shown, self.pool = self.pool[: self.per_call], self.pool[self.per_call:]
        return self.shown

    def answer(self, choices: list[str], reply: str) -> str | None:
        """Apply a reply given the call's choices (backend ids in page order); returns the element picked, if any."""
        letter, action = parse_reply(reply)
        if letter == NONE_LETTER:
            return None
        index = ord(letter) - ord("B")
        if index >= len(choices):  # a letter past the last choice is ignored
            return None
        picked = choices[index]
        self.pool.append(picked)
        self.prediction = (picked, action)
        return picked

    def final(self) -> tuple[str, str]:
        if self.prediction is None or not self.pool:
            return ("", "")
        return self.prediction
