"""Parity with lm-evaluation-harness: given lm-eval's MMLU prompts for the same questions, our ``choose()`` scores
each option as lm-eval's loglikelihood does and picks the same option (docs/BENCHMARKS.md has the 40-question figure
and the speed ratios; tests/lmeval_side.py says how lm-eval runs over the local data)."""
from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from harness import Request
from tests import realmodel
from tests.conftest import need_data

pytestmark = [pytest.mark.realmodel, pytest.mark.integration]


def test_choose_agrees_with_lm_eval_mmlu_on_its_own_prompts():
    pytest.importorskip("lm_eval")
    data = need_data("general", "mmlu").parent.parent
    try:
        folder = realmodel.model_folder()
    except realmodel.Unavailable as exc:
        pytest.skip(f"the real model cannot be fetched here: {exc}")
    from agents.backends.hf import HFBackend
    from tests import lmeval_side as L

    root = Path(tempfile.mkdtemp(prefix="lmeval-tasks-"))
    names, _ = L.write_tasks(root, data, ["high_school_geography"])
    results, _ = L.evaluate(L.lm(folder, 8), root, names, 8)
    questions = L.mmlu_questions(results, names)
    assert len(questions) == 8 and all(q.options == [" A", " B", " C", " D"] for q in questions)

    async def ours():
        backend = HFBackend(str(realmodel.gguf_path()), chat_format="raw")  # lm-eval's text, byte for byte
        await backend.start()
        try:
            return await asyncio.gather(*(backend.choose(Request(messages=q.messages()), q.options)
                                          for q in questions))
        finally:
            await backend.close()

    scores = asyncio.run(ours())
    for q, s in zip(questions, scores):
        assert max(abs(a - b) for a, b in zip(s, q.loglik)) < 1e-3, (q.task, q.doc_id, list(s), q.loglik)
        top_two = sorted(q.loglik)[-2:]
        assert max(range(4), key=lambda i: s[i]) == q.choice or top_two[1] - top_two[0] < 2e-3, (q.task, q.doc_id)
