"""The paper's Table 4 and its normalizers W_t (PAPER.md)."""
from __future__ import annotations

CATEGORY_TASKS = {
    "held_in": ("alfworld", "webshop", "mind2web", "kg", "os", "db"),
    "held_out": ("sciworld", "miniwob", "webarena", "hotpotqa", "rewoo", "dcg"),
    "general": ("mmlu", "humaneval", "gsm8k", "mt_bench"),
}
TASK_CATEGORY = {t: c for c, ts in CATEGORY_TASKS.items() for t in ts}

TASK_LABELS = {"alfworld": "ALFWorld", "webshop": "WebShop", "mind2web": "Mind2Web", "kg": "KG", "os": "OS",
               "db": "DB", "sciworld": "SciWorld", "miniwob": "MiniWoB++", "webarena": "WebArena",
               "hotpotqa": "HotpotQA", "rewoo": "ReWOO", "dcg": "DCG", "mmlu": "MMLU", "humaneval": "HumanEval",
               "gsm8k": "GSM8K", "mt_bench": "MT-Bench"}

MODELS = ("GPT-3.5", "GPT-4", "Llama-2-chat-7B", "Llama-2-chat-13B", "Llama-2-chat-70B", "AgentLM-7B",
          "AgentLM-13B", "AgentLM-70B")
BASELINES = MODELS[:5]

# task -> scores of MODELS, in the paper's units (percent; MT-Bench 1-10)
TABLE4 = {
    "alfworld": (14.0, 78.0, 2.0, 2.0, 6.0, 84.0, 76.0, 86.0),
    "webshop": (67.2, 58.6, 4.4, 7.2, 1.5, 63.6, 70.8, 64.9),
    "mind2web": (15.7, 22.6, 3.7, 2.3, 0.2, 6.4, 8.4, 13.5),
    "kg": (27.2, 52.1, 0.0, 0.0, 0.0, 18.1, 26.8, 47.0),
    "os": (32.6, 36.8, 8.3, 9.0, 9.0, 17.4, 18.1, 21.5),
    "db": (15.0, 33.7, 0.3, 1.3, 9.3, 30.6, 33.7, 37.7),
    "sciworld": (21.2, 36.4, 5.9, 6.4, 7.9, 13.7, 18.0, 20.8),
    "miniwob": (66.7, 69.4, 0.0, 19.6, 0.7, 28.9, 31.1, 60.7),
    "webarena": (4.56, 6.28, 1.23, 1.11, 0.62, 0.74, 1.60, 3.81),
    "hotpotqa": (37.4, 52.1, 22.6, 25.2, 37.5, 22.3, 29.6, 41.6),
    "rewoo": (71.0, 79.7, 48.3, 48.7, 55.1, 50.9, 55.7, 66.0),
    "dcg": (24.5, 50.0, 0.0, 0.0, 5.0, 7.0, 2.5, 23.5),
    "mmlu": (70.0, 86.4, 48.0, 54.3, 62.1, 48.7, 53.6, 59.5),
    "humaneval": (48.1, 67.0, 13.9, 18.4, 30.8, 15.4, 14.8, 28.7),
    "gsm8k": (57.1, 87.1, 27.7, 37.5, 54.7, 24.6, 32.4, 59.7),
    "mt_bench": (7.94, 8.99, 6.26, 6.65, 6.85, 6.11, 6.57, 7.26),
}

# Digits the paper prints per task (one elsewhere).
DECIMALS = {"webarena": 2, "mt_bench": 2}

# The overall rows as printed in the paper (two decimals).
PAPER_OVERALL = {
    "held_in": (1.59, 2.75, 0.19, 0.20, 0.27, 1.96, 2.11, 2.55),
    "held_out": (1.49, 2.13, 0.38, 0.49, 0.51, 0.67, 0.78, 1.40),
    "general": (1.15, 1.53, 0.63, 0.74, 0.95, 0.62, 0.69, 0.96),
}


def weight(task: str) -> float | None:
    """W_t: the unrounded mean of the five baseline models on the task."""
    row = TABLE4.get(task)
    return None if row is None else sum(row[:5]) / 5


def paper_row(model: str) -> dict[str, float]:
    i = MODELS.index(model)
    return {task: scores[i] for task, scores in TABLE4.items()}
