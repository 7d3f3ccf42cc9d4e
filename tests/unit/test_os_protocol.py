"""OS task protocol: action parsing (upstream's rules), terminal cleaning, truncation, opening conversation."""
from pathlib import Path

import pytest

from envs.os_interaction.protocol import Action, Prompts, clean_terminal, parse_action

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "os"


@pytest.mark.parametrize("reply, expected", [
    ("Think: x\n\nAct: bash\n\n```bash\nls /etc\n```", Action("bash", "ls /etc")),
    ("Act: bash\n```bash\necho a\n```\nand\n```bash\necho b\n```", Action("bash", "echo a\n\necho b")),
    ("Act: bash\nno block", Action("bash", "")),
    ("Think: done\n\nAct: finish", Action("finish")),
    ("Act: answer(220)", Action("answer", "220")),
    ("Act: answer((a) b)", Action("answer", "(a) b")),
    ("Act: ANSWER( 7 )", Action("answer", " 7 ")),
    # the last Act line wins
    ("Act: bash\n```bash\nls\n```\nAct: answer(3)", Action("answer", "3")),
    ("Act: answer(3)\nAct: finish", Action("finish")),
    # an answer without parentheses is skipped and an earlier Act line counts
    ("Act: finish\nAct: answer 3", Action("finish")),
    ("Act: answer 3", Action(None)),
    ("I think the answer is 3.", Action(None)),
    ("Act: jump", Action(None)),
    # the answer ends at the line end, as upstream's regex does
    ("Act: answer(a\nb)", Action(None)),
])
def test_parse_action(reply, expected):
    assert parse_action(reply) == expected


def test_clean_terminal_removes_escapes_and_carriage_returns():
    raw = "\x1b]0;root@abc: /\x07\x1b[01;32mgreen\x1b[0m\r\nline2\r\n10%\r50%\r100%\r\n\x1b[?2004l"
    assert clean_terminal(raw) == "green\nline2\n100%\n"


def test_prompts_opening_and_observation():
    p = Prompts(FIXTURE)
    msgs = p.opening("count things")
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant", "user"]
    assert msgs[-1]["content"].endswith("My problem is:\n\ncount things")
    assert p.round_limit == 8
    assert p.observation("") == "The output of the OS is empty."
    assert p.observation("hi") == "The output of the OS:\n\nhi"
    assert p.observation("x" * 800) == "The output of the OS:\n\n" + "x" * 800
    long = p.observation("y" * 801)
    assert long == "The output of the OS:\n\n" + "y" * 780 + "\n[truncated because the output is too long]"


def test_the_time_limit_notice_survives_truncation():
    p = Prompts(FIXTURE)
    notice = "\n[the command did not finish within 30 seconds and was interrupted]"
    assert p.observation("", notice) == "The output of the OS:\n\n" + notice
    assert p.observation("z" * 801, notice) == ("The output of the OS:\n\n" + "z" * 780
                                                + "\n[truncated because the output is too long]" + notice)
