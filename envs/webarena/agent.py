"""The ``webarena`` agent strategy: one model call per step on the prompt the env builds, then the judge for
``fuzzy_match`` references.

The model sees the env's whole prompt every step (``info["messages"]``); the record keeps the fixed opening once and
then each reply and the newest observation, so that it reads as one conversation. When the episode ends with judge
questions (``metrics["judge_requests"]``), each goes to ``--judge`` (upstream: gpt-3.5-turbo, temperature 0, 16
tokens); a reply containing "Yes" keeps the score, anything else makes it 0 (upstream multiplies the verdicts).
"""
from __future__ import annotations

from harness import AgentStrategy, EpisodeContext, EpisodeKey, EpisodeOutcome, Request, status as S

JUDGE_MAX_TOKENS = 16


class WebArenaAgent(AgentStrategy):
    option_names = ()
    uses_judge = True

    async def run(self, ctx: EpisodeContext) -> EpisodeOutcome:
        _, info = await ctx.env.reset(ctx.key.index)
        prompt = [dict(m) for m in info["messages"]]
        transcript = [dict(m) for m in prompt]
        turns = 0
        while True:
            completion = await ctx.complete(Request(messages=prompt, episode=ctx.key, turn=turns))
            turns += 1
            observation, reward, done, truncated, info = await ctx.env.step(completion.text)
            transcript.append({"role": "assistant", "content": completion.text})
            if done or truncated:
                break
            transcript.append({"role": "user", "content": observation})
            prompt = [dict(m) for m in info["messages"]]
        metrics = dict(info.get("metrics") or {})
        status = info.get("status", S.COMPLETED)
        requests = metrics.pop("judge_requests", None) or []
        if requests:
            if ctx.judge is None:
                return EpisodeOutcome(S.TASK_ERROR, 0.0, transcript, turns, metrics,
                                      "this task has fuzzy_match references: pass --judge MODEL")
            verdicts = []
            for k, job in enumerate(requests):
                key = EpisodeKey(f"{ctx.key.task}_judge", ctx.key.split, ctx.key.index)
                reply = (await ctx.judge.complete(Request(messages=job["messages"], max_new_tokens=JUDGE_MAX_TOKENS,
                                                          temperature=0.0, top_p=1.0, episode=key, turn=k))).text
                verdict = 1.0 if "Yes" in reply else 0.0
                verdicts.append({"reference": job["reference"], "pred": job["pred"], "reply": reply,
                                 "score": verdict})
                reward *= verdict
            metrics["judge"] = verdicts
        return EpisodeOutcome(status, float(reward), transcript, turns, metrics)
