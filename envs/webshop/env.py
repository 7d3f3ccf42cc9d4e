"""WebShop as AgentBench.old (AgentTuning's held-in evaluation) plays it: one shopping session per episode.

Protocol (``AgentBench.old/src/tasks/webshop/__init__.py``; texts from ``HARNESS_DATA/agentbench/prompts/webshop.json``):
the instruction, ``Ok.``, the fixed one-shot, then every round one user turn
``Observation:\\n{observation}\\n\\nAvailable Actions:\\n{available_actions}`` (the Python ``str()`` of the available-actions
dict) and one reply. The action is the first ``search[...]``/``click[...]`` after ``Action:`` and a newline
(``[Aa]ction: *\\n *((search|click)\\[.+?])``); a reply without one ends the episode with reward 0
(``agent_validation_failed``). ``click[Buy Now]`` ends it with WebShop's reward. At most 10 rounds
(``task_limit_reached``, reward 0).

Splits: ``std`` (human goals 0-199) and ``dev`` (200-279) on WebShop's full catalogue, as AgentBench.old's configs;
``small`` (a substitute: the 1,000-product catalogue with WebShop's synthetic goals 0-199, since only 13 human goals
exist for those products).
"""
from __future__ import annotations

import random
import re
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

from harness import StepResult, TextEnv, UsageError, load_prompts, status as S

from .catalogue import Catalogue, open_catalogue
from .site import Session, SiteDefinition

MAX_ROUNDS = 10
ACTION = re.compile(r"[Aa]ction: *\n *((search|click)\[.+?])")

FULL = ("webshop/items_shuffle.json", "webshop/items_ins_v2.json", "webshop/items_human_ins.json")
SMALL = ("webshop/items_shuffle_1000.reconstructed.json", "webshop/items_ins_v2_1000.json")
#: split -> (goal kind, first session, end session)
SPLITS = {"std": ("human", 0, 200), "dev": ("human", 200, 280), "small": ("synthetic", 0, 200)}
FULL_SOURCE = ("WebShop's setup.sh downloads items_shuffle.json, about 5.2 GB, and items_ins_v2.json with `-d all`, "
               "items_human_ins.json in either setting")

_SITES: dict[str, SiteDefinition] = {}
_SITES_LOCK = threading.Lock()


def site_definition(data_dir: Path) -> SiteDefinition:
    key = str(Path(data_dir).resolve())
    with _SITES_LOCK:
        if key not in _SITES:
            _SITES[key] = SiteDefinition(Path(data_dir))
        return _SITES[key]


def split_files(data_dir: Path, split: str) -> tuple[Path, Path, Path | None]:
    """(catalogue, instructions, human instructions or None) for a split; a one-line UsageError when absent."""
    if split not in SPLITS:
        raise UsageError(f"webshop: unknown split {split!r}; choose from {', '.join(SPLITS)}")
    if split == "small":
        paths = [Path(data_dir) / p for p in SMALL]
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise UsageError(f"webshop: the small split needs {', '.join(str(p) for p in missing)}: set HARNESS_DATA "
                             "to the data folder or run `harness data pull --only webshop/`")
        return paths[0], paths[1], None
    paths = [Path(data_dir) / p for p in FULL]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"webshop: the {split} split needs WebShop's full catalogue: place "
                         f"{', '.join(p.name for p in missing)} in {Path(data_dir) / 'webshop'} ({FULL_SOURCE}); "
                         "`--split small` runs on the 1,000-product set")
    return paths[0], paths[1], paths[2]


class WebShopEnv(TextEnv):
    max_rounds = MAX_ROUNDS

    def __init__(self, split: str = "std", data_dir: str | Path | None = None, cache_dir: str | Path | None = None,
                 **kwargs: Any) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.session: Session | None = None
        self.format_fail = False
        super().__init__(split=split, data_dir=data_dir, **kwargs)

    # --- TextEnv ---------------------------------------------------------------------------------------------------
    def _load(self, split: str) -> Sequence[tuple[int, dict[str, Any]]]:
        items, instructions, human = split_files(self.data_dir, split)
        self.prompts = load_prompts("webshop", root=self.data_dir)
        self.site = site_definition(self.data_dir)
        self.catalogue: Catalogue = open_catalogue(items, instructions, cache=self.cache_dir)
        kind, start, end = SPLITS[split]
        goals = self.catalogue.goals(kind, human)
        if len(goals) < end:
            raise UsageError(f"webshop: the {split} split needs goals {start}-{end - 1} but the data gives "
                             f"{len(goals)} goals")
        return [(k, goals[k]) for k in range(start, end)]

    def episode_facts(self, index: int) -> dict[str, Any]:
        session, goal = self.records[index]
        return {"session": session, "asin": goal["asin"], "category": goal["category"]}

    def _reset(self, record: tuple[int, dict[str, Any]]) -> list[dict[str, str]]:
        session, goal = record
        self.session = Session(self.site, self.catalogue, goal, str(session), random.Random(session))
        self.format_fail = False
        messages = [{"role": "assistant" if m["role"] == "agent" else "user", "content": m["content"]}
                    for m in self.prompts["conversation"]]
        return messages + [{"role": "user", "content": self._turn()}]

    def _turn(self) -> str:
        assert self.session is not None
        return self.prompts["templates"]["observation"].format(
            observation=self.session.observation, available_actions=str(self.session.available_actions()))

    def _step(self, reply: str) -> StepResult:
        assert self.session is not None
        match = ACTION.search(reply)
        if match is None:
            self.format_fail = True
            return StepResult(done=True, reward=0.0, status=S.AGENT_VALIDATION_FAILED,
                              metrics=self._metrics(reason="no search[...] or click[...] after 'Action:'"))
        reward, done = self.session.step(match.group(1))
        if done:
            return StepResult(observation=self.session.observation, done=True, reward=reward, status=S.COMPLETED,
                              metrics=self._metrics())
        return StepResult(observation=self._turn())

    def _evaluate_on_limit(self) -> tuple[float, dict[str, Any]]:
        return 0.0, self._metrics(reason=f"no purchase in {self.max_rounds} rounds")

    def _metrics(self, reason: str | None = None) -> dict[str, Any]:
        s = self.session
        assert s is not None
        out: dict[str, Any] = {"format_fail": self.format_fail, "rounds": self.rounds, "goal_asin": s.goal["asin"],
                               "purchased_asin": s.asin if s.done else None,
                               "options": dict(s.options) if s.done else None}
        if s.done:
            out.update({k: v for k, v in s.reward_info.items()})
        if reason:
            out["reason"] = reason
        return out

    # --- oracle ------------------------------------------------------------------------------------------------------
    def oracle_actions(self, index: int) -> Iterator[str]:
        """Search, open the goal's product (paging to it), pick the goal's options, buy."""
        session_id, goal = self.records[index]
        cat, window = self.catalogue, self.site.window
        probe = Session(self.site, cat, goal, str(session_id), random.Random(session_id))
        query, position = None, None
        for candidate in (goal["instruction_text"], goal["query"], goal["name"], goal["asin"]):
            q = " ".join(str(candidate).replace("[", " ").replace("]", " ").split()).lower()
            rows = probe.top_products(q.split(" "))
            asins = [cat.asin(r) for r in rows]
            if goal["asin"] in asins:
                query, position = q, asins.index(goal["asin"])
                break
        if query is None or position is None:
            yield reply("the goal's product is not found by any query I know", f"search[{goal['query']}]")
            return
        yield reply("I should search for the product.", f"search[{query}]")
        for _ in range(position // window):
            yield reply("The product is on a later page.", f"click[{self.site.next}]")
        yield reply("I found the product.", f"click[{goal['asin'].lower()}]")
        row = cat.row_of(goal["asin"])
        product = cat.product(row) if row is not None else {"options": []}
        for value in oracle_option_values(product, goal, self.site.colors):
            yield reply("I should pick this option.", f"click[{value}]")
        yield reply("I should buy it now.", f"click[{self.site.buy}]")


def reply(thought: str, action: str) -> str:
    return f"Thought:\nI think {thought}\n\nAction:\n{action}"


def oracle_option_values(product: dict[str, Any], goal: dict[str, Any], colors: Sequence[str]) -> list[str]:
    """The option values to click: the goal's own values (synthetic goals), else the closest value of each goal option
    (human goals state options in free text)."""
    from .fuzzy import token_set_ratio
    from .reward import normalize_color

    options = dict(product["options"])
    wanted = goal["goal_options"]
    if isinstance(wanted, dict):
        return [v for k, v in wanted.items() if v in options.get(k, [])]
    picks: dict[str, str] = {}
    for g in wanted:
        best = max(((token_set_ratio(normalize_color(v, colors), normalize_color(g, colors)), name, v)
                    for name, values in options.items() for v in values if name not in picks), default=None)
        if best is not None and best[0] > 85:
            picks[best[1]] = best[2]
    return list(picks.values())
