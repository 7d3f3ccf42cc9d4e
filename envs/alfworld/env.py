"""ALFWorld as AgentBench.old (AgentTuning's held-in evaluation) plays it: one TextWorld household game per episode.

Protocol (see protocol.py): instruction, acknowledgement, the one-shot trajectory for the game's task type, then the
task; each reply is reduced to a command (text after ``ACTION:``, else the first line; lower-cased) and mapped onto
the equal or BLEU-nearest admissible command; no list of admissible commands is shown; three identical outputs in a
row fail the episode; 35 steps; reward 1 when the game is won.

Options (the TaskSpec's ``env_kwargs``): ``protocol="agentbench_v0.2"`` (task ``alfworld_v0.2``) reproduces
AgentBench v0.2 instead (admissible commands shown after every observation, the plan-first one-shot, a reply without
``ACTION:`` is an invalid action); ``prefetch=False`` turns off preparing the next game in the background;
``max_steps``. ``reset(options={"index": k, "next_index": j})`` names the game to prepare next, when known.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Sequence

from harness import StepResult, TextEnv, UsageError, load_prompts, status

from . import protocol as P
from .games import GamePlayer, GameState
from .gamelist import load_game_list

MAX_STEPS = 35


class AlfWorldEnv(TextEnv):
    max_rounds = MAX_STEPS

    def __init__(self, split: str = "std", data_dir: str | Path | None = None, protocol: str = P.OLD,
                 prefetch: bool = True, max_steps: int = MAX_STEPS, **kwargs: Any) -> None:
        if protocol not in P.PROTOCOLS:
            raise UsageError(f"alfworld: unknown protocol {protocol!r}; choose from {', '.join(P.PROTOCOLS)}")
        self.protocol = protocol
        self.max_rounds = int(max_steps)
        self._prefetch = bool(prefetch)
        self._player: GamePlayer | None = None
        self._next_index: int | None = None
        super().__init__(split=split, data_dir=data_dir, **kwargs)
        self.prompts = load_prompts("alfworld", root=self.data_dir)
        one_shot = self.data_dir / "agentbench" / "alfworld" / "prompts" / P.ONE_SHOT_FILE[protocol]
        if not one_shot.exists():
            raise UsageError(f"missing task data {one_shot}: set HARNESS_DATA to the data folder")
        self.one_shot = json.loads(one_shot.read_text(encoding="utf-8"))
        self.state: GameState | None = None
        self.outputs: list[str] = []
        self.counts: dict[str, int] = {}

    # --- TextEnv ---------------------------------------------------------------------------------------------------
    def _load(self, split: str) -> Sequence[dict[str, str]]:
        return load_game_list(self.data_dir, split)

    def episode_facts(self, index: int) -> dict[str, Any]:
        """The game's task type (the per-type breakdown)."""
        return {"category": self.records[index]["category"]}

    @property
    def player(self) -> GamePlayer:
        if self._player is None:
            self._player = GamePlayer([g["path"] for g in self.records], prefetch=self._prefetch)
        return self._player

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._next_index = (options or {}).get("next_index")
        return super().reset(seed=seed, options=options)

    def _reset(self, record: dict[str, str]) -> list[dict[str, str]]:
        self.state, hit = self.player.start(int(self.index or 0), self._next_index)
        self.outputs = []
        self.counts = {"bleu_mapped": 0, "unmapped": 0, "nothing_happens": 0, "prefetched": int(hit)}
        return P.opening_messages(self.prompts, self.one_shot, record["name"], self.state.feedback,
                                  self.state.admissible, self.protocol)

    def _step(self, reply: str) -> StepResult:
        assert self.state is not None
        action = P.extract_action(reply, self.protocol)
        if self.protocol == P.V02 and not action:
            return self._end(status.AGENT_INVALID_ACTION, 0.0, "no ACTION: in the reply")
        command = P.map_to_admissible(action or "", self.state.admissible)
        if command != action:
            self.counts["bleu_mapped"] += 1
        elif command not in self.state.admissible:
            self.counts["unmapped"] += 1
        messages = None
        if "AVAILABLE ACTIONS" in self.messages[-2]["content"]:  # v0.2 shortens the previous user turn
            messages = [dict(m) for m in self.messages]
            messages[-2]["content"] = P.strip_available_actions(messages[-2]["content"])
        self.state = self.player.slot.step(command)
        if self.state.feedback.startswith("Nothing happens"):
            self.counts["nothing_happens"] += 1
        observation = P.observation_turn(self.state.feedback, self.state.admissible, self.protocol, self.prompts)
        self.outputs.append(reply)
        if messages is not None:
            messages.append({"role": "user", "content": observation})
        # upstream checks the repeat rule before the game's end, so a win on the third identical output still fails
        if P.is_repeating(self.outputs):
            return self._end(status.AGENT_INVALID_ACTION, 0.0, "the same output three times in a row", observation)
        if self.state.done:
            return self._end(status.COMPLETED, 1.0 if self.state.won else 0.0, None, observation)
        return StepResult(observation=observation, messages=messages)

    def _evaluate_on_limit(self) -> tuple[float, dict[str, Any]]:
        return 0.0, self._metrics(False)

    def _end(self, final: str, reward: float, reason: str | None, observation: str = "") -> StepResult:
        metrics = self._metrics(reward > 0)
        if reason:
            metrics["reason"] = reason
        return StepResult(observation=observation, done=True, reward=reward, status=final, metrics=metrics)

    def _metrics(self, won: bool) -> dict[str, Any]:
        record = self.records[self.index or 0]
        return {"category": record["category"], "won": won, "steps": len(self.outputs), **self.counts}

    # --- oracle ------------------------------------------------------------------------------------------------------
    def oracle_actions(self, index: int) -> Iterator[str]:
        """The planner's plan (TextWorld ``policy_commands``) from the live game's state, as replies.

        Pick-two games are planned in two parts (first object, then the rest from the state reached), since
        the planner is very slow on the two-object goal from the start (see ``Slot.first_object_plan``).
        """
        if self.index != index or self.done:
            self.reset(options={"index": index})
        first = self.player.slot.first_object_plan() if not self.outputs else []
        for command in first:
            yield f"ACTION: {command}"
        for command in self.player.slot.plan():  # computed once the first part has been played
            yield f"ACTION: {command}"

    def close(self) -> None:
        super().close()
        if self._player is not None:
            self._player.close()
