"""MMLU's agent strategy: pick the option with the highest log-probability (``backend.choose``), as the paper does.

Backends without log-probabilities generate a reply instead, and the record's metrics say so (``method``,
``deviation``), so that such scores are never mistaken for the paper's protocol.
"""
from __future__ import annotations

from harness import AgentStrategy, ContextLimitError, EpisodeContext, EpisodeOutcome, Request
from harness import status as S

DEVIATION = "backend has no log-probabilities: the answer was generated and parsed (paper: option log-probabilities)"


class MMLUAgent(AgentStrategy):
    option_names = ("generate",)

    async def run(self, ctx: EpisodeContext) -> EpisodeOutcome:
        index = ctx.key.index
        _, info = await ctx.env.reset(index)
        messages = info["messages"]
        gen = ctx.spec.generation
        use_choose = getattr(ctx.backend, "supports_choose", False) and not _truthy(self.options.get("generate"))
        extra: dict = {}
        try:
            if use_choose:
                options = await ctx.env.call("choice_texts")
                choose = ctx.choose or ctx.backend.choose
                logps = await choose(Request(messages=messages, max_new_tokens=1, episode=ctx.key), options)
                best = max(range(len(options)), key=lambda i: logps[i])
                reply = options[best]
                extra = {"method": "logprob", "logprobs": [round(float(x), 4) for x in logps]}
            else:
                request = Request(messages=messages, max_new_tokens=gen.max_new_tokens, temperature=gen.temperature,
                                  top_p=gen.top_p, stop=gen.stop, episode=ctx.key, turn=0)
                reply = (await ctx.complete(request)).text
                extra = {"method": "generate", "deviation": DEVIATION}
        except ContextLimitError as exc:
            return EpisodeOutcome(S.AGENT_CONTEXT_LIMIT, 0.0, messages, 0, {"method": extra.get("method")}, str(exc))
        _, reward, _, _, info = await ctx.env.step(reply)
        return EpisodeOutcome(status=info.get("status", S.COMPLETED), reward=reward,
                              messages=messages + [{"role": "assistant", "content": reply}], turns=1,
                              metrics={**info.get("metrics", {}), **extra})


def _truthy(value) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")
