"""The WebShop website as upstream's text environment simulates it (``web_agent_site/envs/web_agent_text_env.py``:
``SimServer``, ``SimBrowser``, ``WebAgentTextEnv`` in ``observation_mode="text"``).

Pages are upstream's own Jinja templates (read from the data folder, rendered with autoescaping as Flask's
``render_template_string`` does) turned into text the way upstream does it with BeautifulSoup (``html.parser``):
text nodes outside ``style/script/head/title/meta`` and comments, stripped, white-space-only nodes that contain a
newline dropped, joined with `` [SEP] `` (``parse_page`` does it in one pass; ``parse_page_bs4`` is the yardstick). The clickables are the page's ``.btn`` buttons and ``.product-link`` links
(lower-cased text) followed by the values of its radio inputs (the product options). The navigation rules, URLs
(upstream decides which page it is on by looking for ``search_results``, ``item_page``, ... in the current URL),
sessions and searches follow upstream; the labels of the buttons and the page sizes are read from upstream's
``engine.py``.
"""
from __future__ import annotations

import ast
import json
import random
import re
from html import unescape
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import UsageError

from .catalogue import Catalogue

COMMIT = "e33a45d7eab2b63cac4d1956da1e6377fca9fcc7"
UPSTREAM = f"upstream/THUDM/AgentTuning/{COMMIT}/AgentBench.old/src/tasks/webshop"
TEMPLATES = ("search_page.html", "results_page.html", "item_page.html", "description_page.html",
             "features_page.html", "review_page.html", "attributes_page.html", "done_page.html")
BASE_URL = "http://127.0.0.1:3000"
_HIDDEN = {"style", "script", "head", "title", "meta", "[document]"}
_ACTION = re.compile(r"(.+)\[(.+)\]")


def upstream_files(data_dir: Path) -> list[Path]:
    root = Path(data_dir) / UPSTREAM / "web_agent_site"
    return [root / "engine" / "engine.py", root / "engine" / "normalize.py"] + [root / "templates" / t
                                                                                 for t in TEMPLATES]


def _module_constants(path: Path) -> dict[str, Any]:
    """Literal module-level assignments of an upstream source file (read with ``ast``; nothing is imported)."""
    out = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def _htmlsafe_json(value: Any) -> Any:
    from markupsafe import Markup

    text = json.dumps(value, sort_keys=True)  # Flask's tojson: sorted keys, ASCII, then made HTML-safe
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(a, b)
    return Markup(text)


class SiteDefinition:
    """Templates, button labels, page sizes and the colour list, read once from the upstream files in the data folder."""

    def __init__(self, data_dir: Path) -> None:
        missing = [p for p in upstream_files(data_dir) if not p.exists()]
        if missing:
            raise UsageError(f"webshop: missing {missing[0]} (and {len(missing) - 1} more upstream WebShop files): "
                             "set HARNESS_DATA to the data folder or run `harness data pull --only upstream/`")
        import jinja2

        files = upstream_files(data_dir)
        engine = _module_constants(files[0])
        self.buy, self.next, self.prev = engine["END_BUTTON"], engine["NEXT_PAGE"], engine["PREV_PAGE"]
        self.back = engine["BACK_TO_SEARCH"]
        self.sub_pages: dict[str, str] = engine["ACTION_TO_TEMPLATE"]
        self.search_n, self.window = int(engine["SEARCH_RETURN_N"]), int(engine["PRODUCT_WINDOW"])
        self.colors: list[str] = _module_constants(files[1])["COLOR_SET"]
        env = jinja2.Environment(autoescape=True)
        env.globals["url_for"] = lambda *args, **kwargs: ""
        env.filters["tojson"] = _htmlsafe_json
        self.templates = {p.name: env.from_string(p.read_text(encoding="utf-8")) for p in files[2:]}

    def render(self, name: str, **context: Any) -> str:
        return self.templates[name].render(**context)


@dataclass
class Page:
    html: str
    url: str
    text: str = ""
    clickables: dict[str, Any] = field(default_factory=dict)
    has_search_bar: bool = False


_MARKUP = re.compile(r"<!--.*?-->|<![A-Za-z][^>]*>|<(script|style)\b[^>]*>.*?</\1\s*>|</?[A-Za-z][^>]*>",
                     re.S | re.I)
_TAG = re.compile(r"</?([A-Za-z][^\s/>]*)(.*?)(/?)>$", re.S)
_ATTR = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_ASCII_SPACE = str.maketrans("", "", " \n\t\f\r")


class Clickable(dict):
    """A clickable element: its attributes (``class`` as a list, as BeautifulSoup gives it) and its text."""

    text = ""


def parse_page(html: str, url: str) -> Page:
    """The text observation and the clickables of a page, as upstream's text env derives them from the HTML with
    BeautifulSoup's ``html.parser`` tree: the strings whose parent is not ``style/script/head/title/meta`` or the
    document (comments and the doctype excluded), a white-space-only string counted as ``"\\n"`` when it holds a
    newline (dropped) and as ``" "`` otherwise (an empty part); buttons (class ``btn``) then product links (class
    ``product-link``) by their text, lower-cased, then radio inputs by value. A single pass over the markup (the pages
    are upstream's templates with escaped data); tests/unit checks it against BeautifulSoup on rendered pages."""
    stack: list[tuple[str, Clickable | None]] = []
    texts: list[str] = []
    buttons: list[Clickable] = []
    links: list[Clickable] = []
    radios: list[Clickable] = []
    has_search_bar = False
    pos = 0

    def data(raw: str) -> None:
        if not raw:
            return
        text = unescape(raw)
        if not text.translate(_ASCII_SPACE) and not any(name in ("pre", "textarea") for name, _ in stack):
            text = "\n" if "\n" in text else " "
        for _, open_tag in stack:
            if open_tag is not None:
                open_tag.text += text
        parent = stack[-1][0] if stack else "[document]"
        if parent not in _HIDDEN and text != "\n":
            texts.append(text.strip())

    for m in _MARKUP.finditer(html):
        data(html[pos:m.start()])
        pos = m.end()
        token = m.group(0)
        if token.startswith("<!"):
            continue
        if m.group(1):  # a script or style element: its text is never visible
            continue
        tag = _TAG.match(token)
        if tag is None:
            continue
        name = tag.group(1).lower()
        if token.startswith("</"):
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == name:
                    del stack[k:]
                    break
            continue
        attrs = Clickable()
        for a in _ATTR.finditer(tag.group(2)):
            value = next((v for v in a.groups()[1:] if v is not None), "")
            attrs[a.group(1).lower()] = unescape(value)
        if "class" in attrs:
            attrs["class"] = attrs["class"].split()
        if attrs.get("id") == "search_input":
            has_search_bar = True
        classes = attrs.get("class") or []
        tracked = None
        if "btn" in classes:
            buttons.append(attrs)
            tracked = attrs
        elif "product-link" in classes:
            links.append(attrs)
            tracked = attrs
        if name == "input" and attrs.get("type") == "radio":
            radios.append(attrs)
        if name not in _VOID and not tag.group(3):
            stack.append((name, tracked))
    data(html[pos:])
    clickables: dict[str, Any] = {}
    for c in buttons + links:
        clickables[c.text.lower()] = c
    for c in radios:
        clickables[f"{c.get('value')}"] = c
    return Page(html, url, " [SEP] ".join(texts), clickables, has_search_bar)


def parse_page_bs4(html: str, url: str) -> Page:
    """The same with BeautifulSoup, as upstream does it (slow; the yardstick for ``parse_page``)."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(html, "html.parser")
    texts = [t for t in soup.find_all(string=True)
             if t.parent.name not in _HIDDEN and not isinstance(t, Comment)]
    text = " [SEP] ".join(t.strip() for t in texts if t != "\n")
    clickables: dict[str, Any] = {}
    for tag in soup.find_all(class_="btn") + soup.find_all(class_="product-link"):
        clickables[f"{tag.get_text()}".lower()] = tag
    for opt in soup.select('input[type="radio"]'):
        clickables[f"{opt.get('value')}"] = opt
    return Page(html, url, text, clickables, soup.find(id="search_input") is not None)


def parse_action(action: str) -> tuple[str, str | None]:
    m = _ACTION.match(action)
    return (action, None) if m is None else (m.group(1), m.group(2))


def page_name(url: str | None) -> str | None:
    if url is None:
        return None
    for name in ("search_results", "item_page", "item_sub_page", "done"):
        if name in url:
            return name
    return ""


class Session:
    """One shopper: the browser state (current page) and the server's session for one goal."""

    def __init__(self, site: SiteDefinition, catalogue: Catalogue, goal: dict[str, Any], session_id: str,
                 rng: random.Random) -> None:
        self.site, self.cat, self.goal, self.sid, self.rng = site, catalogue, goal, session_id, rng
        self.keywords: list[str] | None = None
        self.page_no: int | None = None
        self.asin: str | None = None
        self.asins: set[str] = set()
        self.options: dict[str, str] = {}
        self.done = False
        self.reward = 0.0
        self.reward_info: dict[str, Any] = {}
        self.purchased: dict[str, Any] | None = None
        self.current = self._index()
        self.current.url = f"{BASE_URL}/{self.sid}"

    # --- what the agent sees ---------------------------------------------------------------------------------------
    @property
    def observation(self) -> str:
        return self.current.text

    def available_actions(self) -> dict[str, Any]:
        return {"has_search_bar": self.current.has_search_bar, "clickables": list(self.current.clickables)}

    def step(self, action: str) -> tuple[float, bool]:
        """One action string (``search[...]`` or ``click[...]``); anything else changes nothing."""
        name, arg = parse_action(action)
        if arg is not None:
            arg = arg.lower()
        if name == "search" and arg is not None and arg != "":
            return self._receive(keywords=arg.split(" "))
        if name == "click" and arg in self.current.clickables and arg != "search":
            return self._receive(clickable=arg)
        return 0.0, False

    # --- the server ------------------------------------------------------------------------------------------------
    def _receive(self, keywords: list[str] | None = None, page: int | None = None,
                 clickable: str | None = None) -> tuple[float, bool]:
        site = self.site
        current_url = self.current.url
        if keywords is not None:
            self.current = self._results(keywords, page or 1)
            return 0.0, False
        assert clickable is not None
        name = clickable.lower()
        where = page_name(current_url)
        if name == site.buy.lower():
            self.current = self._done()
            return self.reward, True
        if name == site.back.lower():
            self.current = self._index()
        elif name == site.next.lower() and where == "search_results":
            self.current = self._results(self.keywords or [], (self.page_no or 1) + 1)
        elif name == site.prev.lower() and where == "search_results":
            self.current = self._results(self.keywords or [], (self.page_no or 1) - 1)
        elif name == site.prev.lower() and where == "item_sub_page":
            self.current = self._item(clickable)
        elif name == site.prev.lower() and where == "item_page":
            self.current = self._results(self.keywords or [], self.page_no or 1)
        elif name in [k.lower() for k in site.sub_pages]:
            self.current = self._sub_page(clickable)
        else:
            self.current = self._item(clickable)
        return 0.0, False

    def _index(self) -> Page:
        self.keywords, self.page_no, self.asin, self.asins, self.options = None, None, None, set(), {}
        html = self.site.render("search_page.html", session_id=self.sid, instruction_text=self.goal["instruction_text"])
        return parse_page(html, f"{BASE_URL}/{self.sid}")

    def top_products(self, keywords: list[str]) -> list[int]:
        """Rows of the products a search returns (upstream's ``get_top_n_product_from_keywords``)."""
        cat, head = self.cat, keywords[0] if keywords else ""
        if head == "<r>":
            return self.rng.sample(range(len(cat)), k=min(self.site.search_n, len(cat)))
        if head == "<a>":  # upstream passes no attribute index here and fails; nothing is found instead
            return []
        if head == "<c>":
            return cat.rows_with_category(keywords[1].strip() if len(keywords) > 1 else "")
        if head == "<q>":
            return cat.rows_with_query(" ".join(keywords[1:]).strip())
        return cat.search(" ".join(keywords), self.site.search_n)

    def _results(self, keywords: list[str], page: int) -> Page:
        self.page_no, self.keywords, self.asin, self.options = page, keywords, None, {}
        rows = self.top_products(keywords)
        window = self.site.window
        products = [self._display(r) for r in rows[(page - 1) * window:page * window]]
        html = self.site.render("results_page.html", session_id=self.sid, products=products, keywords=keywords,
                                page=page, total=len(rows), instruction_text=self.goal["instruction_text"])
        return parse_page(html, f"{BASE_URL}/search_results/{self.sid}/{'+'.join(keywords)}/{page}")

    def _display(self, row: int) -> dict[str, Any]:
        p = self.cat.product(row)
        return {"asin": p["asin"], "Title": p["name"], "Price": p["Price"], "MainImage": ""}

    def _product_info(self) -> dict[str, Any]:
        row = self.cat.row_of(self.asin or "")
        if row is None:
            raise KeyError(self.asin)
        p = self.cat.product(row)
        return {**p, "Title": p["name"], "options": dict(p["options"]), "Rating": "N.A.", "Reviews": [],
                "MainImage": "", "option_to_image": {}}

    def _item(self, clickable: str) -> Page:
        tag = self.current.clickables[clickable]
        classes = tag.get("class")
        if classes is not None and classes[0] == "product-link":
            self.asin = clickable.upper()
            self.asins.add(self.asin)
        elif tag.get("name") is not None:
            self.options[tag["name"].lower()] = clickable
        info = self._product_info()
        html = self.site.render("item_page.html", session_id=self.sid, product_info=info, keywords=self.keywords,
                                page=self.page_no, asin=self.asin, options=self.options,
                                instruction_text=self.goal["instruction_text"], show_attrs=False)
        url = (f"{BASE_URL}/item_page/{self.sid}/{self.asin}/{'+'.join(self.keywords or [])}/{self.page_no}/"
               f"{json.dumps(self.options)}")
        return parse_page(html, url)

    def _sub_page(self, clickable: str) -> Page:
        name = next((k for k in self.site.sub_pages if clickable.lower() == k.lower()), clickable)
        info = self._product_info()
        html = self.site.render(self.site.sub_pages[name], session_id=self.sid, product_info=info,
                                keywords=self.keywords, page=self.page_no, asin=self.asin, options=self.options,
                                instruction_text=self.goal["instruction_text"])
        url = (f"{BASE_URL}/item_sub_page/{self.sid}/{self.asin}/{'+'.join(self.keywords or [])}/{self.page_no}/"
               f"{name}/{self.options}")
        return parse_page(html, url)

    def _done(self) -> Page:
        from .reward import get_reward

        row = self.cat.row_of(self.asin or "")
        if row is None:
            raise KeyError(self.asin)
        self.purchased = self.cat.product(row)
        self.reward, self.reward_info = get_reward(self.purchased, self.goal, price=self.cat.price(row),
                                                   options=self.options, colors=self.site.colors)
        self.done = True
        html = self.site.render("done_page.html", session_id=self.sid, reward=self.reward, asin=self.asin,
                                options=self.options, instruction_text=self.goal["instruction_text"],
                                **dict.fromkeys(("reward_info", "goal_attrs", "purchased_attrs", "goal", "mturk_code",
                                                 "query", "category", "product_category")))
        return parse_page(html, f"{BASE_URL}/done/{self.sid}/{self.asin}/{self.options}")
