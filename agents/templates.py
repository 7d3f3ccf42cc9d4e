"""Chat prompt formats for backends that take raw text (transformers, vLLM).

Formats: ``llama-2`` (the Llama-2-chat format with the paper's system prompt, as the paper ran its models),
``tokenizer`` (the model's own chat template), ``plain`` (role-tagged lines, for base models), ``raw`` (the message
contents as they are, for prompts already written out, e.g. lm-evaluation-harness's). Contents are stripped first,
as AgentBench.old does before it builds the prompt (except in ``raw``).

``auto`` (the default of ``hf:`` and ``vllm:``) picks, see :func:`resolve_chat_format`:
1. Llama-2-chat and AgentLM models (by name, or a chat template in the Llama-2 format, with ``<<SYS>>``): ``llama-2``
   with the paper's system prompt, exactly as the paper prompted them;
2. any other model whose tokenizer carries a chat template: ``tokenizer`` (no system prompt unless ``system=`` is
   given: the template's own default applies);
3. a model without a chat template: ``llama-2``, the reproduction default.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

PAPER_SYSTEM_PROMPT = "You are a helpful, respectful and honest assistant."
FORMATS = ("auto", "llama-2", "tokenizer", "plain", "raw")
_LLAMA2_CHAT_NAME = re.compile(r"agent-?lm|llama-?2.*chat", re.I)


def resolve_chat_format(requested: str, names: Iterable[str | None], template: str | None) -> str:
    """The format ``auto`` stands for, given the model's names (folder, config, GGUF name) and its chat template."""
    if requested != "auto":
        return requested
    if any(n and _LLAMA2_CHAT_NAME.search(str(n)) for n in names):
        return "llama-2"
    if template:
        return "llama-2" if "<<SYS>>" in template else "tokenizer"
    return "llama-2"


def default_system(chat_format: str) -> str | None:
    """The system prompt a format adds when the conversation has none: the paper's for llama-2, else none."""
    return PAPER_SYSTEM_PROMPT if chat_format == "llama-2" else None


def llama2_prompt(messages: list[dict[str, str]], system: str | None = PAPER_SYSTEM_PROMPT) -> str:
    """``[INST] <<SYS>>\\n{system}\\n<</SYS>>\\n\\n{user} [/INST] {assistant} </s><s>[INST] {user} [/INST]``

    The BOS of the first turn is left to the tokenizer. A leading system message overrides ``system``.
    """
    msgs = [dict(m) for m in messages]
    if msgs and msgs[0]["role"] == "system":
        system = msgs.pop(0)["content"]
    text = ""
    for i, m in enumerate(msgs):
        content = m["content"].strip()
        if m["role"] == "user":
            if i == 0 and system:
                content = f"<<SYS>>\n{system}\n<</SYS>>\n\n{content}"
            text += ("" if i == 0 else "<s>") + f"[INST] {content} [/INST]"
        else:
            text += f" {content} </s>"
    return text


def render(messages: list[dict[str, str]], chat_format: str, tokenizer: Any = None,
           system: str | None = PAPER_SYSTEM_PROMPT) -> str:
    if chat_format == "llama-2":
        return llama2_prompt(messages, system)
    if chat_format == "tokenizer":
        msgs = [{"role": m["role"], "content": m["content"].strip()} for m in messages]
        if system and (not msgs or msgs[0]["role"] != "system"):
            msgs.insert(0, {"role": "system", "content": system})
        return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    if chat_format == "plain":  # for base models and tests: role-tagged lines
        return "".join(f"{m['role']}: {m['content'].strip()}\n" for m in messages) + "assistant:"
    if chat_format == "raw":  # a prompt already written out: the contents, unchanged
        return "".join(m["content"] for m in messages)
    raise ValueError(f"unknown chat format {chat_format!r}: use {', '.join(FORMATS)}")
