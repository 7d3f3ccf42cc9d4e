"""Mind2Web (AgentBench.old): one step of a web task as rounds of multiple choice over the ranker's top candidates.

Every model call is a fresh conversation: the 3-shot prompt file ``llm_prompt_cot.json`` whose last user turn is the
pruned page and the question (``info["messages"]`` carries the new conversation each round). A step whose positives
all rank outside the top-k, or whose pool holds a single candidate, asks the model nothing and is scored as a failure,
as upstream does: such an episode is settled at ``reset`` (``info["done"]``) with no model call.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from harness import StepResult, TextEnv, UsageError, load_prompts, status as S

from . import dom
from .data import SPLITS, load_split
from .protocol import Rounds, gold_reply, step_metrics, target_action

PROMPT_FILE = "llm_prompt_cot"  # the file the std and dev configs name


class Mind2WebEnv(TextEnv):
    """Keyword options: ``top_k`` (ranker cut, default 10), ``candidates_per_call`` (5), ``seed`` (123),
    ``previous_k`` (previous actions shown, 5): the defaults come from the prompt-text file's constants."""

    max_rounds = None  # the rounds end by themselves: a pool of n candidates takes at most ceil((n - 1) / 4) calls

    def _load(self, split: str):
        if split not in SPLITS:
            raise UsageError(f"mind2web: unknown split {split!r}: use {', '.join(SPLITS)}")
        texts = load_prompts("mind2web", root=self.data_dir)
        constants = texts["constants"]
        self.templates = texts["templates"]
        self.top_k = int(self.options.get("top_k", constants["top_k_ranker"]))
        self.per_call = int(self.options.get("candidates_per_call", constants["candidates_per_call"]))
        self.previous_k = int(self.options.get("previous_k", constants["previous_k"]))
        seed = int(self.options.get("seed", constants["random_seed"]))
        prompt_path = self.data_dir / "agentbench" / "mind2web" / f"{PROMPT_FILE}.json"
        if not prompt_path.is_file():
            raise UsageError(f"missing prompt file {prompt_path}: set HARNESS_DATA to the data folder or run "
                             f"`harness data pull`")
        self.shots = [{"role": "assistant" if m["role"] == "agent" else "user", "content": m["content"]}
                      for m in json.loads(prompt_path.read_text(encoding="utf-8"))[:-1]]
        data = load_split(self.data_dir, split, self.top_k, seed)
        self.pools = data.pools
        return data.steps

    # --- facts and gold ----------------------------------------------------------------------------------------
    def episode_facts(self, index: int) -> dict[str, Any]:
        step = self.records[index]
        return {"annotation_id": step.annotation_id, "action_uid": step.action_uid, "website": step.website,
                "domain": step.domain, "subdomain": step.subdomain, "step": step.step, "task_steps": step.task_steps,
                "op": step.op, "best_positive_rank": step.best_positive_rank,
                "positives_in_top_k": len(step.top(self.top_k)[0])}

    def _gold(self, step) -> tuple[list[str], str | None]:
        positives = step.top(self.top_k)[0]
        return positives, (target_action(step.op, step.value) if positives else None)

    # --- prompt ------------------------------------------------------------------------------------------------
    def _question(self, step, choices: list[tuple[str, str]]) -> str:
        t = self.templates
        text = t["seq_in_header"].format(confirmed_task=step.confirmed_task)
        if step.previous_actions:
            text += "".join(t["seq_in_previous_action_line"].format(previous_action=a)
                            for a in step.previous_actions[-self.previous_k:])
        else:
            text += t["seq_in_no_previous_actions"]
        text += t["seq_in_choices_header"]
        text += "".join(t["seq_in_choice_line"].format(letter=chr(66 + i), choice_text=c[1])
                        for i, c in enumerate(choices))
        return text

    def _next_call(self) -> list[dict[str, str]]:
        step = self.record
        if self.tree is None:
            self.tree = dom.parse(step.cleaned_html)  # once per episode; pruning works on copies
        page, choices = dom.page_and_choices(self.tree, self.rounds_state.next_candidates())
        self.choices = [c[0] for c in choices]
        user = self.templates["user_turn"].format(seq_context=page, seq_in=self._question(step, choices))
        self.call = self.shots + [{"role": "user", "content": user}]
        return [dict(m) for m in self.call]

    # --- episode -----------------------------------------------------------------------------------------------
    def _reset(self, record):
        self.record = record
        self.tree = None
        self.log: list[dict[str, Any]] = []
        pool = self.pools[self.index]
        self.rounds_state = Rounds(pool=list(pool or []), per_call=self.per_call)
        self.choices: list[str] = []
        self.settled = self.rounds_state.finished  # nothing is asked: no positive in the top-k, or one candidate
        if self.settled:
            self.call = [{"role": "user", "content": "(no model call: " + (
                "no positive candidate among the ranker's top-%d)" % self.top_k if pool is None
                else "a single candidate in the ranker's top-%d)" % self.top_k)}]
            return self.call
        return self._next_call()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        observation, info = super().reset(seed=seed, options=options)
        if self.settled:
            result = self._finish()
            self.done = True
            info.update(done=True, status=result.status, reward=result.reward, metrics=result.metrics)
        return observation, info

    def _step(self, action: str) -> StepResult:
        picked = self.rounds_state.answer(self.choices, action)
        self.log.append({"candidates": list(self.rounds_state.shown), "choices": list(self.choices),
                         "reply": action, "picked": picked})
        if not self.rounds_state.finished:
            messages = self._next_call()
            return StepResult(observation=messages[-1]["content"], messages=messages)
        return self._finish(reply=action)

    def _finish(self, reply: str | None = None) -> StepResult:
        step = self.record
        prediction = self.rounds_state.final()
        elements, gold_action = self._gold(step)
        metrics = step_metrics(prediction, elements, gold_action)
        metrics.update(prediction={"element": prediction[0], "action": prediction[1]},
                       target={"elements": elements, "action": gold_action} if elements else None,
                       model_calls=len(self.log), rounds=self.log)
        messages = [dict(m) for m in self.call]
        if reply is not None:
            messages.append({"role": "assistant", "content": reply})
        return StepResult(observation="", done=True, reward=float(metrics["step_success"]), status=S.COMPLETED,
                          metrics=metrics, messages=messages)

    def oracle_actions(self, index: int) -> Iterator[str]:
        """Name the gold element whenever a call shows one (with the gold operation and value), else A."""
        step = self.records[index]
        elements, _ = self._gold(step)
        while True:
            shown = [b for b in self.choices if b in elements]
            if shown:
                yield gold_reply(chr(66 + self.choices.index(shown[0])), step.op, step.value)
            else:
                yield "Answer: A."
