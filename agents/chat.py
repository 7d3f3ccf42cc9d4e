"""The chat agent: the conversation the env opens, one model reply per turn, the env's observation back."""
from __future__ import annotations

from harness import AgentStrategy, EpisodeContext, EpisodeOutcome, Request, status

from .truncation import truncate_history


class ChatAgent(AgentStrategy):
    """Options: ``history=agentbench|none`` (AgentBench's history truncation is the reproduction default)."""

    option_names = ("history",)

    async def run(self, ctx: EpisodeContext) -> EpisodeOutcome:
        truncate = self.options.get("history", "agentbench") == "agentbench"
        observation, info = await ctx.env.reset(ctx.key.index)
        messages = [dict(m) for m in info.get("messages") or [{"role": "user", "content": observation}]]
        n_prompt = len(messages)
        if info.get("done"):  # the env settled the episode without asking the model (Mind2Web: no gold candidate)
            return EpisodeOutcome(status=info.get("status", status.COMPLETED), reward=float(info.get("reward", 0.0)),
                                  messages=messages, turns=0,
                                  metrics={**(info.get("metrics") or {}), "n_prompt_messages": n_prompt})
        turns = 0
        while True:
            sent = truncate_history(messages) if truncate else messages
            completion = await ctx.complete(Request(messages=sent, episode=ctx.key, turn=turns))
            turns += 1
            observation, reward, terminated, truncated, info = await ctx.env.step(completion.text)
            messages.append({"role": "assistant", "content": completion.text})
            if "messages" in info:
                messages = [dict(m) for m in info["messages"]]
            elif not (terminated or truncated):
                messages.append({"role": "user", "content": observation})
            if terminated or truncated:
                metrics = dict(info.get("metrics") or {})
                metrics["n_prompt_messages"] = n_prompt
                return EpisodeOutcome(status=info.get("status", status.COMPLETED if terminated else
                                                      status.TASK_LIMIT_REACHED),
                                      reward=float(reward), messages=messages, turns=turns, metrics=metrics)
