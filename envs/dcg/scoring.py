"""AgentBench.old's card-game metric: win rate = games won / games played (``CardGame._cal_metric``), pooled over
the two baselines and the two seats; the per-baseline, per-seat figures come from each record's ``facts``."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping, Sequence


def aggregate(records: Sequence[Mapping[str, Any]]) -> tuple[float, dict[str, Any]]:
    if not records:
        return 0.0, {}
    groups: dict[str, list[float]] = defaultdict(list)
    for r in records:
        facts = r.get("facts") or {}
        reward = float(r["reward"])
        groups[f"{facts.get('opponent', '?')}/seat{facts.get('seat', '?')}"].append(reward)
        groups[f"{facts.get('opponent', '?')}"].append(reward)
        groups[f"seat{facts.get('seat', '?')}"].append(reward)
    wins = sum(1 for r in records if float(r["reward"]) >= 1.0)
    breakdown = {k: {"n": len(v), "wins": int(sum(v)), "win_rate": round(100.0 * sum(v) / len(v), 2)}
                 for k, v in sorted(groups.items())}
    return 100.0 * wins / len(records), {"win_round": wins, "total_round": len(records), "breakdown": breakdown}
