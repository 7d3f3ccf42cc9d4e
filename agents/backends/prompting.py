"""What ``hf:`` and ``vllm:`` share: option parsing, the prompt as token ids (format, truncation), option scoring inputs.

The prompt is rendered in the chat format (:mod:`agents.templates`) and left-truncated to ``context_length -
max_new_tokens`` tokens, as TGI did for the paper (``truncate=false``: an overlong prompt raises ContextLimitError,
which ends the episode with agent_context_limit).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from harness import ContextLimitError, OptionScores, UsageError  # noqa: F401  (OptionScores: re-exported)

from ..templates import FORMATS, default_system, render


def flag(options: dict[str, Any], name: str, default: bool) -> bool:
    value = options.get(name)
    if value is None or value == "":
        return default
    text = str(value).lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"option {name}={value!r}: use true or false")


def number(options: dict[str, Any], name: str, default, kind=int, minimum=None):
    value = options.get(name)
    if value is None or value == "":
        return default
    try:
        out = kind(value)
    except (TypeError, ValueError):
        raise UsageError(f"option {name}={value!r}: expected a {kind.__name__}") from None
    if minimum is not None and out < minimum:
        raise UsageError(f"option {name}={value!r}: must be at least {minimum}")
    return out


def chat_format_option(options: dict[str, Any]) -> str:
    value = options.get("chat_format") or "auto"
    if value not in FORMATS:
        raise UsageError(f"option chat_format={value!r}: use one of {', '.join(FORMATS)}")
    return value


def system_option(options: dict[str, Any]) -> str | None:
    """The ``system=`` option: None when not given (the format's default applies), "" for ``none``."""
    value = options.get("system")
    if value is None:
        return None
    return "" if value in ("", "none") else value


@dataclass
class Prompter:
    """Turns messages into prompt token ids for one tokenizer and chat format."""

    tokenizer: Any
    chat_format: str  # resolved (never auto)
    system: str | None  # the system= option (None: the format's default)
    context_length: int
    truncate: bool

    def __post_init__(self) -> None:
        self.system_prompt = default_system(self.chat_format) if self.system is None else (self.system or None)

    def text(self, messages: list[dict[str, str]]) -> str:
        return render(messages, self.chat_format, self.tokenizer, self.system_prompt)

    def encode(self, text: str) -> list[int]:
        # a chat template writes its own special tokens; the other formats let the tokenizer add BOS as it does
        return list(self.tokenizer(text, add_special_tokens=self.chat_format != "tokenizer")["input_ids"])

    def ids(self, messages: list[dict[str, str]], max_new_tokens: int) -> tuple[list[int], bool]:
        """(prompt ids, truncated?). Raises ContextLimitError when the prompt cannot fit and truncate is off."""
        ids = self.encode(self.text(messages))
        budget = self.context_length - max_new_tokens
        if len(ids) <= budget:
            return ids, False
        if not self.truncate or budget <= 0:
            raise ContextLimitError(f"prompt of {len(ids)} tokens exceeds the context of {self.context_length} "
                                    f"minus {max_new_tokens} new tokens")
        return ids[-budget:], True

    def option_ids(self, options: Sequence[str]) -> list[list[int]]:
        """Each option as the tokens that continue the prompt (tokenized on its own, no special tokens)."""
        out = [list(self.tokenizer(o, add_special_tokens=False)["input_ids"]) for o in options]
        if any(not o for o in out):
            raise ValueError(f"an option encodes to no tokens: {list(options)!r}")
        return out

    def history_length(self, messages: list[dict[str, str]], ids: list[int]) -> int:
        """How many leading tokens of ``ids`` depend only on the conversation before its last message: the part that
        consecutive questions or turns share (MMLU's few-shot prefix). A function of this request alone."""
        if len(messages) < 2:
            return 0
        stub = messages[:-1] + [{"role": messages[-1]["role"], "content": ""}]
        other = self.encode(self.text(stub))
        n = 0
        for a, b in zip(ids, other):
            if a != b:
                break
            n += 1
        return max(0, min(n, len(ids) - 1))

    def content_length(self, messages: list[dict[str, str]], ids: list[int]) -> int:
        """How many leading tokens of ``ids`` end before the template closes the last message, less two (where a
        longer message would tokenize differently): what the next request shares when a single message grows turn
        by turn (ReAct prompts such as HotpotQA's keep the whole trajectory in one message)."""
        stub = messages[:-1] + [{"role": messages[-1]["role"], "content": ""}]
        other = self.encode(self.text(stub))
        head = 0
        for a, b in zip(ids, other):
            if a != b:
                break
            head += 1
        return max(0, len(ids) - (len(other) - head) - 2)


def common_prefix(seqs: Sequence[Sequence[int]]) -> list[int]:
    first = list(seqs[0])
    n = len(first)
    for s in seqs[1:]:
        k = 0
        while k < min(n, len(s)) and s[k] == first[k]:
            k += 1
        n = k
    return first[:n]
