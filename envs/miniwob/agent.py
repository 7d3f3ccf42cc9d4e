"""The paper's MiniWoB++ agent (RCI, Kim et al. 2023, as AgentTuning ran it): plan, criticise the plan once and
re-plan, then per plan step ask for an instruction, ground it in the current page, and correct it up to three
times when it matches no action regex. Every model call is a fresh conversation (instruction, two few-shot
examples, the prompt), as upstream. Options (``--agent-option``): ``plan_critiques`` (erci, default 1; -1: no plan),
``corrections`` (irci, default 3), ``grounding`` (default true), and ``mode=plain``: no plan, no grounding, no
corrections, one model call per action on the env's own plain-mode prompts (the env ends the episode on a reply
that is no valid instruction, or after ``max_steps`` actions).

A plan step budget of "numbered plan items + 1" actions; the episode succeeds when the page's reward is positive.
"""
from __future__ import annotations

from typing import Any

from harness import AgentStrategy, EpisodeContext, EpisodeOutcome, Request, status as S

from . import compose
from .instructions import clean_instruction, matches
from .prompts import Texts


def _flag(value: Any) -> bool:
    return str(value).lower() not in ("0", "false", "no", "off", "")


class RCIAgent(AgentStrategy):
    option_names = ("plan_critiques", "corrections", "grounding", "mode")

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.plan_critiques = int(options.get("plan_critiques", 1))
        self.corrections = int(options.get("corrections", 3))
        self.grounding = _flag(options.get("grounding", True))
        self.mode = str(options.get("mode", "rci"))
        if self.mode not in ("rci", "plain"):
            raise ValueError(f"miniwob agent mode must be rci or plain, not {self.mode!r}")

    async def run(self, ctx: EpisodeContext) -> EpisodeOutcome:
        run = _Episode(self, ctx)
        try:
            return await (run.play() if self.mode == "rci" else run.play_plain())
        except _ModelGaveUp as exc:
            return run.outcome(S.AGENT_INVALID_ACTION, 0.0, error=str(exc))


class _ModelGaveUp(Exception):
    pass


class _Episode:
    def __init__(self, agent: RCIAgent, ctx: EpisodeContext) -> None:
        self.agent, self.ctx = agent, ctx
        self.messages: list[dict[str, str]] = []
        self.calls = 0
        self.metrics: dict[str, Any] = {}

    def outcome(self, status: str, reward: float, error: str | None = None) -> EpisodeOutcome:
        self.metrics.setdefault("model_calls", self.calls)
        return EpisodeOutcome(status=status, reward=reward, messages=self.messages, turns=self.calls,
                              metrics=self.metrics, error=error)

    async def ask(self, prompt: str) -> str:
        """One model call on upstream's framing; the reply is cut at a chat-template leak, as upstream."""
        messages = self.texts.wrap(prompt)
        gen = self.ctx.spec.generation
        completion = await self.ctx.complete(Request(
            messages=messages, max_new_tokens=gen.max_new_tokens, temperature=gen.temperature, top_p=gen.top_p,
            stop=gen.stop, episode=self.ctx.key, turn=self.calls))
        self.calls += 1
        reply = completion.text.split("[INST]")[0].strip()
        self.messages += [messages[-1], {"role": "assistant", "content": reply}]
        if not reply:
            raise _ModelGaveUp("empty model reply")  # upstream retries forever; here the episode fails
        return reply

    async def play_plain(self) -> EpisodeOutcome:
        """One model call per action: the env frames each prompt and judges each reply."""
        env = self.ctx.env
        await env.call("set_mode", "plain")
        _obs, info = await env.reset(self.ctx.key.index)
        messages = info["messages"]
        while True:
            completion = await self.ctx.complete(Request(messages=messages, episode=self.ctx.key, turn=self.calls))
            self.calls += 1
            reply = completion.text.split("[INST]")[0].strip()
            self.messages += [messages[-1], {"role": "assistant", "content": reply}]
            obs, reward, finished, _trunc, info = await env.step(reply)
            if finished:
                self.metrics.update(info.get("metrics", {}))
                return self.outcome(info.get("status", S.COMPLETED), float(reward))
            messages = info.get("messages") or messages + [{"role": "assistant", "content": reply},
                                                            {"role": "user", "content": obs}]

    async def play(self) -> EpisodeOutcome:
        env = self.ctx.env
        await env.call("set_mode", "rci")
        await env.reset(self.ctx.key.index)
        raw, few_shot = await env.call("prompt_texts")
        self.texts = Texts(raw, few_shot)
        pieces = await env.call("prompt_pieces")
        state = await env.call("state")
        task, html = state["utterance"], state["html"]
        self.metrics.update(task_name=state["task_name"], utterance=task)

        plan: str | None = None
        if self.agent.plan_critiques >= 0:
            plan = ""
            if pieces["initialize_plan"]:
                pt = compose.plan_prompt(self.texts, pieces, html, task)
                plan = "\n" + await self.ask(pt)
                pt += plan
                for _ in range(self.agent.plan_critiques):
                    pt += self.texts.sentence("critique")
                    pt += await self.ask(pt)
                    pt += self.texts.sentence("replan")
                    plan = await self.ask(pt)
                    pt += plan
            self.metrics["plan"] = plan
        steps = compose.plan_steps(plan or "")
        self.metrics["plan_steps"] = steps

        done: list[str] = []
        info: dict[str, Any] = {}
        for _ in range(steps):
            instruction = await self.next_instruction(pieces, html, task, done, plan)
            if instruction is None:
                return self.outcome(S.AGENT_INVALID_ACTION, 0.0, error="no valid instruction after corrections")
            done.append(instruction)
            html, reward, finished, _trunc, info = await env.step(instruction)
            if finished:
                self.metrics.update(info.get("metrics", {}))
                return self.outcome(info.get("status", S.COMPLETED), float(reward))
        self.metrics["instructions"] = done
        return self.outcome(S.TASK_LIMIT_REACHED, 0.0)

    async def next_instruction(self, pieces: dict[str, str], html: str, task: str, done: list[str],
                               plan: str | None) -> str | None:
        pt = compose.action_prompt(self.texts, pieces, html, task, done, plan)
        reply = await self.ask(pt)
        pt += clean_instruction(reply) + "`."
        if self.agent.grounding and pieces["update_action"]:
            pt += pieces["update_action"]
            reply = await self.ask(pt)
            pt += reply
        instruction = clean_instruction(reply)
        for _ in range(self.agent.corrections):
            if matches(instruction, self.texts.regexes()):
                return instruction
            pt += pieces["rci_action"]
            reply = await self.ask(pt)
            pt += reply
            instruction = clean_instruction(reply)
        return instruction if matches(instruction, self.texts.regexes()) else None
