"""A synthetic results folder of the size of a full run (about 20,000 episodes over the paper's 16 tasks).

Records have the shape the runner writes (opening conversation shared by a task's episodes, a few model turns and
observations, statuses, rewards, facts, metrics, usage, timings, errors), generated from a fixed seed so that tests
are reproducible. Texts are drawn from a pool of made-up sentences: the sizes are realistic, the words are not.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from harness.identity import config_hash

#: episodes per task of one full run (the paper's splits; MMLU fills the total up to 20,000)
SIZES = {"os": 144, "db": 300, "kg": 150, "alfworld": 50, "webshop": 200, "mind2web": 1173, "sciworld": 270,
         "miniwob": 460, "webarena": 812, "hotpotqa": 300, "rewoo": 250, "dcg": 40, "humaneval": 164, "gsm8k": 1319,
         "mt_bench": 80}
SIZES["mmlu"] = 20_000 - sum(SIZES.values())
SPLITS = {"os": "std", "db": "std", "kg": "std", "alfworld": "std", "webshop": "std", "mind2web": "test",
          "sciworld": "test", "miniwob": "test", "webarena": "test", "hotpotqa": "test", "rewoo": "test", "dcg": "std",
          "mmlu": "test", "humaneval": "test", "gsm8k": "test", "mt_bench": "test"}
#: (one-shot turns, most model turns) per task
SHAPE = {"os": (4, 8), "db": (2, 15), "kg": (6, 15), "alfworld": (2, 35), "webshop": (2, 10), "mind2web": (2, 1),
         "sciworld": (2, 30), "miniwob": (4, 6), "webarena": (4, 15), "hotpotqa": (4, 10), "rewoo": (0, 3),
         "dcg": (0, 30), "mmlu": (10, 1), "humaneval": (0, 1), "gsm8k": (16, 1), "mt_bench": (0, 2)}
STATUSES = ["completed", "completed", "completed", "task_limit_reached", "agent_invalid_action",
            "agent_validation_failed", "agent_context_limit"]
WORDS = ("the agent runs a command and reads output from shell file directory list query table answer search click "
         "button page item price option select observation action thought plan step result value error count "
         "entity relation graph game card score room kitchen apple drawer open close take put").split()


def _pool(rng: random.Random, n: int = 600) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 22))).capitalize() + "." for _ in range(n)]


def _text(rng: random.Random, pool: list[str], sentences: int) -> str:
    return " ".join(rng.choice(pool) for _ in range(sentences))


def write_run(out: Path, name: str = "synthetic-full", seed: int = 0, sizes: dict[str, int] | None = None,
              model: str = "openai:synthetic-model") -> dict:
    """Write ``out/<name>/<task>/episodes.jsonl`` (+ configs.json, run.json); return the number of episodes, their
    statuses and their bytes."""
    rng = random.Random(seed)
    pool = _pool(rng)
    run_dir = Path(out) / name
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "run.json").write_text(json.dumps({"model": model, "name": name, "judge": None}))
    total = 0
    statuses: Counter = Counter()
    size = 0
    for task, n in (sizes or SIZES).items():
        split = SPLITS.get(task, "test")
        shots, max_turns = SHAPE.get(task, (2, 5))
        config = {"protocol": "2", "model": {"backend": "openai", "model": model.split(":", 1)[-1]}, "overrides": {},
                  "generation": {"max_new_tokens": 512, "temperature": 0.0},
                  "task": {"name": task, "split": split, "env": f"synthetic.{task}", "env_version": "1",
                           "env_kwargs": {}, "data": "synthetic", "endpoints": {}},
                  "agent": {"name": "chat", "options": {}}, "judge": None}
        h = config_hash(config)
        task_dir = run_dir / task
        task_dir.mkdir(exist_ok=True)
        (task_dir / "configs.json").write_text(json.dumps({h: {"config": config, "split_size": max(n, SIZES[task]),
                                                               "first_run": "2024-01-01T00:00:00",
                                                               "last_run": "2024-01-01T00:00:00"}}))
        # the opening every episode of the task shares (per subject for MMLU: 57 variants)
        variants = 57 if task == "mmlu" else 1
        openings = []
        for _ in range(variants):
            opening = [{"role": "user", "content": _text(rng, pool, 25)}, {"role": "assistant", "content": "OK."}]
            for k in range(shots):
                opening.append({"role": "user" if k % 2 == 0 else "assistant", "content": _text(rng, pool, 6)})
            openings.append(opening)
        lines = []
        for i in range(n):
            status = rng.choice(STATUSES)
            if rng.random() < 0.01:
                status = "task_error"
            turns = 1 if max_turns == 1 else rng.randint(1, max_turns)
            messages = list(openings[i % variants]) + [
                {"role": "user", "content": f"Problem {task}-{i}: " + _text(rng, pool, 3)}]
            for t in range(turns):
                messages.append({"role": "assistant", "content": f"Thought: step {t}. " + _text(rng, pool, 2)})
                if t < turns - 1:
                    messages.append({"role": "user", "content": "Observation: " + _text(rng, pool, 4)})
            reward = 0.0 if status == "task_error" else (
                1.0 if status == "completed" and rng.random() < 0.6 else round(rng.random() * 0.5, 3)
                if task in ("kg", "hotpotqa", "sciworld", "webshop", "mind2web", "mt_bench") else 0.0)
            group = {"hotpotqa": "level", "sciworld": "task_name"}.get(task)
            facts = {group: f"group-{i % 5}"} if group else {}
            metrics = {"type": ("SELECT", "INSERT", "UPDATE")[i % 3]} if task == "db" else {}
            if task == "kg":
                metrics = {"f1": reward, "em": float(reward == 1.0), "executable": 1.0}
            if task == "mt_bench":
                facts = {"category": "writing"}
                metrics = {"score": 1 + 9 * reward}
            prompt = sum(len(m["content"]) for m in messages) // 4
            statuses[status] += 1
            lines.append(json.dumps({
                "task": task, "split": split, "index": i, "epoch": 0, "status": status, "reward": reward,
                "facts": facts, "metrics": metrics, "turns": turns, "messages": messages if status != "task_error"
                else messages[: len(openings[0]) + 1],
                "usage": {"prompt_tokens": prompt * turns, "completion_tokens": 40 * turns, "model_calls": turns},
                "timings": {"model": round(0.8 * turns * rng.random() + 0.1, 4),
                            "env": round(0.2 * turns * rng.random(), 4), "total": round(1.2 * turns + rng.random(), 4)},
                "error": "BackendError: HTTP 503 from http://127.0.0.1:8000/v1: overloaded\n  File agents/x.py"
                if status == "task_error" else None,
                "version": "0.2.0", "config_hash": h}, ensure_ascii=False))
        text = "\n".join(lines) + "\n"
        (task_dir / "episodes.jsonl").write_text(text, encoding="utf-8")
        size += len(text.encode())
        total += n
    return {"episodes": total, "statuses": statuses, "bytes": size}
