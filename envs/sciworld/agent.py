"""SciWorld's conversation loop: one reply per turn, the whole conversation sent every time.

The plain chat agent would apply AgentBench's history truncation, which AgentTuning's SciWorld eval does not;
this env trims the 1-shot example itself (upstream's rule) and returns the trimmed conversation.
"""
from __future__ import annotations

from harness import AgentStrategy, EpisodeContext, EpisodeOutcome, Request, status


class SciWorldAgent(AgentStrategy):
    option_names = ()

    async def run(self, ctx: EpisodeContext) -> EpisodeOutcome:
        observation, info = await ctx.env.reset(ctx.key.index)
        messages = [dict(m) for m in info.get("messages") or [{"role": "user", "content": observation}]]
        turns = 0
        while True:
            completion = await ctx.complete(Request(messages=list(messages), episode=ctx.key, turn=turns))
            turns += 1
            # upstream cuts a reply at a leaked chat-template marker
            reply = completion.text.split("[INST]")[0].split("<|end_of_turn|>")[0].strip()
            observation, reward, terminated, truncated, info = await ctx.env.step(reply)
            messages.append({"role": "assistant", "content": reply})
            if "messages" in info:
                messages = [dict(m) for m in info["messages"]]
            elif not (terminated or truncated):
                messages.append({"role": "user", "content": observation})
            if terminated or truncated:
                return EpisodeOutcome(status=info.get("status", status.COMPLETED), reward=float(reward),
                                      messages=messages, turns=turns, metrics=dict(info.get("metrics") or {}))
