"""WebArena's evaluators (``evaluation_harness/evaluators.py`` of the release AgentTuning ran), on the live page.

``eval_types`` lists the evaluators; the episode's score is the product of their scores, computed in that order (a
``program_html`` check may navigate the page, which a later ``url_match`` would see):

- ``string_match`` on the ``stop`` answer, with surrounding quotes removed and lower-cased: ``exact_match`` (equal
  to the lower-cased reference), ``must_include`` (every phrase a substring), ``fuzzy_match`` (a judge model asked
  whether the answer implies each reference: "Yes" in its reply scores 1). The judge is not called here: the
  questions are returned, and the agent strategy asks ``--judge`` and multiplies its verdicts in.
- ``url_match``: the current page's URL against ``reference_url`` (alternatives split by `` |OR| ``, trailing
  slashes dropped), ``EXACT`` (default) or ``GOLD in PRED`` (``url_note``).
- ``program_html``: for each target, go to its URL (``last``: stay; ``func:...``: a helper computes it) and read a
  value: the page's HTML (empty locator), a JavaScript expression (``document....``), or a helper (``func:...``);
  one of the `` |OR| `` alternatives of ``required_contents`` must be a substring (stripped, lower-cased).

Helpers (upstream ``helper_functions.py``) are called by name from an allow-list with literal arguments; nothing of
a config is ``eval``-ed.
"""
from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlparse

import httpx

from .browser import Session

OR = " |OR| "
PAGE = object()  # the live page, as a helper argument
HELPER_TIMEOUT = 60.0


def clean_answer(answer: str) -> str:
    if answer.startswith("'") and answer.endswith("'"):
        answer = answer[1:-1]
    elif answer.startswith('"') and answer.endswith('"'):
        answer = answer[1:-1]
    return answer.lower()


def _clean_url(url: str) -> str:
    url = str(url)
    return url[:-1] if url.endswith("/") else url


@dataclass
class Outcome:
    score: float = 1.0  # the product of every check but the judged ones
    checks: list[dict[str, Any]] = field(default_factory=list)
    judge_questions: list[dict[str, str]] = field(default_factory=list)  # {"pred", "reference"}

    def add(self, kind: str, score: float, **detail: Any) -> None:
        self.score *= score
        self.checks.append({"check": kind, "score": score, **detail})


# --- helpers ---------------------------------------------------------------------------------------------------------
class Helpers:
    """Upstream's evaluation helpers over the sites' REST APIs and pages (``sites``: variable name -> base URL)."""

    def __init__(self, sites: dict[str, str], accounts: dict[str, dict[str, str]]) -> None:
        self.sites, self.accounts = sites, accounts

    def _shop_token(self, client: httpx.Client) -> str:
        admin = self.accounts["shopping_site_admin"]
        r = client.post(f"{self.sites['SHOPPING']}/rest/default/V1/integration/admin/token",
                        json={"username": admin["username"], "password": admin["password"]})
        return r.json()

    def _shop_get(self, path: str, params: dict | None = None) -> Any:
        with httpx.Client(timeout=HELPER_TIMEOUT) as client:
            headers = {"Authorization": f"Bearer {self._shop_token(client)}", "Content-Type": "application/json"}
            r = client.get(f"{self.sites['SHOPPING']}{path}", params=params, headers=headers)
            if r.status_code != 200:
                raise RuntimeError(f"GET {path}: HTTP {r.status_code}")
            return r.json()

    def shopping_get_latest_order_url(self) -> str:
        items = self._shop_get("/rest/V1/orders", {"searchCriteria[sortOrders][0][field]": "created_at",
                                                   "searchCriteria[sortOrders][0][direction]": "DESC",
                                                   "searchCriteria[pageSize]": "1"})["items"]
        return f"{self.sites['SHOPPING']}/sales/order/view/order_id/{int(items[0]['increment_id'])}/"

    def _reviews(self, sku: str) -> list[dict[str, Any]]:
        return self._shop_get(f"/rest/V1/products/{sku}/reviews")

    def shopping_get_sku_latest_review_author(self, sku: str) -> str:
        reviews = self._reviews(sku)
        return reviews[-1]["nickname"] if reviews else ""

    def shopping_get_sku_latest_review_rating(self, sku: str) -> str:
        reviews = self._reviews(sku)
        if not reviews:
            return ""
        if reviews[0]["ratings"][0]["rating_name"] != "Rating":
            raise RuntimeError("the first review's first rating is not named 'Rating'")
        return str(reviews[-1]["ratings"][0]["percent"])

    @staticmethod
    def reddit_get_post_url(url: str) -> str:
        """``scheme://host/f/<forum>/<id>/`` of a post or comment URL; any other URL unchanged."""
        parsed = urlparse(url)
        parts = parsed.path.split("/")
        if len(parts) < 4 or parts[1] != "f":
            return url
        return f"{parsed.scheme}://{parsed.netloc}/f/{parts[2]}/{parts[3]}/"

    @staticmethod
    def gitlab_get_project_memeber_role(session: Session, account: str) -> str:
        """The role shown beside ``@account`` on a GitLab project-members page ("" when absent)."""
        script = """(account) => {
            const names = [...document.querySelectorAll("td[data-label='Account'] span.gl-avatar-labeled-sublabel")];
            const i = names.findIndex(e => e.outerText === '@' + account);
            return document.querySelectorAll("td.col-max-role span")[i].outerText;
        }"""
        try:
            return str(session.call(lambda: session.page.evaluate(script, account)))
        except Exception:
            return ""

    @staticmethod
    def parse(expression: str) -> tuple[str, list[Any]]:
        """``name(args)`` of an allowed helper, each argument a string literal or ``__page__``; ValueError else."""
        try:
            node = ast.parse(expression.strip(), mode="eval").body
        except SyntaxError:
            raise ValueError(f"not a helper call: {expression!r}") from None
        name = getattr(getattr(node, "func", None), "id", None)
        if not isinstance(node, ast.Call) or name not in ALLOWED or node.keywords:
            raise ValueError(f"unknown evaluation helper {expression!r}; known: {', '.join(sorted(ALLOWED))}")
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Name) and arg.id == "__page__":
                args.append(PAGE)
            elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                args.append(arg.value)
            else:
                raise ValueError(f"helper arguments must be string literals or __page__: {expression!r}")
        return name, args

    def call(self, expression: str, session: Session) -> str:
        name, args = self.parse(expression)
        return getattr(self, name)(*(session if a is PAGE else a for a in args))


ALLOWED = ("shopping_get_latest_order_url", "shopping_get_sku_latest_review_author",
           "shopping_get_sku_latest_review_rating", "reddit_get_post_url", "gitlab_get_project_memeber_role")


# --- evaluators ------------------------------------------------------------------------------------------------------
def string_match(config: dict[str, Any], answer: str, out: Outcome) -> None:
    refs = config["eval"]["reference_answers"]
    if not isinstance(refs, dict):
        raise ValueError("string_match needs reference_answers as an object of exact_match/must_include/fuzzy_match")
    pred = clean_answer(answer)
    for approach, value in refs.items():
        if approach == "exact_match":
            out.add("exact_match", float(pred == clean_answer(value)), reference=value)
        elif approach == "must_include":
            for phrase in value:
                out.add("must_include", float(clean_answer(phrase) in pred), reference=phrase)
        elif approach == "fuzzy_match":
            for reference in value:
                out.judge_questions.append({"pred": pred, "reference": reference})


def url_match(config: dict[str, Any], url: str, out: Outcome) -> None:
    pred = _clean_url(url)
    refs = [_clean_url(u) for u in config["eval"]["reference_url"].split(OR)]
    rule = config["eval"].get("url_note") or "EXACT"
    if rule == "EXACT":
        score = float(pred in refs)
    elif rule == "GOLD in PRED":
        score = float(any(ref in pred for ref in refs))
    else:
        raise ValueError(f"unknown url_note {rule!r}")
    out.add("url_match", score, url=url, rule=rule)


def program_html(config: dict[str, Any], session: Session, helpers: Helpers, out: Outcome,
                 settle: float, sleep: Callable[[float], None] = time.sleep) -> None:
    for target in config["eval"]["program_html"]:
        url: str = target["url"]
        if url.startswith("func"):
            url = helpers.call(url.split("func:", 1)[1].replace("__last_url__", session.url), session)
        if url != "last":
            session.goto(url)
            if settle:
                sleep(settle)
        locator: str = target["locator"]
        if not locator.strip():
            selected: Any = session.call(session.page.content)
        elif locator.startswith("document."):
            try:
                selected = session.call(lambda: session.page.evaluate(f"() => {locator}")) or ""
            except Exception:
                selected = ""
        elif locator.startswith("func:"):
            selected = helpers.call(locator.split("func:", 1)[1], session)
        else:
            raise ValueError(f"unknown program_html locator {locator!r}")
        selected = str(selected).strip().lower()
        wanted = [str(x).strip().lower() for x in target["required_contents"].split(OR)]
        score = float(any(w in selected for w in wanted))
        out.add("program_html", score, url=url, locator=locator, required=target["required_contents"],
                found=selected[:300])


def evaluate(config: dict[str, Any], answer: str, session: Session, helpers: Helpers, settle: float = 3.0) -> Outcome:
    out = Outcome()
    for kind in config["eval"]["eval_types"]:
        if kind == "string_match":
            string_match(config, answer, out)
        elif kind == "url_match":
            url_match(config, session.url, out)
        elif kind == "program_html":
            program_html(config, session, helpers, out, settle)
        else:
            raise ValueError(f"eval_type {kind} is not supported")
    return out
