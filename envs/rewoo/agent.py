"""The ``rewoo`` agent strategy: answers each prompt of the ReWOO env with the evaluated model or the judge.

Model calls go through ``ctx.complete`` (planner, LLM worker, solver, in that order), judge calls through
``ctx.judge.complete``; a replay model therefore holds the planner, worker and solver outputs in call order and a
replay judge holds its grades in its own order.
"""
from __future__ import annotations

from harness import AgentStrategy, ContextLimitError, EpisodeContext, EpisodeOutcome, Request, status as S


class ReWOOAgent(AgentStrategy):
    option_names = ()
    uses_judge = True

    async def run(self, ctx: EpisodeContext) -> EpisodeOutcome:
        if ctx.judge is None:
            return EpisodeOutcome(status=S.TASK_ERROR, reward=0.0, messages=[], turns=0,
                                  error="rewoo needs a judge model: pass --judge MODEL")
        judge_tokens = ctx.spec.generation.max_new_tokens  # LangChain's OpenAI() default: 256 tokens, temperature 0
        _, info = await ctx.env.reset(ctx.key.index)
        prompt = info["messages"]
        transcript: list[dict[str, str]] = []
        turns = judge_turns = 0
        while True:
            who = await ctx.env.call("respondent")
            transcript.extend(prompt)
            if who == "judge":
                request = Request(messages=prompt, max_new_tokens=judge_tokens, temperature=0.0, top_p=1.0, stop=(),
                                  episode=ctx.key, turn=judge_turns)
                judge_turns += 1
                completion = await ctx.judge.complete(request)
            else:
                # sampling settings left None: the runner fills in the task's (and the command line's) values
                request = Request(messages=prompt, episode=ctx.key, turn=turns)
                turns += 1
                try:
                    completion = await ctx.complete(request)
                except ContextLimitError as exc:
                    return EpisodeOutcome(status=S.AGENT_CONTEXT_LIMIT, reward=0.0, messages=transcript,
                                          turns=turns, error=str(exc))
            transcript.append({"role": "assistant", "content": completion.text})
            _, reward, done, _, info = await ctx.env.step(completion.text)
            if done:
                return EpisodeOutcome(status=info.get("status", S.COMPLETED), reward=reward, messages=transcript,
                                      turns=turns, metrics={**info.get("metrics", {}), "judge_calls": judge_turns})
            prompt = info["messages"]
