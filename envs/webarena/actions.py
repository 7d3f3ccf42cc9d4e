"""WebArena's id-based action language: pull the action out of a model reply, parse it, compare and describe it.

The grammar is upstream's (``browser_env/actions.py`` ``create_id_based_action`` and the CoT prompt constructor's
``extract_action``): the first text between a pair of the splitter (three backticks) on one line is the action;
``click [id]``, ``hover [id]``, ``type [id] [text] [0|1]`` (Enter after typing unless the flag is 0; no flag
means 1), ``press [key_comb]``, ``scroll [up|down]``, ``goto [url]``, ``new_tab``, ``go_back``, ``go_forward``,
``tab_focus [n]``, ``close_tab``, ``stop [answer]`` (an answer is optional). Anything else is a parsing failure,
which upstream turns into a do-nothing action that the next prompt reports.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

#: key names a ``press`` maps (case-insensitively, per ``+``-separated part) to Playwright's names, as upstream
KEY_NAMES = {name.lower(): name for name in (
    "Backquote", "Minus", "Equal", "Backslash", "Backspace", "Meta", "Tab", "Delete", "Escape", "ArrowDown", "End",
    "Enter", "Home", "Insert", "PageDown", "PageUp", "ArrowRight", "ArrowUp",
    *(f"F{i}" for i in range(1, 13)))}
#: the characters a ``type`` may send: printable ASCII (32-127), code points 129-999 and the newline (upstream's
#: key vocabulary; any other character cannot be typed there)
TYPABLE = frozenset([chr(c) for c in range(32, 128)] + [chr(c) for c in range(129, 1000)] + ["\n"])
ELEMENT_KINDS = ("click", "hover", "type")


class ActionParsingError(ValueError):
    pass


@dataclass
class Action:
    kind: str  # none | click | hover | type | press | scroll | goto | new_tab | go_back | go_forward | tab_focus
    #          | close_tab | stop
    element_id: str = ""
    text: str = ""  # what ``type`` sends, with "\n" for Enter
    key_comb: str = ""
    direction: str = ""
    url: str = ""
    page_number: int = 0
    answer: str = ""
    raw: str = field(default="", compare=False)  # the model reply


def none_action(raw: str = "") -> Action:
    return Action("none", raw=raw)


def stop_action(answer: str, raw: str = "") -> Action:
    return Action("stop", answer=answer, raw=raw)


def extract(reply: str, splitter: str) -> str:
    """The text between the first pair of ``splitter`` on one line (upstream's non-greedy, single-line search)."""
    found = re.search(rf"{splitter}(.*?){splitter}", reply)
    if not found:
        raise ActionParsingError(f"no action between a pair of {splitter} in the reply")
    return found.group(1)


def map_keys(key_comb: str) -> str:
    return "+".join(KEY_NAMES.get(k.lower(), k) for k in key_comb.split("+"))


def parse(action_str: str) -> Action:
    """One id-based action from its text (upstream ``create_id_based_action``)."""
    s = action_str.strip()
    if not s:
        raise ActionParsingError("empty action")
    name = s.split("[")[0].strip() if "[" in s else s.split()[0].strip()

    def arg(pattern: str) -> re.Match[str]:
        found = re.search(pattern, s)
        if not found:
            raise ActionParsingError(f"Invalid {name} action {s}")
        return found

    if name in ("click", "hover"):
        return Action(name, element_id=arg(rf"{name} ?\[(\d+)\]").group(1))
    if name == "type":
        if not (s.endswith("[0]") or s.endswith("[1]")):
            s += " [1]"
        found = arg(r"type ?\[(\d+)\] ?\[(.+)\] ?\[(\d+)\]")
        text = found.group(2) + ("\n" if found.group(3) == "1" else "")
        bad = sorted(set(text) - TYPABLE)
        if bad:
            raise ActionParsingError(f"cannot type the character(s) {''.join(bad)!r}")
        return Action("type", element_id=found.group(1), text=text)
    if name == "press":
        return Action("press", key_comb=map_keys(arg(r"press ?\[(.+)\]").group(1)))
    if name == "scroll":
        return Action("scroll", direction=arg(r"scroll ?\[?(up|down)\]?").group(1))
    if name == "goto":
        return Action("goto", url=arg(r"goto ?\[(.+)\]").group(1))
    if name in ("new_tab", "go_back", "go_forward", "close_tab"):
        return Action(name)
    if name == "tab_focus":
        return Action("tab_focus", page_number=int(arg(r"tab_focus ?\[(\d+)\]").group(1)))
    if name == "stop":
        found = re.search(r"stop ?\[(.+)\]", s)
        return stop_action(found.group(1) if found else "")
    raise ActionParsingError(f"Invalid action {s}")


def equivalent(a: Action, b: Action) -> bool:
    """Upstream's ``is_equivalent`` for the id-based actions (used by the repeated-action early stop)."""
    if a.kind != b.kind:
        return False
    if a.kind in ELEMENT_KINDS:
        return bool(a.element_id and b.element_id and a.element_id == b.element_id)
    if a.kind == "scroll":
        return ("up" if "up" in a.direction else "down") == ("up" if "up" in b.direction else "down")
    if a.kind == "press":
        return a.key_comb == b.key_comb
    if a.kind == "tab_focus":
        return a.page_number == b.page_number
    if a.kind == "goto":
        return a.url == b.url
    if a.kind == "stop":
        return a.answer == b.answer
    return True  # none, new_tab, go_back, go_forward, close_tab


def describe(action: Action, node_texts: dict[str, str], feedback: dict[str, str], splitter: str) -> str:
    """The "previous action" line of the next prompt (upstream ``get_action_description``): the action with the
    accessibility-tree line of its element, or one of the two feedback sentences (``feedback`` from the data)."""
    if action.kind in ELEMENT_KINDS:
        if action.element_id not in node_texts:
            return feedback["missing_element"].format(action=action.kind, element_id=action.element_id)
        line = " ".join(node_texts[action.element_id].split()[1:])
        eid = action.element_id
        if action.kind == "type":
            return f"type [{eid}] [{action.text}] where [{eid}] is {line}"
        return f"{action.kind} [{eid}] where [{eid}] is {line}"
    if action.kind == "none":
        return feedback["unparsed"].format(prediction=action.raw, splitter=splitter)
    return {
        "scroll": lambda: f"scroll [{action.direction}]",
        "press": lambda: f"press [{action.key_comb}]",
        "goto": lambda: f"goto [{action.url}]",
        "tab_focus": lambda: f"page_focus [{action.page_number}]",
        "stop": lambda: f"stop [{action.answer}]",
    }.get(action.kind, lambda: action.kind)()
