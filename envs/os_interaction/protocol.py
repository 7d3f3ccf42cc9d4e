"""The AgentBench.old OS protocol: opening conversation, action parsing, observation text.

Texts come from ``agentbench/prompts/os_interaction.json`` (benchmark data); the parsing rules follow upstream's
``extract_action``: the last ``Act:`` line that names a known action wins, ``answer`` takes the text between the
first ``(`` and the last ``)`` of that line, and ``bash`` takes every fenced ```bash block, joined by a blank line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness import load_prompts

_ACT = re.compile(r"Act:\s*(.+)")
_BASH_BLOCK = re.compile(r"```bash\n(.*?)\n```", re.DOTALL)
# terminal control: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte escapes, and C0 controls
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Action:
    kind: str | None  # "bash" | "finish" | "answer" | None (unparseable)
    content: str | None = None


def parse_action(reply: str) -> Action:
    for act in reversed(_ACT.findall(reply)):
        low = act.lower()
        if low.startswith("bash"):
            return Action("bash", "\n\n".join(_BASH_BLOCK.findall(reply)))
        if low.startswith("finish"):
            return Action("finish")
        if low.startswith("answer"):
            rest = act[6:].strip()
            left, right = rest.find("("), rest.rfind(")")
            if left == -1 or right == -1:
                continue
            return Action("answer", rest[left + 1:right])
    return Action(None)


def clean_terminal(text: str) -> str:
    """Terminal output as plain text: CRLF to LF, escape sequences and control characters removed."""
    text = text.replace("\r\n", "\n")
    # a bare CR (progress bars) rewinds the line: keep what was written last
    text = "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r")
                     for line in text.split("\n"))
    return _ANSI.sub("", text)


class Prompts:
    """The opening conversation and observation templates of the task."""

    def __init__(self, root: Path | None = None) -> None:
        data = load_prompts("os_interaction", root)
        self.conversation = [{"role": "assistant" if m["role"] == "agent" else "user", "content": m["content"]}
                             for m in data["conversation"]]
        t, c = data["templates"], data["constants"]
        self.problem = t["problem"]
        self.observation_tpl = t["observation"]
        self.observation_empty = t["observation_empty"]
        self.suffix = t["output_truncation_suffix"]
        self.limit = int(c["output_truncate_if_longer_than"])
        self.keep = int(c["output_truncate_keep_chars"])
        self.round_limit = int(c["round_limit"])

    def opening(self, description: str) -> list[dict[str, str]]:
        return [dict(m) for m in self.conversation] + [
            {"role": "user", "content": self.problem.format(description=description)}]

    def truncate(self, output: str) -> str:
        return output[:self.keep] + self.suffix if len(output) > self.limit else output

    def observation(self, output: str, tail: str = "") -> str:
        """The observation of ``output``; ``tail`` (our time-limit notice) follows the truncated output, so that a
        long output does not hide that the command was interrupted."""
        output = self.truncate(output) + tail
        return self.observation_tpl.format(output=output) if output else self.observation_empty
