"""Digital Card Game: split enumeration, result reading, metric, relay framing and the scripted player (no engine)."""
import hashlib
import io
import json
import tarfile

import pytest

from envs.dcg.env import kind_of, load_split, to_chat, winner_seat
from envs.dcg.policy import ScriptedPlayer
from envs.dcg.relay import Request, frame
from envs.dcg.scoring import aggregate
from harness import UsageError
from tests.conftest import need_data


def _yaml(tmp_path, split, test_time):
    (tmp_path / "dcg").mkdir(parents=True, exist_ok=True)
    (tmp_path / "dcg" / f"card_game_{split}.yaml").write_text(
        'module: "src.tasks.CardGame"\n\nparameters:\n    name: "CardGame"\n    port: 12342\n'
        f'    test_time: {test_time}')
    return tmp_path


def test_split_enumerates_as_upstream_get_data(tmp_path):
    games = load_split(_yaml(tmp_path, "std", 3), "std")
    assert len(games) == 12  # stage 2 x 2 baselines x 2 seats x test_time
    assert [(g["opponent"], g["seat"], g["game"]) for g in games[:4]] == [
        ("baseline1", 0, 0), ("baseline1", 0, 1), ("baseline1", 0, 2), ("baseline1", 1, 0)]
    assert [(g["opponent"], g["seat"]) for g in games[6:]] == [("baseline2", 0)] * 3 + [("baseline2", 1)] * 3
    assert all(g["stage"] == 2 and g["seed"] == g["game"] for g in games)


def test_shipped_configs_give_the_paper_sizes():
    root = need_data("dcg", "card_game_ext.yaml").parent.parent
    sizes = {s: len(load_split(root, s)) for s in ("std", "dev", "ext")}
    assert sizes == {"std": 20, "dev": 12, "ext": 200}


def test_bad_split_and_missing_config_are_one_line_errors(tmp_path):
    with pytest.raises(UsageError, match="splits std, dev, ext"):
        load_split(tmp_path, "test")
    with pytest.raises(UsageError, match="card_game_dev.yaml"):
        load_split(tmp_path, "dev")


def test_an_env_without_engine_or_source_stops_with_one_line(tmp_path, monkeypatch):
    from envs.dcg.env import CardGameEnv

    monkeypatch.setenv("HARNESS_DCG_CACHE", str(tmp_path / "cache"))
    root = _yaml(tmp_path / "data", "std", 1)
    with pytest.raises(UsageError, match="agentbench_old_card_game_src.tar.gz"):
        CardGameEnv(split="std", data_dir=root)
    (root / "dcg" / "agentbench_old_card_game_src.tar.gz").write_bytes(b"not built yet")
    with pytest.raises(UsageError, match="harness setup --tasks dcg"):
        CardGameEnv(split="std", data_dir=root)


def test_winner_is_read_as_agentbench_reads_the_judger_output():
    # the logic's end_info is a styled JSON text; AgentBench.old: seat 1 won iff '"0" : 0' appears
    assert winner_seat('{\n\t"0" : 0,\n\t"1" : 100\n}\n') == 1
    assert winner_seat('{\n\t"0" : 100,\n\t"1" : 0\n}\n') == 0
    assert winner_seat("") == 0  # upstream's default when nothing was printed


def test_framing_and_message_roles():
    assert frame('{"a": 1}') == b"\x00\x00\x00\x08" + b'{"a": 1}'
    chat = to_chat([{"role": "user", "content": "rules"}, {"role": "agent", "content": "Okay"},
                    {"role": "user", "content": "Previous Guess: False\n..."}])
    assert [m["role"] for m in chat] == ["user", "assistant", "user"]
    assert kind_of(Request(messages=chat, raw_bytes=0)) == "guess"
    assert kind_of(Request(messages=[{"role": "user", "content": "Following is the current game state:"}],
                           raw_bytes=0)) == "action"


def test_win_rate_is_pooled_and_broken_down_by_the_records_facts():
    recs = [{"reward": r, "facts": {"opponent": o, "seat": s}, "metrics": {}}
            for o, s, r in [("baseline1", 0, 1.0), ("baseline1", 1, 0.0), ("baseline2", 0, 1.0),
                            ("baseline2", 0, 1.0), ("baseline2", 1, 0.0)]]
    score, metrics = aggregate(recs)
    assert score == pytest.approx(60.0)
    assert metrics["win_round"] == 3 and metrics["total_round"] == 5
    b = metrics["breakdown"]
    assert b["baseline2/seat0"] == {"n": 2, "wins": 2, "win_rate": 100.0}
    assert b["baseline1"]["win_rate"] == 50.0 and b["seat1"] == {"n": 2, "wins": 0, "win_rate": 0.0}


GUESS = ("Previous Guess: {result}\nLive Enemy Fish: {live}\nEnemy's previous action: {action}\n"
         "Enemy's previous triggered passive ability: {{\"Position: 0\": \"Counter\"}}\n\nPlease output your guess.")
NO_ACTION = "{'ACTION_FISH': 'None', 'ATK': 'None', 'TARGET': 'None', 'SKILL_TYPE': 'None'}"


def _state(mine_hp=(400, 400, 400, 400), enemy_hp=(400, 400, 400, 400), enemy_ids=("unknown",) * 4, atk=200):
    you = [{"ID": n, "POSITION": str(i), "HP": str(h), "ATK": str(atk)}
           for i, (n, h) in enumerate(zip(("spray", "flame", "eel", "sunfish"), mine_hp))]
    enemy = [{"ID": e, "POSITION": str(i), "HP": str(h), "ATK": "unknown"}
             for i, (e, h) in enumerate(zip(enemy_ids, enemy_hp))]
    return ("Following is the current game state:\n" + json.dumps({"You": you, "Enemy": enemy}) +
            "\n\nYour previous action: {'ACTION_FISH': 'None', 'ATK': 'None', 'TARGET': 'None'}\n"
            "Enemy's previous action: {'ACTION_FISH': 'None', 'ATK': 'None', 'TARGET': 'None'}\n\n"
            "Please Output your next action.")


def test_scripted_guesses_use_skills_wrong_guesses_and_distinct_types():
    p = ScriptedPlayer()
    g = json.loads(p.reply(GUESS.format(result="False", live="['0', '1', '2', '3']", action=NO_ACTION)))
    assert set(g) == {"guess_type", "target_position"} and g["target_position"] in range(4)
    first = (g["target_position"], g["guess_type"])
    aoe = "{'ACTION_FISH': '2', 'ATK': '70', 'TARGET': '[0, 1, 2, 3]', 'SKILL_TYPE': 'AOE'}"
    p.reply(GUESS.format(result="False", live="['0', '1', '2', '3']", action=aoe))
    assert first[1] not in p.possible[first[0]]  # the wrong guess was ruled out
    assert p.possible[2] <= {"spray", "eel"}  # an area attack came from position 2
    p.reply(_state(enemy_ids=("flame", "unknown", "unknown", "unknown")))  # a revealed identity
    g = json.loads(p.reply(GUESS.format(result="False", live="['0', '1', '2', '3']", action=NO_ACTION)))
    assert g["target_position"] != 0  # never the revealed fish
    assert not (g["target_position"] != 0 and g["guess_type"] == "flame")  # types are distinct


def test_scripted_actions_are_legal_moves():
    p = ScriptedPlayer()
    move = json.loads(p.reply(_state()))
    assert move == {"pick_fish": "spray", "action": "active", "target_position": 0}  # area attack on four
    # a blow of 100 (70 kept by a fish that may deflect) kills a 60-health fish, not a 90-health one
    move = json.loads(p.reply(_state(enemy_hp=(0, 60, 300, 0))))
    assert move == {"pick_fish": "spray", "action": "normal", "target_position": 1}
    move = json.loads(p.reply(_state(enemy_hp=(0, 90, 300, 0))))
    assert move == {"pick_fish": "spray", "action": "active", "target_position": 0}
    move = json.loads(p.reply(_state(mine_hp=(0, 400, 0, 400), enemy_hp=(0, 0, 300, 0))))
    assert move == {"pick_fish": "flame", "action": "normal", "target_position": 2}


def test_packer_rebuilds_the_shared_tarball_byte_for_byte(tmp_path):
    from envs.dcg.pack_source import main as pack

    tarball = need_data("dcg", "agentbench_old_card_game_src.tar.gz")
    with tarfile.open(tarball) as tf:
        tf.extractall(tmp_path / "root", filter="data")
    pack(str(tmp_path / "root"), str(tmp_path / "out.tar.gz"))
    assert hashlib.sha256((tmp_path / "out.tar.gz").read_bytes()).hexdigest() == \
        hashlib.sha256(tarball.read_bytes()).hexdigest()
    with tarfile.open(fileobj=io.BytesIO((tmp_path / "out.tar.gz").read_bytes())) as tf:
        names = tf.getnames()
    assert not any(n.endswith((".so", ".pyd", "logic/bin/main")) for n in names)
