"""BM25 over the product documents, scored and ranked as upstream's Lucene searcher does.

Upstream (pyserini 0.17.0 = Anserini 0.14.3 on Lucene 8) ranks with ``BM25Similarity(k1=0.9, b=0.4)`` in single
precision: ``idf = log(1 + (N - n + 0.5) / (n + 0.5))``, document lengths stored lossily in one byte (Lucene's
``SmallFloat.intToByte4``), a term scores ``w - w / (1 + tf * norm_inverse)`` with ``w = boost * idf`` (the boost of
a query term is its count in the query), the clauses are summed in double precision and rounded to float, and hits are
sorted by score, then by the document id string (Anserini's ``BREAK_SCORE_TIES_BY_DOCID``). This module does the same
with numpy over an index kept in flat arrays on disk (memory-mapped read-only, so any number of episodes and processes
share one copy through the page cache).

Index files in a folder: ``terms.bin``/``terms.off`` (sorted terms, UTF-8, and their offsets), ``ptr.npy`` (postings
offsets per term), ``docs.npy``/``tfs.npy`` (postings, ascending document numbers), ``norms.npy`` (one byte per
document), ``stats.json``.
"""
from __future__ import annotations

import json
import math
import os
from array import array
from bisect import bisect_left
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .analysis import analyze

K1 = np.float32(0.9)
B = np.float32(0.4)


# --- Lucene's SmallFloat (document-length encoding in one byte) -------------------------------------------------------
def _long_to_int4(i: int) -> int:
    bits = i.bit_length()
    if bits < 4:
        return i
    shift = bits - 4
    return ((i >> shift) & 0x07) | ((shift + 1) << 3)


def _int4_to_long(i: int) -> int:
    bits, shift = i & 0x07, (i >> 3) - 1
    return bits if shift == -1 else (bits | 0x08) << shift


_MAX_INT4 = _long_to_int4(2**31 - 1)
_FREE = 255 - _MAX_INT4  # 24: lengths below this are stored exactly


def int_to_byte4(i: int) -> int:
    return i if i < _FREE else _FREE + _long_to_int4(i - _FREE)


def byte4_to_int(b: int) -> int:
    return b if b < _FREE else min(_FREE + _int4_to_long(b - _FREE), 2**31 - 1)


LENGTH_TABLE = np.array([byte4_to_int(b) for b in range(256)], dtype=np.float32)
_ENCODE_SMALL = np.array([int_to_byte4(i) for i in range(4096)], dtype=np.uint8)


def encode_lengths(lengths: np.ndarray) -> np.ndarray:
    lengths = np.asarray(lengths, dtype=np.int64)
    out = np.empty(len(lengths), dtype=np.uint8)
    small = lengths < len(_ENCODE_SMALL)
    out[small] = _ENCODE_SMALL[lengths[small]]
    for k in np.nonzero(~small)[0]:
        out[k] = int_to_byte4(int(lengths[k]))
    return out


# --- building ----------------------------------------------------------------------------------------------------------
class IndexWriter:
    """Add documents in order (document number = order of ``add``), then ``finish(folder)``."""

    def __init__(self) -> None:
        self.term_ids: dict[str, int] = {}
        self.post_terms = array("i")
        self.post_tfs = array("i")
        self.doc_ptr = array("q", [0])
        self.lengths = array("i")

    def add(self, text: str) -> None:
        terms = analyze(text)
        ids = self.term_ids
        counts = Counter(terms)
        self.post_terms.extend([ids.setdefault(t, len(ids)) for t in counts])
        self.post_tfs.extend(counts.values())
        self.doc_ptr.append(len(self.post_terms))
        self.lengths.append(len(terms))

    def finish(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        terms = sorted(self.term_ids)
        remap = np.empty(len(terms), dtype=np.int32)
        for new, t in enumerate(terms):
            remap[self.term_ids[t]] = new
        encoded = [t.encode("utf-8") for t in terms]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        (folder / "terms.bin").write_bytes(b"".join(encoded))
        np.save(folder / "terms_off.npy", offsets)
        del encoded, terms

        post_terms = remap[np.frombuffer(self.post_terms, dtype=np.int32)]
        doc_ptr = np.frombuffer(self.doc_ptr, dtype=np.int64)
        n_docs = len(doc_ptr) - 1
        doc_of_post = np.repeat(np.arange(n_docs, dtype=np.int32), np.diff(doc_ptr))
        order = np.argsort(post_terms, kind="stable")  # stable: document numbers stay ascending within a term
        counts = np.bincount(post_terms, minlength=len(remap))
        ptr = np.zeros(len(remap) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        np.save(folder / "ptr.npy", ptr)
        np.save(folder / "docs.npy", doc_of_post[order])
        tfs = np.frombuffer(self.post_tfs, dtype=np.int32)
        tf_dtype = np.uint16 if (len(tfs) == 0 or tfs.max() < 65536) else np.uint32
        np.save(folder / "tfs.npy", tfs[order].astype(tf_dtype))
        lengths = np.frombuffer(self.lengths, dtype=np.int32)
        np.save(folder / "norms.npy", encode_lengths(lengths))
        stats = {"docs": n_docs, "doc_count": int((lengths > 0).sum()), "sum_ttf": int(lengths.sum(dtype=np.int64)),
                 "terms": len(remap), "postings": int(len(post_terms)), "k1": float(K1), "b": float(B)}
        (folder / "stats.json").write_text(json.dumps(stats))


def build_index(texts: Iterable[str], folder: Path) -> None:
    writer = IndexWriter()
    for text in texts:
        writer.add(text)
    writer.finish(folder)


# --- searching ---------------------------------------------------------------------------------------------------------
class _Terms(Sequence):
    """The sorted term list, decoded on demand from the memory-mapped blob (for bisect)."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self.blob, self.offsets = blob, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):  # type: ignore[override]
        return bytes(self.blob[self.offsets[i]:self.offsets[i + 1]]).decode("utf-8")


class Searcher:
    """Read-only BM25 search over an index folder; safe to share between threads."""

    def __init__(self, folder: Path, tie_rank: np.ndarray) -> None:
        folder = Path(folder)
        self.stats = json.loads((folder / "stats.json").read_text())
        blob_path = folder / "terms.bin"
        self._blob = (np.memmap(blob_path, dtype=np.uint8, mode="r") if blob_path.stat().st_size
                      else np.zeros(0, dtype=np.uint8))
        self.terms = _Terms(self._blob, np.load(folder / "terms_off.npy", mmap_mode="r"))
        self.ptr = np.load(folder / "ptr.npy", mmap_mode="r")
        self.docs = np.load(folder / "docs.npy", mmap_mode="r")
        self.tfs = np.load(folder / "tfs.npy", mmap_mode="r")
        self.norms = np.load(folder / "norms.npy", mmap_mode="r")
        #: rank of each document's id string among all ids (Anserini breaks score ties by the id string)
        self.tie_rank = tie_rank
        self.n_docs = int(self.stats["docs"])
        doc_count = int(self.stats["doc_count"])
        self.doc_count = doc_count
        avgdl = np.float32(self.stats["sum_ttf"] / doc_count) if doc_count else np.float32(1.0)
        # Lucene: cache[i] = 1 / (k1 * ((1 - b) + b * LENGTH_TABLE[i] / avgdl)), every operation in float
        with np.errstate(divide="ignore"):
            self.norm_inverse = (np.float32(1) / (K1 * ((np.float32(1) - B) + B * LENGTH_TABLE / avgdl))
                                 ).astype(np.float32)

    def term_id(self, term: str) -> int | None:
        i = bisect_left(self.terms, term)
        return i if i < len(self.terms) and self.terms[i] == term else None

    def idf(self, df: int) -> np.float32:
        return np.float32(math.log(1 + (self.doc_count - df + 0.5) / (df + 0.5)))

    def scores(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, float32 scores) of every document that matches a term of ``query``."""
        counts = Counter(analyze(query))
        parts_docs, parts_scores = [], []
        for term, count in counts.items():
            tid = self.term_id(term)
            if tid is None:
                continue
            lo, hi = int(self.ptr[tid]), int(self.ptr[tid + 1])
            docs = np.asarray(self.docs[lo:hi])
            freq = np.asarray(self.tfs[lo:hi]).astype(np.float32)
            weight = np.float32(count) * self.idf(hi - lo)
            s = weight - weight / (np.float32(1) + freq * self.norm_inverse[np.asarray(self.norms[docs])])
            parts_docs.append(docs)
            parts_scores.append(s.astype(np.float64))
        if not parts_docs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(parts_docs) == 1:
            return parts_docs[0].astype(np.int64), parts_scores[0].astype(np.float32)
        docs = np.concatenate(parts_docs)
        scores = np.concatenate(parts_scores)
        # clause scores summed in double, as Lucene does (exact for these few terms, so the order does not matter)
        if len(docs) * 8 > self.n_docs:  # many postings: a dense accumulator beats sorting them
            total = np.bincount(docs, weights=scores, minlength=self.n_docs)
            hit = np.zeros(self.n_docs, dtype=bool)
            hit[docs] = True
            uniq = np.nonzero(hit)[0]
            return uniq.astype(np.int64), total[uniq].astype(np.float32)
        uniq, inverse = np.unique(docs, return_inverse=True)
        total = np.zeros(len(uniq), dtype=np.float64)
        np.add.at(total, inverse, scores)
        return uniq.astype(np.int64), total.astype(np.float32)

    def search(self, query: str, k: int) -> list[int]:
        """Document numbers of the top ``k`` hits: by score, then by document id string."""
        docs, scores = self.scores(query)
        if len(docs) == 0:
            return []
        if len(docs) > 4 * k:  # keep every document tied with the k-th score, drop the rest
            kth = np.partition(scores, len(scores) - k)[len(scores) - k]
            keep = scores >= kth
            docs, scores = docs[keep], scores[keep]
        order = np.lexsort((self.tie_rank[docs], -scores))[:k]
        return [int(d) for d in docs[order]]


def open_searcher(folder: Path, tie_rank: np.ndarray) -> Searcher:
    return Searcher(folder, tie_rank)


def index_size_bytes(folder: Path) -> int:
    return sum(os.path.getsize(p) for p in Path(folder).iterdir() if p.is_file())
