"""Search: the analyzer and BM25 against upstream's Lucene (Anserini 0.14.3 = pyserini 0.17.0) on the 1,000 products."""
from __future__ import annotations

import random

import numpy as np
import pytest

from envs.webshop import analysis, bm25
from tests.unit.webshop_support import fixture, small_catalogue


@pytest.fixture(scope="module")
def lucene():
    return fixture("lucene_top10.json.gz")


def test_top10_is_lucenes_for_every_query(lucene):
    """Rank agreement: the top 10 of each query (the goals' product queries, the small split's instructions, the human
    instructions, queries of the human-goal query map) equal Lucene's, in order."""
    cat = small_catalogue()
    overlap, differing = [], []
    for group, rows in lucene["groups"].items():
        for query, ref in rows:
            ours = [cat.asin(r) for r in cat.search(query, 10)]
            overlap.append(len(set(ours) & set(ref)) / max(1, len(ref)))
            if ours != ref:
                differing.append((group, query, ours, ref))
    assert len(overlap) >= 500
    assert differing == []
    assert np.mean(overlap) == 1.0


def test_analyzer_reproduces_lucene_tokens():
    # the terms Lucene's index holds (read from Anserini's term vectors / analyzer)
    assert analysis.analyze("l'eau d'issey 6.76 fl oz bottle price < 100.00") == \
        ["l'eau", "d'issei", "6.76", "fl", "oz", "bottl", "price", "100.00"]
    assert analysis.analyze("Women's X-Large shirts, 3.5mm jack; 1,000 pcs_a") == \
        ["women", "x", "larg", "shirt", "3.5mm", "jack", "1,000", "pcs_a"]
    assert analysis.analyze("the and of") == []
    assert analysis.tokenize("a:b e.g. u.s.a. rock'n'roll a_b __ 2.5x") == \
        ["a:b", "e.g", "u.s.a", "rock'n'roll", "a_b", "2.5x"]
    assert analysis.tokenize("❤ love ★ ½ ¼ ©") == ["❤", "love", "★", "©"]  # emoji kept, vulgar fractions not


def test_fast_tokenizer_agrees_with_the_uax29_reference_on_random_text():
    rng = random.Random(5)
    alphabet = "aZ09_:.,;'- \"/()#&\t\né™\u00a0\u2019❤\u0301"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
        assert analysis.tokenize(text) == analysis.tokenize_reference(text), repr(text)


def test_lucene_length_encoding():
    assert [bm25.int_to_byte4(i) for i in range(24)] == list(range(24))
    assert bm25.byte4_to_int(bm25.int_to_byte4(100)) <= 100
    for n in (24, 25, 100, 1000, 123456):  # lossy above 23: the decoded length is the bucket's lower end
        b = bm25.int_to_byte4(n)
        assert bm25.byte4_to_int(b) <= n < (bm25.byte4_to_int(b + 1) if b < 255 else 2**31)


def test_index_ranks_by_score_then_by_id(tmp_path):
    texts = ["red shoe", "red shoe", "blue shoe shoe", "red red red hat", "green"]
    bm25.build_index(texts, tmp_path)
    ids = np.array([b"E", b"A", b"C", b"B", b"D"])
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(ids)] = np.arange(len(ids))
    s = bm25.Searcher(tmp_path, rank)
    assert s.search("red shoe", 10)[:2] == [1, 0]  # equal scores: id "A" before id "E"
    assert s.search("shoe", 10) == [2, 1, 0]
    assert s.search("purple", 10) == [] and s.search("", 10) == []
    docs, scores = s.scores("red red hat")
    assert scores.dtype == np.float32 and set(docs.tolist()) == {0, 1, 3}
    assert s.search("red red hat", 1) == [3]


def test_dense_and_sparse_accumulation_agree(tmp_path):
    rng = random.Random(0)
    words = [f"w{i}" for i in range(50)]
    bm25.build_index((" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(3000)), tmp_path)
    s = bm25.Searcher(tmp_path, np.arange(3000))
    for query in ("w1 w2 w3", "w1 w1 w4", "w5 w6"):
        dense = s.scores(query)
        n, s.n_docs = s.n_docs, 10**9  # as if the catalogue were huge: the sparse path
        sparse = s.scores(query)
        s.n_docs = n
        assert (dense[0] == sparse[0]).all() and (dense[1] == sparse[1]).all()
