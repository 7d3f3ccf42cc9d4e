"""Shared by the WebShop tests: the reference fixtures and the small-split env over the shared data."""
from __future__ import annotations

import gzip
import json
from typing import Any

from envs.webshop.env import SMALL, WebShopEnv, site_definition
from envs.webshop.site import UPSTREAM
from harness.data import data_dir
from tests.conftest import FIXTURES, need_data

FIX = FIXTURES / "webshop"


def fixture(name: str) -> Any:
    """A reference fixture (computed once with upstream's code outside the project; see fixtures/webshop/README.md)."""
    with gzip.open(FIX / name, "rt", encoding="utf-8") as f:
        return json.load(f)


def need_small() -> None:
    for rel in (*SMALL, "agentbench/prompts/webshop.json", UPSTREAM):
        need_data(*rel.split("/"))


def small_env(**kwargs: Any) -> WebShopEnv:
    need_small()
    return WebShopEnv(split="small", **kwargs)


def small_catalogue():
    from envs.webshop.catalogue import open_catalogue

    need_small()
    root = data_dir()
    return open_catalogue(root / SMALL[0], root / SMALL[1])


def colors() -> list[str]:
    need_small()
    return site_definition(data_dir()).colors
