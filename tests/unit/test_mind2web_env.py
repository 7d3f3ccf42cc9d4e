"""The Mind2Web env on the fixture split against AgentBench.old run on the same samples (``upstream_episodes.json``:
upstream's ``Mind2Web`` task class driven by scripted sessions, computed once outside the project).

Per policy and sample: every call's user turn and choices, the shuffled candidate order (random.seed(123), one
sequential pass), the final prediction, and element accuracy / action F1 / step success; then the means."""
import json
import pickle

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

from envs.mind2web.env import Mind2WebEnv
from envs.mind2web.scoring import aggregate
from harness import UsageError, get_task
from tests.fixtures.mind2web.layout import fixture_root, load

REF = load("upstream_episodes.json")


@pytest.fixture(scope="module")
def root():
    return fixture_root()


@pytest.fixture(scope="module")
def env(root):
    return Mind2WebEnv(split="fixture", data_dir=root)


def _gold(env, step):
    return [b for b in env.choices if b in step.top(env.top_k)[0]]


def _ops(op, value):
    return f"Action: {op}" + (f"\nValue: {value}" if op != "CLICK" else "")


def _letter(env, bid):
    return chr(66 + env.choices.index(bid))


# the scripted sessions of the reference run, written against the env's view of a call
def oracle(env, s):
    g = _gold(env, s)
    return f"Answer: {_letter(env, g[0])}.\n" + _ops(s.op, s.value) if g else "Answer: A."


def oracle_cot(env, s):
    return "Thought: Looking at the candidates for the next step.\n" + oracle(env, s)


def wrong_element(env, s):
    others = [b for b in env.choices if b not in s.top(env.top_k)[0]]
    return f"Answer: {_letter(env, others[-1])}.\n" + _ops(s.op, s.value) if others else "Answer: A."


def wrong_operation(env, s):
    g = _gold(env, s)
    if not g:
        return "Answer: A."
    swapped = {"CLICK": ("TYPE", "go"), "TYPE": ("CLICK", ""), "SELECT": ("TYPE", s.value)}[s.op]
    return f"Answer: {_letter(env, g[0])}.\n" + _ops(*swapped)


def wrong_value(env, s):
    g = _gold(env, s)
    if not g:
        return "Answer: A."
    if s.op == "CLICK":
        return f"Answer: {_letter(env, g[0])}.\nAction: CLICK\nValue: now"
    return f"Answer: {_letter(env, g[0])}.\nAction: {s.op}\nValue: {s.value} please"


def none_of_the_above(env, s):
    return "Answer: A."


def chatter(env, s):
    return "I would click on the most relevant button to continue the task."


def out_of_range(env, s):
    return "Answer: F.\nAction: CLICK" if len(env.choices) < 5 else "Answer: B.\nAction: CLICK"


def first_choice_click(env, s):
    return "Answer: B.\nAction: CLICK"


def lower_case(env, s):
    return oracle(env, s).replace("Answer:", "answer:")


def messy_format(env, s):
    g = _gold(env, s)
    if not g:
        return "Thought: nothing fits.\nAnswer: A. None of the above"
    tail = f"\nValue: {s.value}  \nThe value is typed." if s.op != "CLICK" else ""
    return f"Answer: {_letter(env, g[0])}. because it matches\nAction: {s.op} it{tail}\nAnswer: B."


POLICIES = {f.__name__: f for f in (oracle, oracle_cot, wrong_element, wrong_operation, wrong_value,
                                    none_of_the_above, chatter, out_of_range, first_choice_click, lower_case,
                                    messy_format)}


def play(env, index, policy):
    """One episode; returns (calls, final info, reward)."""
    obs, info = env.reset(options={"index": index})
    calls = []
    if info.get("done"):
        return calls, info, info["reward"]
    while True:
        calls.append({"user": info["messages"][-1]["content"], "choices": list(env.choices),
                      "candidates": list(env.rounds_state.shown), "messages": info["messages"]})
        obs, reward, terminated, truncated, info = env.step(policy(env, env.record))
        if terminated:
            return calls, info, reward


def test_reference_covers_every_policy():
    assert set(REF["policies"]) == set(POLICIES)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_episodes_match_upstream(env, name):
    ref = REF["policies"][name]
    records = []
    for i, want in enumerate(ref["per_sample"]):
        calls, info, reward = play(env, i, POLICIES[name])
        assert [c["candidates"] for c in calls] == want["candidate_order"], f"sample {i}: candidate shuffle"
        assert [c["choices"] for c in calls] == [c["choices"] for c in want["calls"]], f"sample {i}: choices"
        assert [c["user"] for c in calls] == [REF["user_turns"][c["user_turn"]] for c in want["calls"]]
        m = info["metrics"]
        assert [m["prediction"]["element"], m["prediction"]["action"]] == want["final_prediction"]
        assert (m["element_acc"], m["action_f1"], m["step_success"]) == (want["element_acc"], want["action_f1"],
                                                                      want["step_sr"]), f"sample {i}"
        assert reward == float(want["step_sr"]) and info["status"] == "completed"
        assert m["model_calls"] == len(want["calls"])
        records.append({"reward": reward, "metrics": m, "facts": env.episode_facts(i)})
    score, extra = aggregate(records)
    assert score == pytest.approx(ref["step_sr"], abs=1e-9)
    assert extra["element_acc"] == pytest.approx(ref["element_acc"], abs=1e-4)
    assert extra["action_f1"] == pytest.approx(ref["action_f1"], abs=1e-4)


def test_conversation_is_the_three_shot_prompt_then_the_page(env, root):
    shots = json.loads((root / "agentbench" / "mind2web" / "llm_prompt_cot.json").read_text())
    calls, _, _ = play(env, 0, oracle)
    messages = calls[0]["messages"]
    assert [m["content"] for m in messages[:-1]] == [m["content"] for m in shots[:-1]]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3 + ["user"]
    assert messages[-1]["content"].startswith("'''\n<html>") and "Previous actions:\nNone\n" in messages[-1]["content"]
    later, _, _ = play(env, 2, oracle)
    assert ("Previous actions:\n[textbox]  From -> TYPE: Columbus\n[li]  Columbus, OH (CMH) -> CLICK\n"
            in later[0]["user"])


def test_oracle_solves_every_step_with_a_gold_candidate_in_the_top_k(env):
    outcomes = [play(env, i, oracle)[1]["metrics"]["step_success"] for i in range(len(env))]
    solvable = [env.pools[i] is not None for i in range(len(env))]
    assert outcomes == [int(s) for s in solvable] and sum(solvable) == 6


def test_steps_without_a_gold_candidate_are_settled_at_reset(env):
    for index, why in ((4, "no positive"), (6, "no positive")):
        obs, info = env.reset(options={"index": index})
        assert info["done"] and info["reward"] == 0.0 and info["status"] == "completed"
        assert why in obs and info["metrics"]["model_calls"] == 0 and info["metrics"]["target"] is None
        with pytest.raises(RuntimeError):
            env.step("Answer: B.\nAction: CLICK")
    facts = env.episode_facts(4)
    assert facts["best_positive_rank"] == 12 and facts["positives_in_top_k"] == 0
    assert env.episode_facts(6)["best_positive_rank"] is None


def test_facts_and_task_success_rate(env):
    facts = [env.episode_facts(i) for i in range(len(env))]
    assert [f["annotation_id"][:6] for f in facts] == ["fx0001"] * 3 + ["fx0002"] * 2 + ["fx0003"] * 3
    assert [f["step"] for f in facts] == [0, 1, 2, 0, 1, 0, 1, 2] and facts[0]["task_steps"] == 3
    assert facts[0]["website"] == "skyways" and facts[3]["domain"] == "Shopping"
    records = [{"reward": float(play(env, i, oracle)[2]), "metrics": {}, "facts": f} for i, f in enumerate(facts)]
    score, extra = aggregate(records)
    assert score == 75.0 and extra["task_sr"] == pytest.approx(100 / 3, abs=1e-3) and extra["tasks"] == 3
    # the recall figures upstream logs while loading (Recall Cap @ k, candidate generator acc)
    log = REF["recall_log"]
    for k in (5, 10, 20, 50):
        assert f"Recall Cap @ {k}: {extra[f'recall@{k}'] / 100}" in log
    assert f"Candidate generator acc: {extra['ranker_top1'] / 100}" in log
    partial, extra = aggregate(records[:4])  # task 2 lacks a step: left out of task SR
    assert extra["tasks"] == 1 and extra["tasks_incomplete"] == 1 and extra["task_sr"] == 100.0


def test_gymnasium_contract(root, monkeypatch):
    check_env(Mind2WebEnv(split="fixture", data_dir=root), skip_render_check=True)
    monkeypatch.setenv("HARNESS_DATA", str(root))
    env = gymnasium.make(get_task("mind2web").gym_id, split="fixture")
    obs, info = env.reset(options={"index": 1})
    assert "Columbus" in obs
    env.close()


def test_missing_data_stops_with_one_line(tmp_path, root):
    (tmp_path / "agentbench").symlink_to(root / "agentbench")
    with pytest.raises(UsageError) as err:
        Mind2WebEnv(split="std", data_dir=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "data_std/*.json" in msg and "learningrate/agentbench-mind2web" in msg
    assert "scores_all_data.pkl" in msg and "huggingface.co/datasets/osunlp/Mind2Web" in msg
    with pytest.raises(UsageError, match="test_domain/ folder of test.zip"):
        Mind2WebEnv(split="test_domain", data_dir=tmp_path)
    with pytest.raises(UsageError, match="unknown split"):
        Mind2WebEnv(split="nope", data_dir=tmp_path)


def test_scores_file_may_only_hold_data(tmp_path, root):
    import shutil

    for sub in ("agentbench", "mind2web"):
        shutil.copytree(root / sub, tmp_path / sub, symlinks=True)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(tmp_path / "mind2web" / "scores_all_data.pkl", "wb") as f:
        pickle.dump({"scores": {}, "ranks": Evil()}, f)
    with pytest.raises(UsageError, match="unexpected object builtins.print"):
        Mind2WebEnv(split="fixture", data_dir=tmp_path)
    with open(tmp_path / "mind2web" / "scores_all_data.pkl", "wb") as f:
        pickle.dump({"scores": {}, "ranks": {}}, f)
    with pytest.raises(UsageError, match="have no entry"):
        Mind2WebEnv(split="fixture", data_dir=tmp_path)


@pytest.mark.parametrize("content,match", [
    ('{"not": "a task"}', "not in Mind2Web's task format"),
    ('[]', "holds no Mind2Web tasks"),
    ('"text"', "holds no Mind2Web tasks"),
    ('[{"annotation_id": "x", "actions": [{}], "action_reprs": []}]', "not in Mind2Web's task format"),
    ('[{"annotation_id": ', "cannot read"),
])
def test_malformed_task_files_stop_with_one_line(tmp_path, root, content, match):
    import shutil

    for sub in ("agentbench", "mind2web"):
        shutil.copytree(root / sub, tmp_path / sub, symlinks=True)
    (tmp_path / "mind2web" / "fixture" / "tasks.json").write_text(content)
    with pytest.raises(UsageError, match=match) as err:
        Mind2WebEnv(split="fixture", data_dir=tmp_path)
    assert "\n" not in str(err.value)


def test_one_task_per_line_reads_the_same(tmp_path, root, env):
    import shutil

    for sub in ("agentbench", "mind2web"):
        shutil.copytree(root / sub, tmp_path / sub, symlinks=True)
    path = tmp_path / "mind2web" / "fixture" / "tasks.json"
    path.write_text("\n".join(json.dumps(t) for t in json.loads(path.read_text())) + "\n")
    lines = Mind2WebEnv(split="fixture", data_dir=tmp_path)
    assert lines.records == env.records and lines.pools == env.pools
