"""Reply parsing and the step metrics against upstream's own functions, and the candidate rounds' edge cases.

``upstream_metric_cases.json``: 75 (reply, shown choices, target) cases with the element accuracy, action F1 and step
success that AgentBench.old's ``postprocess_action_llm`` / ``calculate_f1`` / ``metric`` give them (computed once
outside the project)."""
import pytest

from envs.mind2web.protocol import Rounds, action_f1, gold_reply, parse_reply, step_metrics, target_action
from tests.fixtures.mind2web.layout import load

CASES = load("upstream_metric_cases.json")["cases"]


def _predict(case):
    """One call's prediction, as predict_single makes it from the reply and the call's choices."""
    rounds = Rounds(pool=list(case["choices"]) + ["spare"], per_call=len(case["choices"]))
    rounds.next_candidates()
    rounds.answer(case["choices"], case["reply"])
    return rounds.prediction or ("", "")


@pytest.mark.parametrize("k", range(len(CASES)))
def test_metrics_match_upstream(k):
    case, want = CASES[k], CASES[k]["upstream"]
    letter, action = parse_reply(case["reply"])
    assert (letter, action) == (want["letter"], want["action"])
    prediction = _predict(case)
    assert list(prediction) == want["prediction"]
    target = case["target"]
    got = step_metrics(prediction, target and target["element"], target and target["action"])
    assert got == {"element_acc": want["element_acc"], "action_f1": want["action_f1"], "step_success": want["step_sr"]}


def test_table_is_broad():
    assert len(CASES) >= 50
    assert {c["upstream"]["action_f1"] for c in CASES} >= {0, 1 / 3, 0.5, 6 / 7, 1.0}
    assert sum(c["upstream"]["step_sr"] for c in CASES) >= 5 and any(c["target"] is None for c in CASES)


@pytest.mark.parametrize("op,value,want", [("CLICK", "", "CLICK "), ("TYPE", "New York", "TYPE New York"),
                                           ("SELECT", " 2 Adults ", "SELECT 2 Adults"), ("TYPE", "", "TYPE "),
                                           ("TYPE", "line one\nline two", "TYPE line one")])
def test_target_action_is_read_back_like_upstream(op, value, want):
    assert target_action(op, value) == want
    letter, action = parse_reply(gold_reply("C", op, value))
    assert letter == "C" and action_f1(action, target_action(op, value)) == 1


def test_rounds_of_ten_candidates():
    pool = [f"c{i}" for i in range(10)]
    r = Rounds(pool=list(pool))
    assert r.next_candidates() == pool[:5]
    assert r.answer(pool[:5], "Answer: C.\nAction: CLICK") == "c1"
    assert r.pool == pool[5:] + ["c1"] and not r.finished
    shown = r.next_candidates()
    assert shown == pool[5:]
    assert r.answer(shown, "Answer: A.") is None
    assert r.finished and r.final() == ("c1", "CLICK ")  # the earlier choice stands


def test_leftover_candidate_is_never_shown():
    """Six candidates and 'None of the above' first: the sixth is left alone in the pool and never asked about."""
    r = Rounds(pool=[f"c{i}" for i in range(6)])
    r.answer(r.next_candidates(), "Answer: A.")
    assert r.finished and r.pool == ["c5"] and r.final() == ("", "")


def test_pool_emptied_by_last_none_of_the_above_drops_prediction():
    r = Rounds(pool=[f"c{i}" for i in range(7)])
    r.answer(r.next_candidates(), "Answer: B.\nAction: TYPE\nValue: x")
    assert r.pool == ["c5", "c6", "c0"]
    r.answer(r.next_candidates(), "Answer: A.")
    assert r.finished and r.pool == [] and r.final() == ("", "")


def test_letter_past_the_choices_is_ignored():
    r = Rounds(pool=["a", "b", "c"])
    assert r.answer(r.next_candidates(), "Answer: F.\nAction: CLICK") is None
    assert r.final() == ("", "")
