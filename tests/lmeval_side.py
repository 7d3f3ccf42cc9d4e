"""lm-evaluation-harness beside the harness, on the same model and the same local data (its hub is unreachable here).

lm-eval's own task configs are included as they ship (``mmlu/default/_default_template_yaml``, ``gsm8k/gsm8k.yaml``:
prompt templates, choices, stop sequences, metrics); only the data source is replaced by JSON Lines files written
from ``HARNESS_DATA`` in lm-eval's record schema. GSM8K's few-shot examples are the first five of the training split
for every question (``first_n``; lm-eval's default draws them at random per question), so that both tools face
prompts sharing one few-shot prefix, as the harness's own GSM8K does.

The same lm-eval prompts go to our backends as two messages (the few-shot part, then the question) in the ``raw``
chat format: the text is lm-eval's, byte for byte, and the split marks what consecutive questions share.
"""
from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

LETTERS = "ABCD"


def _lmeval_tasks_dir() -> Path:
    import lm_eval.tasks

    return Path(lm_eval.tasks.__file__).parent


def write_tasks(root: Path, data: Path, subjects: list[str]) -> tuple[list[str], str]:
    """Task configs (and their JSONL data) under ``root``: one ``local_mmlu_<subject>`` per subject and
    ``local_gsm8k``. Returns (MMLU task names, GSM8K task name)."""
    root.mkdir(parents=True, exist_ok=True)
    tasks = _lmeval_tasks_dir()
    names = []
    for subject in subjects:
        files = {}
        for split in ("test", "dev"):
            out = root / f"mmlu_{subject}_{split}.jsonl"
            with open(data / "general" / "mmlu" / split / f"{subject}_{split}.csv", newline="", encoding="utf-8") as f, \
                    open(out, "w", encoding="utf-8") as w:
                for row in csv.reader(f):
                    if row:
                        w.write(json.dumps({"question": row[0], "subject": subject, "choices": row[1:5],
                                            "answer": LETTERS.index(row[5].strip())}) + "\n")
            files[split] = str(out)
        name = f"local_mmlu_{subject}"
        pretty = subject.replace("_", " ")
        (root / f"{name}.yaml").write_text(
            f"include: {tasks / 'mmlu' / 'default' / '_default_template_yaml'}\n"
            f"task: {name}\ndataset_path: json\ndataset_name: null\n"
            f"dataset_kwargs:\n  data_files:\n    test: {files['test']}\n    dev: {files['dev']}\n"
            f"description: {json.dumps(f'The following are multiple choice questions (with answers) about {pretty}.')[:-1]}"
            '\\n\\n"\n', encoding="utf-8")  # lm-eval's subject configs end the description with a blank line
        names.append(name)
    gsm = data / "general" / "gsm8k"
    (root / "local_gsm8k.yaml").write_text(
        f"include: {tasks / 'gsm8k' / 'gsm8k.yaml'}\ntask: local_gsm8k\ntag: []\ndataset_path: json\n"
        f"dataset_name: null\ndataset_kwargs:\n  data_files:\n    train: {gsm / 'train.jsonl'}\n"
        f"    test: {gsm / 'test.jsonl'}\nfewshot_config:\n  sampler: first_n\n", encoding="utf-8")
    return names, "local_gsm8k"


def lm(folder: Path, batch_size: int):
    """lm-eval's HFLM on the converted model folder, float32 on CPU (as our hf: runs it)."""
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=str(folder), batch_size=batch_size, dtype="float32", device="cpu")


def evaluate(model, root: Path, tasks: list[str], limit: int, shots: int = 5) -> tuple[dict, float]:
    """lm-eval's simple_evaluate over the local configs, 5-shot; (results with samples, seconds)."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(root), include_defaults=False)
    started = time.perf_counter()
    results = simple_evaluate(model=model, tasks=tasks, task_manager=manager, limit=limit, log_samples=True,
                              bootstrap_iters=0, batch_size=model.batch_size, num_fewshot=shots)
    return results, time.perf_counter() - started


@dataclass
class Question:
    task: str
    doc_id: int
    context: str  # lm-eval's prompt
    split_at: int  # where the question's own text begins (before it: description and shots)
    options: list[str]  # the continuations lm-eval scores (" A", " B", ...)
    loglik: list[float]  # lm-eval's log-likelihood of each
    gold: int

    @property
    def choice(self) -> int:
        return max(range(len(self.loglik)), key=lambda i: self.loglik[i])

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "user", "content": self.context[: self.split_at]},
                {"role": "user", "content": self.context[self.split_at:]}]


def _samples(results: dict, task: str) -> list[dict]:
    """One sample per document (lm-eval repeats a sample for each of a task's filters)."""
    return list({s["doc_id"]: s for s in results["samples"][task]}.values())


def mmlu_questions(results: dict, tasks: list[str]) -> list[Question]:
    out = []
    for task in tasks:
        for s in sorted(_samples(results, task), key=lambda s: s["doc_id"]):
            doc = s["doc"]
            own = f"{doc['question'].strip()}\n" + "".join(f"{x}. {c}\n" for x, c in zip(LETTERS, doc["choices"])) \
                + "Answer:"
            context = s["arguments"][0][0]
            assert context.endswith(own), "lm-eval's MMLU prompt changed shape"
            out.append(Question(task, s["doc_id"], context, len(context) - len(own),
                                [a[1] for a in s["arguments"]], [float(r[0][0]) for r in s["resps"]],
                                int(doc["answer"])))
    return out


def gsm8k_prompts(results: dict, task: str) -> list[tuple[list[dict[str, str]], dict]]:
    """(messages, lm-eval's generation settings) per question: the few-shot part, then the question."""
    out = []
    for s in sorted(_samples(results, task), key=lambda s: s["doc_id"]):
        context, gen = s["arguments"][0]
        own = f"Question: {s['doc']['question']}\nAnswer:"
        assert context.endswith(own), "lm-eval's GSM8K prompt changed shape"
        cut = len(context) - len(own)
        out.append(([{"role": "user", "content": context[:cut]}, {"role": "user", "content": context[cut:]}], gen))
    return out


def gsm8k_replies(results: dict, task: str) -> list[str]:
    """lm-eval's generated text per question (before its answer filters), in the order of gsm8k_prompts."""
    return [s["resps"][0][0] for s in sorted(_samples(results, task), key=lambda s: s["doc_id"])]
