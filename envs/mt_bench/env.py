"""MT-Bench: 80 two-turn questions. The env asks the two turns; :mod:`envs.mt_bench.agent` has them judged."""
from __future__ import annotations

import json
from typing import Any

from harness import StepResult, TextEnv
from harness import status as S

from . import judge

# AgentTuning's eval_mt_bench_tgi.py sends the Llama-2 system prompt with both turns.
SYSTEM = "You are a helpful, respectful and honest assistant."


class MTBenchEnv(TextEnv):
    max_rounds = 2

    def _load(self, split: str) -> list[dict]:
        self.base = self.data_dir / "general" / "mt_bench"
        self.prompts = judge.load_prompts(self.base)
        self.references = judge.load_references(self.base)
        with open(self.base / "question.jsonl", encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def _reset(self, record: dict) -> list[dict[str, str]]:
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": record["turns"][0]}]

    def _step(self, action: str) -> StepResult:
        record = self.records[self.index]
        if self.rounds < len(record["turns"]):
            return StepResult(observation=record["turns"][self.rounds])
        # the score comes from the judge, which the agent strategy calls after both turns
        return StepResult(done=True, reward=0.0, status=S.COMPLETED,
                          metrics={"question_id": record["question_id"], "category": record["category"]})

    def oracle_actions(self, index: int):
        raise NotImplementedError("MT-Bench has no gold answers (open questions graded by a judge): "
                                  "run it with a model and --judge MODEL")

    def episode_facts(self, index: int) -> dict[str, Any]:
        """The question's category (the per-category breakdown) and id."""
        record = self.records[index]
        return {"question_id": record["question_id"], "category": record["category"]}

    def episode_info(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        return {"question_id": record["question_id"], "category": record["category"],
                "temperature": judge.temperature(record["category"]), "turns": len(record["turns"])}

    def judge_requests(self, index: int, answers: list[str]) -> list[dict[str, Any]]:
        """For each turn: the judge prompt's name and the messages that ask the judge to grade it."""
        record = self.records[index]
        ref = self.references.get(int(record["question_id"]))
        out = []
        for turn in range(1, len(record["turns"]) + 1):
            name, messages = judge.judge_messages(record, answers, turn, self.prompts, ref)
            out.append({"turn": turn, "prompt": name, "messages": messages})
        return out
