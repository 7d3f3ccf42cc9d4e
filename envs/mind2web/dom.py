"""MindAct's page representation, as AgentBench.old feeds it to the model (its ``data_utils/dom_utils.py``).

Mind2Web's ``cleaned_html`` is an XML tree whose elements carry ``backend_node_id`` and whose text sits in ``<text>``
elements. For one round of multiple choice the tree is cut down around the round's candidate elements (each keeps its
ancestors, up to 50 descendants within six levels, and three non-text siblings on either side), then every element is
rewritten as ``<tag id=k meta>`` where ``k`` numbers the candidates in document order and ``meta`` summarises salient
attributes. The choice texts are the first ten words of each candidate's own rendering.

This is a re-implementation of that behaviour (checked byte for byte against upstream's output on the test fixtures),
quirks included: an element without ``backend_node_id`` counts as kept whenever any kept relative lacks one too (a
comment among a candidate's siblings or descendants is such a relative), the tail text of removed elements goes
with them, and a candidate's rendering includes its tail.
"""
from __future__ import annotations

import copy
import re

from lxml import etree

ID = "backend_node_id"
#: attributes summarised into ``meta``, in this order
META_ATTRIBUTES = ("role", "aria_role", "type", "alt", "aria_description", "aria_label", "label", "title", "name",
                   "text_value", "value", "placeholder", "input_checked", "input_value", "option_selected", "class")
_UNINFORMATIVE = frozenset({"hidden", "none", "presentation", "null", "undefined"})
_ENTITIES = (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&nbsp;", " "), ("&ndash;", "-"),
             ("&rsquo;", "'"), ("&lsquo;", "'"), ("&ldquo;", '"'), ("&rdquo;", '"'), ("&#39;", "'"), ("&#40;", "("),
             ("&#41;", ")"))
_TEXT_ELEMENT = re.compile(r"<text>(.*?)</text>")
_SPACES = re.compile(r"\s+")

DESCENDANT_LEVELS = 6  # upstream's max_depth=5 reaches six levels below the candidate
MAX_DESCENDANTS = 50
SIBLING_WINDOW = 3
META_WORDS_PER_VALUE = 5
META_WORDS = 20
TEXT_WORDS = 20
CHOICE_WORDS = 10


def parse(html: str):
    return etree.fromstring(html)


def _is_element(node) -> bool:
    return isinstance(node.tag, str)  # not a comment or processing instruction


def _node_id(node) -> str:
    """The backend id, "" when there is none (a comment's too: upstream reads ``attrib``, empty for comments)."""
    return node.get(ID, "") if _is_element(node) else ""


def _below(element, level: int, out: list) -> None:
    """Descendants in document order, down to DESCENDANT_LEVELS levels below the starting element."""
    if level > DESCENDANT_LEVELS:
        return
    for child in element:
        out.append(child)
        _below(child, level + 1, out)


def _has_text_child(element) -> bool:
    return any(child.tag == "text" for child in element)


def _first_by_id(tree, wanted: set[str]) -> dict:
    """The first element (document order) carrying each wanted backend id."""
    found: dict = {}
    for element in tree.iter():
        bid = element.get(ID) if _is_element(element) else None
        if bid in wanted and bid not in found:
            found[bid] = element
    return found


def _ids_to_keep(tree, candidates) -> set[str]:
    keep: set[str] = set()
    nodes = _first_by_id(tree, set(candidates))
    for cid in candidates:
        node = nodes[cid]  # KeyError: a candidate that is not on the page
        keep.add(node.get(ID))
        keep.update(_node_id(a) for a in node.iterancestors())
        below: list = []
        _below(node, 1, below)
        keep.update([_node_id(d) for d in below][:MAX_DESCENDANTS])
        parent = node.getparent()
        if parent is not None:
            row = [s for s in parent if s.tag != "text"]
            at = row.index(node)
            keep.update(_node_id(s) for s in row[max(0, at - SIBLING_WINDOW): at + SIBLING_WINDOW + 1])
    return keep


def _kept(node, keep: set[str]) -> bool:
    """An element stays when its id is kept; a text element when its parent's is."""
    return _node_id(node.getparent() if node.tag == "text" else node) in keep


def _drop_unkept_subtrees(root, keep: set[str]) -> None:
    """Remove every element (but the root) that would be removed, with its subtree, before the per-node pass.

    Upstream visits all elements children-first and removes those not kept; what it does inside a subtree that is
    removed afterwards never shows, so removing the top-most such subtrees first gives the same tree, faster."""
    stack = [root]
    while stack:
        element = stack.pop()
        for child in list(element):
            if not _is_element(child):
                continue
            if _kept(child, keep):
                stack.append(child)
            else:
                element.remove(child)


def _splice_out(element) -> None:
    """Replace an element by its children (at most one)."""
    for child in element.getchildren():
        element.addprevious(child)
    element.getparent().remove(element)


def prune(tree, candidates):
    """A copy of the tree cut down around ``candidates`` (backend ids); only candidates keep their ids."""
    keep = _ids_to_keep(tree, candidates)
    wanted = set(candidates)
    pruned = copy.deepcopy(tree)
    _drop_unkept_subtrees(pruned, keep)
    for node in reversed(pruned.xpath("//*")):  # children before their parents
        is_text = node.tag == "text"
        parent = node.getparent()
        if not _kept(node, keep) and parent is not None:
            parent.remove(node)
            continue
        if is_text or _node_id(node) not in wanted:
            node.attrib.pop(ID, None)
        if (not is_text and len(node.attrib) == 0 and parent is not None and not _has_text_child(node)
                and len(node) <= 1):
            _splice_out(node)
    return pruned


def _summarise_attributes(element) -> None:
    """Replace the attributes by ``id`` (the renumbered backend id) and ``meta`` (salient values, lower case)."""
    seen: set[str] = set()
    words: list[str] = []
    for name in META_ATTRIBUTES:
        raw = element.attrib.get(name)
        if raw is None:
            continue
        value = raw.lower()
        if value in _UNINFORMATIVE or value.startswith("http"):
            continue
        value = " ".join([w for w in value.split() if len(w) < 15][:META_WORDS_PER_VALUE])
        if value and value not in seen:
            seen.add(value)
            words.extend(value.split())
    uid = element.attrib.get(ID, "")
    element.attrib.clear()
    if uid:
        element.attrib["id"] = uid
    if words:
        element.attrib["meta"] = " ".join(words[:META_WORDS])


def render(element, numbering: dict[str, int], brackets: bool = True) -> str:
    """Text rendering of ``element`` (with its tail); candidate ids are renumbered through ``numbering``."""
    tree = copy.deepcopy(element)
    for node in tree.xpath("//*"):
        if node.tag == "text":
            node.text = " ".join(node.text.split()[:TEXT_WORDS])
            continue
        if ID in node.attrib:
            numbering.setdefault(node.attrib[ID], len(numbering))
            node.attrib[ID] = str(numbering[node.attrib[ID]])
        _summarise_attributes(node)
    text = etree.tostring(tree, encoding="unicode")
    text = text.replace('"', " ").replace("meta= ", "").replace("id= ", "id=").replace(" >", ">")
    text = _TEXT_ELEMENT.sub(r"\1", text)
    if not brackets:
        text = text.replace("/>", "$/$>")
        text = re.sub(r"</(.+?)>", r")", text)
        text = re.sub(r"<(.+?)>", r"(\1", text)
        text = text.replace("$/$", ")")
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return _SPACES.sub(" ", text).strip()


def page_and_choices(page, candidates, brackets: bool = True) -> tuple[str, list[tuple[str, str]]]:
    """The pruned page's rendering and the choices: (backend id, first ten words of its rendering) in page order.

    ``page`` is the cleaned HTML or its parsed tree (left unchanged)."""
    pruned = prune(parse(page) if isinstance(page, str) else page, candidates)
    numbering: dict[str, int] = {}
    page = render(pruned, numbering, brackets)
    choices = []
    for node in pruned.xpath("//*[@backend_node_id]"):
        words = render(node, numbering, brackets).split()[:CHOICE_WORDS]
        choices.append((node.attrib[ID], " ".join(words)))
    return page, choices
