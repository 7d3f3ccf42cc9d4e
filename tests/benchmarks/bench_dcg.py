"""Digital Card Game speed: games per minute with the scripted player at the task's default concurrency (and at 1
and 2), the harness's own cost per model turn, and what one game costs the upstream processes.

Every game runs the upstream logic and two Python players (the opponent and the LLM player, whose SDK re-parses each
incoming message after every character it reads, as upstream's does): most of a game's CPU is theirs, so games per
minute are bound by the cores. Figures: ``games_per_min_c<N>``; ``env_ms_per_turn_p50`` at concurrency 1 and at the
default (from the model's reply to the next request: the relay, the LLM player, the logic and the opponent's moves);
``harness_cpu_ms_per_turn`` (CPU of the harness process itself per model turn: runner, env, relay, and the scripted
player's few microseconds); ``game_processes_cpu_s_per_game`` (the logic and both players).
"""
from __future__ import annotations

import asyncio
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

GROUP = 6  # games per (baseline, seat) group of the ext split


def _run(concurrency: int, per_group: int = GROUP) -> dict[str, float]:
    from harness import get_task
    from harness.runner import RunConfig, Runner

    spec = get_task("dcg")
    indices = [g * 50 + k for g in range(4) for k in range(per_group)]
    with tempfile.TemporaryDirectory() as out:
        cfg = RunConfig(model="oracle", tasks=[spec], split="ext", indices=indices, concurrency=concurrency,
                        output=Path(out), progress=False)
        self0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        asyncio.run(Runner(cfg).run())
        wall = time.perf_counter() - started
        self1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        records = [json.loads(line) for line in next(Path(out).glob("*/dcg/episodes.jsonl")).read_text().splitlines()]
    turns = sum(r["turns"] for r in records)
    env_per_turn = [r["timings"]["env"] / r["turns"] for r in records if r["turns"]]
    cpu_self = (self1.ru_utime - self0.ru_utime) + (self1.ru_stime - self0.ru_stime)
    cpu_kids = (kids1.ru_utime - kids0.ru_utime) + (kids1.ru_stime - kids0.ru_stime)
    return {"games": len(records), "wins": sum(r["reward"] for r in records), "wall_s": wall, "turns": turns,
            "env_ms_per_turn_p50": 1000 * statistics.median(env_per_turn),
            "harness_cpu_ms_per_turn": 1000 * cpu_self / turns, "kids_cpu_per_game": cpu_kids / len(records)}


def run() -> dict:
    from harness import get_task

    default = get_task("dcg").concurrency
    figures: dict[str, float] = {}
    for c in sorted({1, 2, default}):
        m = _run(c, per_group=2 if c == 1 else GROUP)
        figures[f"dcg_games_per_min_c{c}"] = round(60 * m["games"] / m["wall_s"], 1)
        if c == 1:  # one game at a time: the latency of a turn without games competing for the cores
            figures["dcg_env_ms_per_turn_p50_c1"] = round(m["env_ms_per_turn_p50"], 1)
        if c == default:
            figures["dcg_env_ms_per_turn_p50"] = round(m["env_ms_per_turn_p50"], 1)
            figures["dcg_harness_cpu_ms_per_turn"] = round(m["harness_cpu_ms_per_turn"], 2)
            figures["dcg_game_processes_cpu_s_per_game"] = round(m["kids_cpu_per_game"], 3)
            figures["dcg_turns_per_game"] = round(m["turns"] / m["games"], 1)
    for key, value in figures.items():
        print(f"{key}: {value}")
    return figures


if __name__ == "__main__":
    run()
