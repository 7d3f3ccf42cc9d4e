"""Mind2Web step data as AgentBench.old reads it: task files of a split, flattened into steps, ranked by the ranker.

Layout under ``HARNESS_DATA/mind2web/`` (see this folder's README): one folder of Mind2Web task files (JSON lists of
tasks, each with its ``actions``) per split, and ``scores_all_data.pkl``, the candidate ranker's output:
``{"scores": {sid: {backend_id: float}}, "ranks": {sid: {backend_id: int}}}``, where
``sid = f"{annotation_id}_{action_uid}"``.

Files are read in sorted path order (the order ``datasets.load_dataset`` gives a glob), tasks in file order, steps in
task order; that order fixes the candidate shuffles (upstream seeds ``random`` once with 123 and shuffles each sample
with a positive in the top-k, in turn; the paper's runs used 8 threads, so theirs depended on timing: this is the
single-thread order).
"""
from __future__ import annotations

import gc
import io
import pickle
import random
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import ijson

from harness import UsageError

SCORES = "scores_all_data.pkl"
#: split -> folder under mind2web/ and where a user gets it
SPLITS: dict[str, tuple[str, str]] = {
    "std": ("data_std", "AgentBench's std selection: work/data/data_std/ in the home folder of the Docker image "
                        "learningrate/agentbench-mind2web"),
    "dev": ("data_dev", "AgentBench's dev selection: work/data/data_dev/ in the home folder of the Docker image "
                        "learningrate/agentbench-mind2web"),
    **{name: (name, f"the {name}/ folder of test.zip from huggingface.co/datasets/osunlp/Mind2Web")
       for name in ("test_task", "test_website", "test_domain")},
    "fixture": ("fixture", "the project's test fixture (tests/fixtures/mind2web)"),
}
SCORES_SOURCE = ("scores_all_data.pkl from huggingface.co/datasets/osunlp/Mind2Web (also "
                 "work/data/scores_all_data.pkl in the home folder of learningrate/agentbench-mind2web)")


@dataclass(frozen=True)
class Step:
    """One sample: a step of a task, with its candidates' ranker ranks."""

    annotation_id: str
    action_uid: str
    website: str
    domain: str
    subdomain: str
    confirmed_task: str
    previous_actions: tuple[str, ...]
    step: int  # position in its task
    task_steps: int  # steps of its task in the split
    op: str
    value: str
    page: bytes  # cleaned_html, zlib-compressed (the official test splits hold gigabytes of it)
    positives: tuple[tuple[str, int], ...]  # (backend id, rank), as listed
    negatives: tuple[tuple[str, int], ...]

    @property
    def cleaned_html(self) -> str:
        return zlib.decompress(self.page).decode("utf-8")

    def top(self, k: int) -> tuple[list[str], list[str]]:
        """Backend ids of the positives and negatives ranked below ``k``, in listed order."""
        return ([b for b, r in self.positives if r < k], [b for b, r in self.negatives if r < k])

    @property
    def best_positive_rank(self) -> int | None:
        return min((r for _, r in self.positives), default=None)


class _ScoresUnpickler(pickle.Unpickler):
    """The scores file holds dicts of numbers: refuse any other object (a pickle can run code when loaded)."""

    ALLOWED = {("builtins", n) for n in ("dict", "list", "tuple", "set", "frozenset", "float", "int", "str")} | {
        ("collections", "OrderedDict"), ("collections", "defaultdict"),
        ("numpy", "dtype"), ("numpy", "ndarray"),
        ("numpy.core.multiarray", "scalar"), ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"), ("numpy._core.multiarray", "_reconstruct"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name}")
        return super().find_class(module, name)


def load_ranks(path: Path, wanted: set[str]) -> dict[str, dict[str, int]]:
    """The ranker's ranks of the samples in ``wanted`` (the rest of the file is dropped)."""
    collecting = gc.isenabled()
    gc.disable()  # millions of small dicts: the collector's passes over them cost a fifth of the load
    try:
        with open(path, "rb") as f:
            results = _ScoresUnpickler(io.BufferedReader(f, 1 << 20)).load()
        ranks = results["ranks"]
        return {sid: {str(b): int(r) for b, r in ranks[sid].items()} for sid in wanted if sid in ranks}
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise UsageError(f"mind2web: cannot read the ranker scores {path} ({type(exc).__name__}: {exc}); expected "
                         f"{SCORES_SOURCE}") from None
    finally:
        if collecting:
            gc.enable()


def _task_files(folder: Path) -> list[Path]:
    return sorted((p for p in folder.glob("*.json") if p.is_file()), key=str)


def missing_message(root: Path, split: str) -> str | None:
    """One line naming what is missing for ``split`` and where users get it, or None when all is there."""
    folder_name, source = SPLITS[split]
    folder = root / "mind2web" / folder_name
    missing = []
    if not folder.is_dir() or not _task_files(folder):
        missing.append(f"{folder}/*.json ({source})")
    if not (root / "mind2web" / SCORES).is_file():
        missing.append(f"{root / 'mind2web' / SCORES} ({SCORES_SOURCE})")
    if not missing:
        return None
    return (f"mind2web split {split!r} needs " + " and ".join(missing) + "; the Mind2Web test data is not "
            "redistributed: download it yourself (see envs/mind2web/README.md)")


def _first_byte(f) -> bytes:
    while True:
        b = f.read(1)
        if not b or not b.isspace():
            f.seek(-len(b), 1)
            return b


def _tasks(path: Path) -> Iterator[dict[str, Any]]:
    """The tasks of one file, one at a time (official files run to hundreds of MB, mostly ``raw_html``): a JSON list
    of tasks, as Mind2Web ships them, or one task per line (``datasets.load_dataset`` reads both)."""
    count = 0
    try:
        with open(path, "rb") as f:
            lines = _first_byte(f) == b"{"
            tasks = ijson.items(f, "", use_float=True, multiple_values=True, buf_size=1 << 20) if lines else \
                ijson.items(f, "item", use_float=True, buf_size=1 << 20)
            for task in tasks:
                count += 1
                yield task
    except (OSError, ijson.JSONError) as exc:
        detail = " ".join(str(exc).split())
        raise UsageError(f"mind2web: cannot read {path}: {detail}") from None
    if not count:
        raise UsageError(f"mind2web: {path} holds no Mind2Web tasks (expected a JSON list of tasks)")


def _read_steps(path: Path) -> list[dict[str, Any]]:
    """The steps of a task file, without ranks yet."""
    out = []
    for task in _tasks(path):
        try:
            ann, actions, reprs = task["annotation_id"], task["actions"], task["action_reprs"]
            for k, action in enumerate(actions):
                out.append(dict(
                    annotation_id=ann, action_uid=action["action_uid"], website=task.get("website", ""),
                    domain=task.get("domain", ""), subdomain=task.get("subdomain", ""),
                    confirmed_task=task["confirmed_task"], previous_actions=tuple(reprs[:k]), step=k,
                    task_steps=len(actions), op=action["operation"]["op"], value=action["operation"]["value"],
                    page=zlib.compress(action["cleaned_html"].encode("utf-8"), 1),
                    positives=[str(c["backend_node_id"]) for c in action["pos_candidates"]],
                    negatives=[str(c["backend_node_id"]) for c in action["neg_candidates"]]))
        except (KeyError, TypeError, AttributeError) as exc:
            raise UsageError(f"mind2web: {path} is not in Mind2Web's task format (missing {exc})") from None
    return out


def _ranked(step: dict[str, Any], ranks: dict[str, dict[str, int]], path: Path) -> Step:
    sid = f"{step['annotation_id']}_{step['action_uid']}"
    if sid not in ranks:
        raise UsageError(f"mind2web: the ranker scores have no entry {sid!r} (from {path}): use the "
                         f"scores_all_data.pkl that goes with the data")
    table = ranks[sid]
    try:
        return Step(**{**step, "positives": tuple((b, table[b]) for b in step["positives"]),
                       "negatives": tuple((b, table[b]) for b in step["negatives"])})
    except KeyError as exc:
        raise UsageError(f"mind2web: the ranker scores of {sid!r} have no candidate {exc}") from None


@dataclass(frozen=True)
class Split:
    steps: list[Step]
    pools: list[list[str] | None]  # shuffled top-k pool per step (None: no positive in the top-k, no model call)


def shuffled_pools(steps: list[Step], top_k: int, seed: int) -> list[list[str] | None]:
    """Each step's candidate pool, positives then negatives, shuffled by one generator in step order."""
    rng = random.Random(seed)
    pools: list[list[str] | None] = []
    for step in steps:
        pos, neg = step.top(top_k)
        if not pos:
            pools.append(None)
            continue
        pool = pos + neg
        rng.shuffle(pool)
        pools.append(pool)
    return pools


_CACHE: dict[tuple, Split] = {}
_LOCK = threading.Lock()


def load_split(root: Path, split: str, top_k: int, seed: int) -> Split:
    """The split's steps and pools, read once per process (the scores file is large)."""
    if split not in SPLITS:
        raise UsageError(f"mind2web: unknown split {split!r}: use {', '.join(SPLITS)}")
    message = missing_message(root, split)
    if message:
        raise UsageError(message)
    folder = root / "mind2web" / SPLITS[split][0]
    files = _task_files(folder)
    scores = root / "mind2web" / SCORES
    key = (str(folder.resolve()), tuple((str(p), p.stat().st_mtime_ns) for p in files),
           str(scores.resolve()), scores.stat().st_mtime_ns, top_k, seed)
    with _LOCK:
        if key not in _CACHE:
            per_file = [(p, _read_steps(p)) for p in files]
            ranks = load_ranks(scores, {f"{s['annotation_id']}_{s['action_uid']}" for _, ss in per_file for s in ss})
            steps = [_ranked(s, ranks, p) for p, ss in per_file for s in ss]
            _CACHE[key] = Split(steps=steps, pools=shuffled_pools(steps, top_k, seed))
        return _CACHE[key]
