"""Digital Card Game on the upstream engine built from the pinned tarball: the env's relay against upstream's own
judger, replays from seeds, the LLM player's prompts, and how unusable replies lose."""
import os
import re
import sys

import pytest

from envs.dcg.env import SCRIPTS, SEEDED, CardGameEnv, winner_seat
from envs.dcg.policy import ScriptedPlayer
from envs.dcg.relay import Match
from harness import data_dir, load_prompts
from harness import status as S
from tests.integration.dcg_support import engine, play, run_upstream_judger

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dcg_engine():
    return engine()


def test_setup_is_idempotent_and_finds_the_built_engine(dcg_engine):
    from tests.helpers import harness_env, run_harness

    r = run_harness("setup", "--tasks", "dcg", env=harness_env(HARNESS_DATA=str(data_dir())), timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "building" not in r.stdout + r.stderr  # built once per tarball and interpreter
    assert dcg_engine.logic.exists() and list((dcg_engine.python_dir / "sdk").glob("ai_client*.so"))


def _relay_game(eng, seed, seats, workdir):
    workdir.mkdir(parents=True, exist_ok=True)
    players = [[sys.executable, str(SEEDED), str(seed), str(eng.script(SCRIPTS[b])), "2", "1", str(workdir)]
               for b in seats]
    match = Match(eng.logic, players, workdir, llm_seat=None, env=dict(os.environ, AQUAWAR_SEED=str(seed)))
    try:
        end = match.start()
    finally:
        match.close()
    return end, (workdir / "replay.json").read_bytes()


@pytest.mark.parametrize("seed", [0])
@pytest.mark.parametrize("seats", [("baseline1", "baseline2"), ("baseline2", "baseline1")])
def test_relay_plays_the_upstream_judgers_game_byte_for_byte(dcg_engine, tmp_path, seed, seats):
    end, ours = _relay_game(dcg_engine, seed, seats, tmp_path / "relay")
    out, theirs = run_upstream_judger(dcg_engine, seed, list(seats), tmp_path / "judger")
    assert ours == theirs  # the logic's replay: every state, every operation, every hit
    assert winner_seat(end.end_info) == winner_seat(out)
    _, again = _relay_game(dcg_engine, seed, seats, tmp_path / "again")
    assert again == ours  # the same seed, the same game


def test_llm_seat_plays_the_upstream_judgers_game(dcg_engine, tmp_path):
    """The model's seat through the env (relay, socket server, oracle replies) and through upstream's judger and a
    server of upstream's protocol answering with the same player: the same game."""
    env = CardGameEnv(split="std", data_dir=data_dir(), replay_dir=tmp_path / "replays")
    try:
        for index in (0, 15):  # baseline1 with the model in seat 0; baseline2 with the model in seat 1
            rec = env.records[index]
            reward, _, _ = play(env, index)
            player = ScriptedPlayer()
            seats = ["llm", rec["opponent"]] if rec["seat"] == 0 else [rec["opponent"], "llm"]
            out, theirs = run_upstream_judger(dcg_engine, rec["seed"], seats, tmp_path / f"judger{index}",
                                              answer=lambda msgs, p=player: p.reply(msgs[-1]["content"]))
            assert (tmp_path / "replays" / f"std-{index}.json").read_bytes() == theirs
            assert reward == float(winner_seat(out) == rec["seat"])
    finally:
        env.close()


def test_seeds_replay_games_and_differ_between_seeds(dcg_engine, tmp_path):
    env = CardGameEnv(split="std", data_dir=data_dir(), replay_dir=tmp_path / "a")
    try:
        first = [play(env, i)[1]["metrics"] for i in (0, 1)]
        env.replay_dir = tmp_path / "b"
        second = [play(env, i)[1]["metrics"] for i in (0, 1)]
    finally:
        env.close()
    assert first == second
    for i in (0, 1):
        assert (tmp_path / "a" / f"std-{i}.json").read_bytes() == (tmp_path / "b" / f"std-{i}.json").read_bytes()
    assert (tmp_path / "a" / "std-0.json").read_bytes() != (tmp_path / "a" / "std-1.json").read_bytes()


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else ".+?" for i, p in enumerate(parts)) + r"\Z", re.S)


def test_prompts_are_agentbench_olds_english_texts(dcg_engine):
    texts = load_prompts("card_game")
    env = CardGameEnv(split="std", data_dir=data_dir())
    try:
        obs, info = env.reset(options={"index": 0})
        guess = info["messages"]
        assert [m["role"] for m in guess] == ["user", "assistant", "user"]
        assert [m["content"] for m in guess[:2]] == [m["content"] for m in texts["conversation_guess"]]
        assert _template_regex(texts["templates"]["guess_turn"]).match(obs)
        obs, _, _, _, info = env.step('{"guess_type": "spray", "target_position": 0}')
        action = info["messages"]
        assert [m["content"] for m in action[:2]] == [m["content"] for m in texts["conversation_action"]]
        assert _template_regex(texts["templates"]["action_turn"]).match(obs)
        obs, _, _, _, info = env.step('{"pick_fish": "spray", "action": "active", "target_position": 0}')
        # the next guess: the earlier (prompt, reply) pair first, then the rules pair, then the new turn (upstream)
        assert [m["role"] for m in info["messages"]] == ["user", "assistant", "user", "assistant", "user"]
        assert info["messages"][1]["content"] == '{"guess_type": "spray", "target_position": 0}'
        assert info["messages"][2]["content"] == texts["conversation_guess"][0]["content"]
    finally:
        env.close()


@pytest.mark.parametrize("index", [0, 5])  # the model in seat 0, then in seat 1
def test_unparseable_replies_lose_after_five_tries_per_decision(dcg_engine, index):
    env = CardGameEnv(split="std", data_dir=data_dir())
    try:
        reward, info, prompts = play(env, index, lambda prompt: "I would rather not say.")
    finally:
        env.close()
    assert reward == 0.0 and info["status"] == S.AGENT_INVALID_ACTION
    m = info["metrics"]
    assert m["winner_seat"] == 1 - env.records[index]["seat"] and m["end_reason"] == "player_exit"
    # 5 guesses (then no guess), 5 actions (then AI_En returns no action and its process fails)
    assert len(prompts) == 10 and m["model_requests"] == 10
    assert all(p.startswith("Previous Guess:") for p in prompts[:5])
    assert all(p.startswith("Following is the current game state:") for p in prompts[5:])
    assert len(set(prompts[:5])) == 1 and len(set(prompts[5:])) == 1
    assert m["full_play"] == 0  # upstream's cal_metric: the game ended on the model's error


def test_empty_reply_loses_on_time(dcg_engine):
    env = CardGameEnv(split="std", data_dir=data_dir())
    try:
        reward, info, prompts = play(env, 10, lambda prompt: "")
    finally:
        env.close()
    assert reward == 0.0 and info["status"] == S.AGENT_INVALID_ACTION and len(prompts) == 1
    assert info["metrics"]["end_reason"] == "time" and "empty reply" in info["metrics"]["no_answer"]


def test_request_over_upstreams_server_buffer_loses_on_time(dcg_engine):
    """Long replies make the LLM player's requests (which carry earlier replies) outgrow upstream's recv(10000)."""
    player = ScriptedPlayer()
    env = CardGameEnv(split="std", data_dir=data_dir())
    try:
        reward, info, prompts = play(env, 0, lambda prompt: "Let me think. " * 300 + player.reply(prompt))
    finally:
        env.close()
    assert reward == 0.0 and info["status"] == S.AGENT_CONTEXT_LIMIT
    assert "bytes" in info["metrics"]["no_answer"] and info["metrics"]["end_reason"] == "time"
    assert 2 <= len(prompts) <= 6
