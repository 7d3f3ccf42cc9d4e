"""The accessibility-tree observation as upstream renders it (``browser_env/processors.py``), from raw CDP data.

Inputs, fetched by ``browser.Session.snapshot``: ``DOMSnapshot.captureSnapshot`` (DOM rects and paint order, no
computed styles), ``Accessibility.getFullAXTree``, the window's scroll offsets and screen size, and the open tabs'
titles. The rendering, step by step as upstream does it:

1. layout bounds are rescaled so that the first layout box is as wide as the viewport;
2. every laid-out DOM node gets the union of its own box and its laid-out descendants' boxes (a node without a layout
   box stops the descent: its subtree gets none);
3. each accessibility node takes the boxes of its DOM node; one whose DOM node has no layout box borrows them from its
   nearest ancestor that has a union box;
4. only nodes whose union box meets the window (``[scroll offset, scroll offset + screen size]``) stay;
5. a depth-first walk from the first remaining node prints ``[nodeId] role 'name' prop: value ...`` lines, indented
   by tabs, skipping nameless structural nodes (their children move up a level);
6. a StaticText line whose text already appears in one of the three lines kept before it is dropped;
7. the tab line (``Tab 0 (current): title | Tab 1: title``) and a blank line go on top.

The node ids are Chromium's accessibility node ids; actions address elements by them.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

IGNORED_PROPERTIES = ("focusable", "editable", "readonly", "level", "settable", "multiline", "invalid")
#: roles whose nameless, property-less nodes are left out (their children move up a level)
SKIPPED_NAMELESS = ("generic", "img", "list", "strong", "paragraph", "banner", "navigation", "Section", "LabelText",
                    "Legend", "listitem")
_STATIC = re.compile(r"\[\d+\] StaticText '([^']+)'")


@dataclass
class Window:
    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def meets(self, box: list[float]) -> bool:
        x, y, w, h = box
        return x < self.right and x + w >= self.left and y < self.bottom and y + h >= self.top


@dataclass
class Rendered:
    text: str  # tabs line, blank line, tree
    tree: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id -> backend_id, bound, union_bound, text
    window: Window | None = None

    def element_center(self, node_id: str, viewport: dict[str, int]) -> tuple[float, float]:
        """The element's centre as a fraction of the viewport (upstream ``get_element_center``); KeyError when the
        id is not on the page, TypeError when the element has no box."""
        x, y, w, h = self.nodes[node_id]["bound"]
        cx = (x - self.window.left) + w / 2
        cy = (y - self.window.top) + h / 2
        return cx / viewport["width"], cy / viewport["height"]


def tabs_line(titles: list[str] | None, current: int, count: int) -> str:
    """``titles`` None: a title could not be read (upstream then prints a literal placeholder per tab)."""
    if titles is None:
        return " | ".join("Tab {idx}" for _ in range(count))
    return " | ".join(f"Tab {i} (current): {t}" if i == current else f"Tab {i}: {t}" for i, t in enumerate(titles))


def _valid(box: list[float] | None) -> bool:
    return box is not None and not math.isclose(box[2], 0, abs_tol=1e-8) and not math.isclose(box[3], 0,
                                                                                            abs_tol=1e-8)


def layout_boxes(snapshot: dict[str, Any], viewport_width: float) -> tuple[list, list, list, dict[int, int]]:
    """(bounds rescaled, union bounds, offset rects, node index -> first layout index) of the main document."""
    doc = snapshot["documents"][0]
    layout = doc["layout"]
    first = layout["bounds"][0]
    n = first[2] / viewport_width
    bounds = [[v / n for v in b] for b in layout["bounds"]]
    cursor: dict[int, int] = {}
    for i, node in enumerate(layout["nodeIndex"]):
        cursor.setdefault(node, i)
    parents = doc["nodes"]["parentIndex"]
    children: dict[int, list[int]] = {}
    for idx, parent in enumerate(parents):
        if parent != -1:
            children.setdefault(parent, []).append(idx)
    union: list[list[float] | None] = [None] * len(bounds)

    def unite(idx: int) -> list[float] | None:
        if idx not in cursor:
            return None
        c = cursor[idx]
        boxes = [list(bounds[c])]
        for child in children.get(idx, ()):
            got = unite(child)
            boxes.append(list(got) if got else None)
        boxes = [[b[0], b[1], b[0] + b[2], b[1] + b[3]] for b in boxes if _valid(b)]
        if not boxes:
            box = [0.0, 0.0, 0.0, 0.0]
        else:
            left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
            right, bottom = max(b[2] for b in boxes), max(b[3] for b in boxes)
            box = [left, top, right - left, bottom - top]
        union[c] = box
        return box

    unite(0)
    return bounds, union, layout["offsetRects"], cursor


def attach_boxes(snapshot: dict[str, Any], ax_nodes: list[dict[str, Any]], viewport_width: float) -> list[dict]:
    """The accessibility nodes (first of each id) with ``bound``, ``union_bound`` and ``offsetrect_bound``."""
    seen: set[str] = set()
    tree = []
    for node in ax_nodes:
        if node["nodeId"] not in seen:
            seen.add(node["nodeId"])
            tree.append(dict(node))
    bounds, union, offsets, cursor = layout_boxes(snapshot, viewport_width)
    backend_ids = snapshot["documents"][0]["nodes"]["backendNodeId"]
    by_backend: dict[int, tuple] = {}
    for idx, backend in enumerate(backend_ids):
        if idx in cursor:
            c = cursor[idx]
            by_backend[backend] = (bounds[c], union[c], offsets[c])
    parent_of: dict[str, str] = {}
    refine: list[str] = []
    for node in tree:
        if "parentId" in node:
            parent_of[node["nodeId"]] = node["parentId"]
        if "backendDOMNodeId" not in node:
            node["bound"] = node["union_bound"] = node["offsetrect_bound"] = None
        elif node["backendDOMNodeId"] not in by_backend:
            refine.append(node["nodeId"])
        else:
            node["bound"], node["union_bound"], node["offsetrect_bound"] = by_backend[node["backendDOMNodeId"]]
    position = {node["nodeId"]: i for i, node in reversed(list(enumerate(tree)))}
    for node_id in refine:
        child, found = node_id, None
        while child in parent_of:
            parent = parent_of[child]
            found = position[parent]
            child = parent
            if tree[found]["union_bound"] is not None:
                break
        target = tree[position[node_id]]
        src = tree[found] if found is not None else {}
        for key in ("bound", "union_bound", "offsetrect_bound"):
            target[key] = src.get(key)
    return tree


def in_window(tree: list[dict], window: Window) -> list[dict]:
    return [node for node in tree if node["union_bound"] and window.meets(node["union_bound"])]


def render_tree(tree: list[dict]) -> tuple[str, dict[str, dict[str, Any]]]:
    """Upstream's ``parse_accessibility_tree``: the indented text and the info of every printed node."""
    position = {node["nodeId"]: i for i, node in enumerate(tree)}
    nodes: dict[str, dict[str, Any]] = {}

    def walk(idx: int, node_id: str, depth: int) -> str:
        out = ""
        node = tree[idx]
        valid = True
        try:
            role = node["role"]["value"]
            name = node["name"]["value"]
            line = f"[{node_id}] {role} {repr(name)}"
            props = []
            for prop in node.get("properties", []):
                try:
                    if prop["name"] in IGNORED_PROPERTIES:
                        continue
                    props.append(f'{prop["name"]}: {prop["value"]["value"]}')
                except KeyError:
                    pass
            if props:
                line += " " + " ".join(props)
            if not line.strip():
                valid = False
            if not name.strip():
                if not props:
                    if role in SKIPPED_NAMELESS:
                        valid = False
                elif role == "listitem":
                    valid = False
            if valid:
                out += "\t" * depth + line
                nodes[node_id] = {"backend_id": node["backendDOMNodeId"], "bound": node["bound"],
                                  "union_bound": node["union_bound"], "offsetrect_bound": node["offsetrect_bound"],
                                  "text": line}
        except Exception:
            valid = False  # a node without a role value, a name or a DOM node: its line (if printed) stays
        for child in node.get("childIds", []):
            if child not in position:
                continue
            got = walk(position[child], child, depth + 1 if valid else depth)
            if got.strip():
                if out.strip():
                    out += "\n"
                out += got
        return out

    return walk(0, tree[0]["nodeId"], 0), nodes


def drop_repeated_text(tree_text: str) -> str:
    """Upstream's ``clean_accesibility_tree``: a StaticText line survives only with a quoted text not already in
    one of the three lines kept before it."""
    kept: list[str] = []
    for line in tree_text.split("\n"):
        if "statictext" in line.lower():
            found = _STATIC.search(line)
            if found and all(found.group(1) not in prev for prev in kept[-3:]):
                kept.append(line)
        else:
            kept.append(line)
    return "\n".join(kept)


def render(raw: dict[str, Any], viewport: dict[str, int]) -> Rendered:
    """The observation text from one ``Session.snapshot`` (``raw``: snapshot, ax_nodes, scroll_x, scroll_y,
    screen_width, screen_height, titles, current, tab_count)."""
    window = Window(raw["scroll_x"], raw["scroll_y"], raw["screen_width"], raw["screen_height"])
    tree = attach_boxes(raw["snapshot"], raw["ax_nodes"], viewport["width"])
    tree = in_window(tree, window)
    text, nodes = render_tree(tree) if tree else ("", {})
    text = drop_repeated_text(text)
    tabs = tabs_line(raw["titles"], raw["current"], raw["tab_count"])
    return Rendered(text=f"{tabs}\n\n{text}", tree=text, nodes=nodes, window=window)
