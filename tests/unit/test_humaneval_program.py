"""HumanEval without Docker: how a reply becomes the program, and the pass@k estimator and aggregate."""
from __future__ import annotations

from math import comb

import pytest

from tests.helpers import fixture_data
from tests.conftest import FIXTURES
from envs.humaneval import aggregate
from envs.humaneval.passk import pass_at_k
from envs.humaneval.problems import build_program, extract_code, load

PROBLEMS = load(fixture_data(FIXTURES / "general" / "data"))


def _run(program: str) -> bool:
    """Plain exec, only for these fixed, harmless test programs (the env always uses the sandbox)."""
    try:
        exec(compile(program, "<program>", "exec"), {"__name__": "__main__"})
        return True
    except Exception:
        return False


def test_canonical_body_continues_the_prompt():
    p = PROBLEMS[0]
    program = build_program(p, p["canonical_solution"])
    assert program.startswith(p["prompt"] + p["canonical_solution"])
    assert program.rstrip().endswith("check(add)")
    assert _run(program)


def test_chat_reply_with_whole_function_in_a_fence():
    p = PROBLEMS[1]  # its prompt has an import and a helper the reply relies on
    reply = ("Sure! Here it is:\n```python\ndef is_sorted(xs):\n    return all(_helper(a) <= b for a, b in zip(xs, xs[1:]))\n"
             "```\nHope this helps.")
    assert _run(build_program(p, reply))
    wrong = "```python\ndef is_sorted(xs):\n    return True\n```"
    assert not _run(build_program(p, wrong))


def test_unindented_body_and_unterminated_fence():
    p = PROBLEMS[2]
    assert _run(build_program(p, "return s[::-1]"))
    assert _run(build_program(p, "```python\n    return s[::-1]\n"))
    assert extract_code("```\nx = 1\n```\n```python\ndef reverse(s):\n    pass\n```", "reverse").startswith("def reverse")


@pytest.mark.parametrize("n,c,k", [(1, 1, 1), (1, 0, 1), (10, 3, 1), (10, 3, 5), (20, 0, 10), (200, 13, 100), (5, 4, 2)])
def test_pass_at_k_is_the_unbiased_estimator(n, c, k):
    exact = 1.0 - comb(n - c, k) / comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)


def test_aggregate_greedy_and_sampled():
    recs = [{"reward": 1.0, "metrics": {"task_id": "A"}}, {"reward": 0.0, "metrics": {"task_id": "B"}}]
    score, m = aggregate(recs)
    assert score == 50.0 and m["problems"] == 2 and "pass@10" not in m
    recs = [{"reward": float(i < 3), "metrics": {"task_id": "A"}} for i in range(10)]
    recs += [{"reward": 0.0, "metrics": {"task_id": "B"}} for _ in range(10)]
    score, m = aggregate(recs)
    assert score == pytest.approx(100 * (0.3 + 0.0) / 2)
    assert m["pass@10"] == pytest.approx(50.0) and m["samples_per_problem"] == 10


def test_several_samples_per_problem_are_separate_episodes(monkeypatch):
    from envs.humaneval.env import HumanEvalEnv
    monkeypatch.setattr(HumanEvalEnv, "_preflight", lambda self: None)  # no Docker engine needed for the records
    env = HumanEvalEnv(split="test", data_dir=fixture_data(FIXTURES / "general" / "data"), samples=4)
    assert len(env) == 12
    assert [(r["task_id"], r["sample"]) for r in env.records[:5]] == [
        ("Toy/0", 0), ("Toy/0", 1), ("Toy/0", 2), ("Toy/0", 3), ("Toy/1", 0)]
    _, info = env.reset(options={"index": 5})
    assert info["messages"][-1]["content"].endswith(PROBLEMS[1]["prompt"])
    assert env.oracle_actions(5) == [PROBLEMS[1]["canonical_solution"]]
