"""MT-Bench's agent strategy: two turns at the category's temperature, then single-answer grading by the judge.

As FastChat's gen_judgment: one judge call per turn (turn 2 with the multi-turn prompt), temperature 0 and up to
2,048 tokens; a failed judge call is retried (16 times, 10 s apart, like FastChat's API_MAX_RETRY); a judgment without
a parsable rating scores -1, is counted, and is left out of the mean (FastChat's show_result drops score == -1).
"""
from __future__ import annotations

import asyncio

from harness import AgentStrategy, ContextLimitError, EpisodeContext, EpisodeKey, EpisodeOutcome, Request
from harness import status as S

from .judge import FAILED, parse_rating


class MTBenchAgent(AgentStrategy):
    option_names = ("judge_retries", "judge_retry_sleep")
    unhashed_options = ("judge_retry_sleep",)
    uses_judge = True

    async def run(self, ctx: EpisodeContext) -> EpisodeOutcome:
        if ctx.judge is None:
            return EpisodeOutcome(S.TASK_ERROR, 0.0, [], 0, {}, "mt_bench needs a judge model: pass --judge MODEL")
        index = ctx.key.index
        _, info = await ctx.env.reset(index)
        messages = list(info["messages"])
        meta = await ctx.env.call("episode_info", index)
        status, answers = S.COMPLETED, []
        for turn in range(meta["turns"]):
            request = Request(messages=list(messages), max_new_tokens=ctx.spec.generation.max_new_tokens,
                              temperature=meta["temperature"], episode=ctx.key, turn=turn)
            try:
                answer = (await ctx.complete(request)).text.strip()
            except ContextLimitError:
                answer, status = "", S.AGENT_CONTEXT_LIMIT  # judged as an empty answer, as FastChat keeps errors
            answers.append(answer)
            observation, _, done, _, step_info = await ctx.env.step(answer)
            messages.append({"role": "assistant", "content": answer})
            if not done:
                messages.append({"role": "user", "content": observation})
        ratings, judgments, prompts = [], [], []
        for job in await ctx.env.call("judge_requests", index, answers):
            key = EpisodeKey(f"{ctx.key.task}_judge", ctx.key.split, index)
            judgment = await self._judge(ctx, Request(messages=job["messages"], max_new_tokens=2048,
                                                      temperature=0.0, episode=key, turn=job["turn"] - 1))
            ratings.append(parse_rating(judgment))
            judgments.append(judgment)
            prompts.append(job["prompt"])
        valid = [r for r in ratings if r != FAILED]
        reward = sum(valid) / len(valid) / 10.0 if valid else 0.0
        metrics = {**step_info.get("metrics", {}), "temperature": meta["temperature"], "turn_scores": ratings,
                   "judge_parse_failures": len(ratings) - len(valid), "judge_prompts": prompts,
                   "judgments": judgments}
        return EpisodeOutcome(status=status, reward=max(0.0, min(1.0, reward)), messages=messages,
                              turns=len(answers), metrics=metrics)

    async def _judge(self, ctx: EpisodeContext, request: Request) -> str:
        retries = int(self.options.get("judge_retries", 16))
        pause = float(self.options.get("judge_retry_sleep", 10.0))
        for attempt in range(retries + 1):
            try:
                return (await ctx.judge.complete(request)).text
            except Exception:  # an API error: FastChat retries; after the last try the judgment is an error
                if attempt == retries:
                    return "$ERROR$"
                await asyncio.sleep(pause)
        return "$ERROR$"
