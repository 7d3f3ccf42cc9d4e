"""AgentBench.old's card-game metric: win rate = games won / games played (``CardGame._cal_metric``: ``win_round /
total_round``), pooled over both baselines and both seats. The breakdown per baseline, per seat and per
(baseline, seat) reads each record's grouping facts (``opponent``, ``seat``), known before the game."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping, Sequence

from harness import fact


def aggregate(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    if not records:
        return 0.0, {}
    groups: dict[str, list[float]] = defaultdict(list)
    for r in records:
        won = 1.0 if float(r["reward"]) >= 1.0 else 0.0
        opponent, seat = fact(r, "opponent"), fact(r, "seat")
        if opponent is not None:
            groups[str(opponent)].append(won)
        if seat is not None:
            groups[f"seat{seat}"].append(won)
        if opponent is not None and seat is not None:
            groups[f"{opponent}/seat{seat}"].append(won)
    wins = sum(1 for r in records if float(r["reward"]) >= 1.0)
    breakdown = {k: {"n": len(v), "wins": int(sum(v)), "win_rate": round(100.0 * sum(v) / len(v), 2)}
                 for k, v in sorted(groups.items())}
    return 100.0 * wins / len(records), {"win_round": wins, "total_round": len(records), "breakdown": breakdown}
