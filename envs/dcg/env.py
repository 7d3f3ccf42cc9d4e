"""Digital Card Game (Aquawar) as AgentBench.old runs it: the model plays one game against a baseline per episode.

Upstream (``AgentBench.old/src/tasks/card_game``): the game logic, the opponent (``basline1.py``/``basline2.py``) and
the LLM player (``AI_SDK/Python/main.py en``, class ``AI_En.Agent``) run as processes; the LLM player builds every
prompt itself (the rules as a user turn answered by "Okay, ...", the last 2 action or 3 guess exchanges, the new
state) and sends the message list to the task's server, which asks the model and returns its raw reply. A reply
without a valid JSON move is asked again with the same messages, 5 times per decision; a guess that fails 5 times is
skipped; an action that fails 5 times makes the player return no action, its process fails, and the logic rules the
game lost. This env is that server: one episode is one game, each observation is the LLM player's next request (the
env returns the whole request as ``info["messages"]``, roles ``agent`` -> ``assistant``), each action is the model's
reply. The reward is 1 when the model's seat wins (AgentBench.old's rule: seat 0 wins unless the logic's end info
gives it 0 points), else 0; the metric is the win rate over all games.

Two behaviours of upstream's server are reproduced: an empty reply sends nothing, so the LLM player never gets an
answer and loses on time (status ``agent_invalid_action``); a request longer than 10,000 bytes does not parse after
the server's single ``recv(10000)``, so the model is never asked and the player loses on time
(``agent_context_limit``). Upstream waits out the 300 s limit in both cases; here the timeout is sent at once.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import yaml

from harness import StepResult, TextEnv, UsageError
from harness import status as S
from harness.services import stale_owner_records, write_owner_record

from .build import TARBALL, EngineMissing, locate
from .relay import SERVER_RECV_LIMIT, End, GameError, Match, Request

STAGE = 2  # AgentBench.old evaluates stage 2 only (with guesses)
OPPONENTS = ("baseline1", "baseline2")
SEATS = (0, 1)
SCRIPTS = {"baseline1": "basline1.py", "baseline2": "basline2.py"}  # upstream's file names
RETRIES = 5  # AI_En asks up to 5 times per decision
SPLITS = ("std", "dev", "ext")
SEEDED = Path(__file__).resolve().with_name("seeded.py")
_OWNER_KIND = "dcg-game"


def load_split(data_dir: Path, split: str) -> list[dict[str, Any]]:
    """The games of a split, enumerated as upstream's ``get_data``: stage 2, baseline1 then baseline2, the model in
    seat 0 then seat 1, ``test_time`` games each (``card_game_<split>.yaml``). Game k of a group plays with seed k."""
    if split not in SPLITS:
        raise UsageError(f"dcg has splits {', '.join(SPLITS)}; got {split!r}")
    path = data_dir / "dcg" / f"card_game_{split}.yaml"
    if not path.exists():
        raise UsageError(f"missing task data {path}: set HARNESS_DATA to the data folder or run "
                         "`harness data pull --only dcg/`")
    try:
        test_time = int(yaml.safe_load(path.read_text())["parameters"]["test_time"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: no parameters.test_time ({exc})") from None
    return [{"stage": STAGE, "opponent": base, "seat": seat, "game": k, "seed": k}
            for base in OPPONENTS for seat in SEATS for k in range(test_time)]


def winner_seat(end_info: str) -> int:
    """AgentBench.old's reading of the judger's output: seat 1 won if seat 0 got 0 points, else seat 0."""
    return 1 if '"0" : 0' in end_info else 0


def kind_of(request: Request) -> str:
    last = request.messages[-1]["content"] if request.messages else ""
    return "guess" if last.startswith("Previous Guess:") else "action"


def to_chat(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"role": "assistant" if m.get("role") == "agent" else "user", "content": str(m.get("content", ""))}
            for m in messages]


def upstream_metrics(workdir: Path, seat: int) -> dict[str, Any]:
    """The per-game figures of upstream's ``judger/cal_metric.py`` for the model's seat (from the replay and the LLM
    player's decision logs): full_play, takedown, damage, round_num, try_times."""
    out: dict[str, Any] = {}
    try:
        replay = json.loads((workdir / "replay.json").read_text())
        last = replay[-2]
        full_play = 1
        if last.get("errors") and last["errors"][0].get("player") == seat:
            full_play = 0
        players = last["players"]
        mine, theirs = (players[0], players[1]) if players[0]["id"] == seat else (players[1], players[0])
        out.update(full_play=full_play, round_num=len(replay) - 1,
                   damage=sum(400 - max(f["hp"], 0) for f in theirs["fight_fish"]),
                   takedown=sum(1 for f in theirs["fight_fish"] if f["hp"] <= 0),
                   damage_taken=sum(400 - max(f["hp"], 0) for f in mine["fight_fish"]))
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        pass
    decisions = []
    for name, kind in (("thinking_process_0.jsonl", "action"), ("guess_process_0.jsonl", "guess")):
        try:
            lines = (workdir / name).read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            decisions.append({"kind": kind, "try_times": row.get("try_times", 0), "move": row.get("move")})
    out["try_times"] = sum(int(d["try_times"]) for d in decisions)
    out["decisions"] = {"action": sum(d["kind"] == "action" for d in decisions),
                        "guess": sum(d["kind"] == "guess" for d in decisions)}
    return out


class CardGameEnv(TextEnv):
    """Episode records: ``{"stage", "opponent", "seat", "game", "seed"}``; see the module docstring.

    Options: ``python`` (the interpreter for the player processes, default this one), ``replay_dir`` (keep every
    game's replay there), ``seeded`` (default true; false leaves the games to chance, as upstream)."""

    def _load(self, split: str):
        records = load_split(self.data_dir, split)
        try:
            self.engine = locate(self.data_dir / TARBALL)
        except EngineMissing as exc:
            raise UsageError(str(exc)) from None
        self.python = str(self.options.get("python") or sys.executable)
        # keep each game's replay (the logic's replay.json, as upstream saves it) as <replay_dir>/<split>-<index>.json
        self.replay_dir = Path(self.options["replay_dir"]) if self.options.get("replay_dir") else None
        # False: no seeds at all, the chance of the baselines and the SDK as upstream (games do not replay)
        self.seeded = bool(self.options.get("seeded", True))
        self.match: Match | None = None
        self.workdir: Path | None = None
        self._owner: Path | None = None
        _cleanup_stale()
        return records

    def episode_facts(self, index: int) -> dict[str, Any]:
        r = self.records[index]
        return {"opponent": r["opponent"], "seat": r["seat"], "seed": r["seed"], "game": r["game"],
                "stage": r["stage"]}

    # --- episode ------------------------------------------------------------------------------------------------
    def _reset(self, record: dict[str, Any]) -> list[dict[str, str]]:
        self._close_episode()
        self.record = record
        self.workdir = Path(tempfile.mkdtemp(prefix="harness-dcg-"))
        self._owner = write_owner_record(_OWNER_KIND, {"paths": [str(self.workdir)]})
        seat, seed = record["seat"], record["seed"]
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        env.pop("AQUAWAR_SEED", None)
        if self.seeded:
            env["AQUAWAR_SEED"] = str(seed)
        self.match = Match(self.engine.logic, [], self.workdir, llm_seat=seat, env=env)
        port = self.match.open_server()
        save_dir = str(self.workdir)
        llm = [self.python, str(self.engine.script("main.py")), "en", str(record["stage"]), "0", save_dir, str(port)]
        base = [self.python, *([str(SEEDED), str(seed)] if self.seeded else []),
                str(self.engine.script(SCRIPTS[record["opponent"]])), str(record["stage"]), "1", save_dir]
        self.match.player_argv = [llm, base] if seat == 0 else [base, llm]
        self.requests = 0
        self.same = 0  # how many times in a row the LLM player sent the same request (upstream's retries)
        self.last_request: list[dict[str, str]] | None = None
        self.expired: str | None = None
        started = time.perf_counter()
        event = self._screen(self.match.start())
        self.timings["start_s"] = round(time.perf_counter() - started, 4)  # processes up to the first request
        if isinstance(event, End):
            raise GameError(f"the game ended before the model was asked: {self._describe_end(event)}")
        return to_chat(event.messages)

    def _screen(self, event: Request | End) -> Request | End:
        """Count the LLM player's requests; one upstream's server cannot read ends the game on time."""
        while isinstance(event, Request):
            if event.raw_bytes > SERVER_RECV_LIMIT:
                self.expired = f"request of {event.raw_bytes} bytes (upstream's server reads {SERVER_RECV_LIMIT})"
                event = self.match.expire(self.expired)
                continue
            self.requests += 1
            self.same = self.same + 1 if event.messages == self.last_request else 1
            self.last_request = event.messages
            self.kind = kind_of(event)
            return event
        return event

    def _step(self, action: str) -> StepResult:
        if action == "":
            self.expired = "empty reply (upstream's server sends nothing; the player waits out its time)"
            event = self.match.expire(self.expired)
        else:
            event = self.match.reply(action)
        event = self._screen(event)
        if isinstance(event, Request):
            messages = to_chat(event.messages)
            return StepResult(observation=messages[-1]["content"], messages=messages)
        return self._finish(event)

    def _finish(self, end: End) -> StepResult:
        seat = self.record["seat"]
        winner = winner_seat(end.end_info)
        won = winner == seat
        exits = [e for e in end.errors if e["event"] == "player_exit"]
        timeouts = [e for e in end.errors if e["event"] == "timeout"]
        status = S.COMPLETED
        if not won:
            if self.expired and self.expired.startswith("request"):
                status = S.AGENT_CONTEXT_LIMIT
            elif self.expired:
                status = S.AGENT_INVALID_ACTION
            elif any(e["seat"] == seat for e in exits):
                if not (self.kind == "action" and self.same >= RETRIES):
                    tail = self.match.stderr_tail(f"player{seat}")
                    raise GameError(f"the LLM player process exited unexpectedly: {tail!r}")
                status = S.AGENT_INVALID_ACTION  # 5 unparseable actions: AI_En returns no action, its process fails
            elif timeouts:
                raise GameError(f"a player ran out of time in state {timeouts[0]['state']}")
        if any(e["seat"] != seat for e in exits):
            tail = self.match.stderr_tail(f"player{1 - seat}")
            raise GameError(f"the baseline process exited unexpectedly: {tail!r}")
        if self.replay_dir is not None:
            self.replay_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.match.replay_path, self.replay_dir / f"{self.split}-{self.index}.json")
        metrics = {"won": int(won), "winner_seat": winner, "model_requests": self.requests,
                   "end_reason": ("time" if timeouts else "player_exit" if exits else "rules"),
                   **upstream_metrics(self.workdir, seat)}
        if self.expired:
            metrics["no_answer"] = self.expired
        return StepResult(done=True, reward=1.0 if won else 0.0, status=status, metrics=metrics)

    def _describe_end(self, end: End) -> str:
        return f"end_info={end.end_info!r}, events={end.errors}, stderr={self.match.stderr_tail('logic')!r}"

    def _close_episode(self) -> None:
        if self.match is not None:
            self.match.close()
            self.match = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        if self._owner is not None:
            self._owner.unlink(missing_ok=True)
            self._owner = None

    def close(self) -> None:
        super().close()
        self._close_episode()

    # --- scripted player ----------------------------------------------------------------------------------------
    def oracle_actions(self, index: int) -> Iterator[str]:
        """The scripted player's replies, each computed from the request the model would answer (read from the env,
        so the first reply needs no observation sent in)."""
        from .policy import ScriptedPlayer

        return ScriptedPlayer().play(self._current_prompts())

    def _current_prompts(self) -> Iterator[str]:
        while not self.done:
            yield self.messages[-1]["content"]


def _cleanup_stale() -> None:
    """Folders of games whose harness died (their processes died with it: PR_SET_PDEATHSIG)."""
    for path, data in stale_owner_records(_OWNER_KIND):
        for p in data.get("paths", []):
            shutil.rmtree(p, ignore_errors=True)
        path.unlink(missing_ok=True)
