"""ReWOO (Planner-Worker-Solver) as a text env driven by the ``rewoo`` agent strategy (agent.py).

The env is a small state machine; each observation is a whole prompt (a single user message) and
``respondent()`` says who answers it: the evaluated model (planner, LLM worker, solver) or the judge.
    plan -> [LLM worker calls, one per ``#E = LLM[...]``; local tools run inside the env] -> solve -> judge
Success = the judge's reply is exactly ``CORRECT`` (LangChain QAEvalChain); the score is micro-averaged.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import StepResult, TextEnv, UsageError, status as S

from .data import load_episodes, load_prompt
from .plan import clean_reply, parse_evidences, parse_plans, split_call
from .tools import SUBSTITUTES, CalculatorError, ClosedWiki, DocSearch, calculate, solve

_SHARED: dict[tuple[str, str], Any] = {}


def _shared(kind: str, data_dir: Path, build):
    key = (kind, str(data_dir.resolve()))
    if key not in _SHARED:
        _SHARED[key] = build()
    return _SHARED[key]


class ReWOOEnv(TextEnv):
    max_rounds = 64  # planner + LLM workers + solver + judge; a plan rarely has more than ten steps

    def _load(self, split: str):
        if split != "test":
            raise UsageError(f"rewoo: unknown split {split!r}: use test")
        self.prompt = load_prompt(self.data_dir, self.options.get("prompt_file"))
        episodes, self.absent = load_episodes(self.data_dir)
        datasets = self.options.get("datasets")
        if datasets:
            wanted = set(datasets.split(",") if isinstance(datasets, str) else datasets)
            episodes = [e for e in episodes if e["dataset"] in wanted]
        return episodes

    def episode_facts(self, index: int) -> dict:
        """The source dataset of the row (the per-dataset breakdown)."""
        return {"dataset": self.records[index]["dataset"], "row": self.records[index]["row"]}

    # --- tools ------------------------------------------------------------------------------------------------
    def _wiki(self) -> ClosedWiki:
        return _shared("wiki", self.data_dir, lambda: ClosedWiki.from_data(self.data_dir))

    def _sotu(self) -> DocSearch:
        path = self.data_dir / "rewoo" / "docs" / "state_of_the_union.txt"
        return _shared("sotu", self.data_dir, lambda: DocSearch(path.read_text(encoding="utf-8")))

    def run_tool(self, tool: str, argument: str) -> str:
        """A non-LLM worker's evidence."""
        if tool in ("Wikipedia", "Google"):
            return self._wiki().search(argument)
        if tool in ("Calculator", "WolframAlpha"):
            try:
                return solve(argument) if tool == "WolframAlpha" else calculate(argument)
            except CalculatorError as exc:
                return f"Calculator error: {exc}"
        if tool == "SearchSOTU":
            return self._sotu().search(argument)
        return "No evidence found"

    # --- prompts ----------------------------------------------------------------------------------------------
    def _planner_prompt(self) -> str:
        p, rec = self.prompt, self.record
        tools = p["tools_header"] + "".join(p["tool_line"].format(name=t, description=p["tool_descriptions"][t])
                                            for t in rec["toolset"]) + "\n"
        return p["planner_prefix"] + tools + p["fewshots"][rec["dataset"]] + p["planner_suffix"] + rec["question"] + "\n"

    def _solver_prompt(self, worker_log: str) -> str:
        q = self.record["question"]
        return self.prompt["solver_prefix"] + q + "\n" + worker_log + self.prompt["solver_suffix"] + q + "\n"

    def _judge_prompt(self) -> str:
        return self.prompt["judge"].format(query=self.record["question"], result=self.prediction,
                                           answer=self.record["label"])

    @staticmethod
    def _ask(text: str) -> StepResult:
        return StepResult(observation=text, messages=[{"role": "user", "content": text}])

    # --- protocol ---------------------------------------------------------------------------------------------
    def respondent(self) -> str:
        """Who answers the current observation: ``model`` or ``judge``."""
        return "judge" if self.phase == "judge" else "model"

    def _reset(self, record):
        self.record, self.phase, self.prediction = record, "plan", None
        self.plans: list[str] = []
        self.pending: list[tuple[str, str]] = []
        self.evidences: dict[str, str] = {}
        self.current: str | None = None
        self.tool_calls: dict[str, int] = {}
        return [{"role": "user", "content": self._planner_prompt()}]

    def _step(self, action: str) -> StepResult:
        reply = clean_reply(action)
        if self.phase == "plan":
            self.plans = parse_plans(reply)
            self.pending = list(parse_evidences(reply).items())
            return self._work()
        if self.phase == "worker":
            self.evidences[self.current] = reply.strip("\n")
            return self._work()
        if self.phase == "solve":
            self.prediction = reply.strip("\n")
            self.phase = "judge"
            return self._ask(self._judge_prompt())
        success = reply.strip() == "CORRECT"
        return self._finish(S.COMPLETED, 1.0 if success else 0.0, judge_reply=reply)

    def _work(self) -> StepResult:
        """Run the plan's remaining tool calls in order until one needs the model (LLM) or all are done."""
        toolset = self.record["toolset"]
        while self.pending:
            label, call = self.pending.pop(0)
            parts = split_call(call, self.evidences)
            if parts is None:
                self.evidences[label] = call
                continue
            tool, argument = parts
            self.tool_calls[tool] = self.tool_calls.get(tool, 0) + 1
            if tool not in toolset:
                self.evidences[label] = "No evidence found"
            elif tool == "LLM":
                self.phase, self.current = "worker", label
                return self._ask(self.prompt["llm_worker"].format(input=argument))
            else:
                self.evidences[label] = self.run_tool(tool, argument)
        try:
            worker_log = "".join(f"{plan}\nEvidence:\n{self.evidences[f'#E{i + 1}']}\n"
                                 for i, plan in enumerate(self.plans))
        except KeyError as exc:  # upstream crashes here (and scores the question as failed)
            return self._finish(S.AGENT_INVALID_ACTION, 0.0, error=f"plan step without evidence {exc.args[0]}")
        self.phase = "solve"
        return self._ask(self._solver_prompt(worker_log))

    def _finish(self, status: str, reward: float, **extra: Any) -> StepResult:
        metrics = {"dataset": self.record["dataset"], "row": self.record["row"], "prediction": self.prediction,
                   "label": self.record["label"], "success": bool(reward), "plan_steps": len(self.plans),
                   "tool_calls": dict(self.tool_calls), **extra}
        return StepResult(observation="", done=True, reward=reward, status=status, metrics=metrics)

    def describe(self) -> dict[str, Any]:
        """What differs from the paper's run: absent datasets and local tool substitutes."""
        return {"absent_datasets": self.absent, "tool_substitutes": SUBSTITUTES}
