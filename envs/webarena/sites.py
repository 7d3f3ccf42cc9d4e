"""The sites an episode uses: their URLs (from the environment, as upstream), the placeholders in task configs, the
public-looking names prompts show, and the log-ins upstream's ``auto_login.py`` makes.

Task configs name sites by placeholders (``__SHOPPING__``, ...) that upstream's ``generate_test_data.py`` fills from
the variables ``SHOPPING``, ``SHOPPING_ADMIN``, ``REDDIT``, ``GITLAB``, ``WIKIPEDIA``, ``MAP`` (``HOMEPAGE`` is only
shown to the model). A config's ``storage_state`` (``./.auth/gitlab.reddit_state.json``) names the sites to be logged
in to: each log-in is the form filling of ``auto_login.py`` (labels, placeholders, test ids, buttons) with the
accounts of ``env_config.py``, in one browser context whose cookies then seed the episode's context. Log-ins are made
once per process and site combination and renewed after ``LOGIN_MAX_AGE`` seconds.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import PurePosixPath
from urllib.parse import urlsplit
from typing import Any

from harness import UsageError

VARIABLES = ("SHOPPING", "SHOPPING_ADMIN", "REDDIT", "GITLAB", "MAP", "WIKIPEDIA", "HOMEPAGE")
#: placeholders of test.raw.json, in upstream's replacement order
PLACEHOLDERS = ("GITLAB", "REDDIT", "SHOPPING", "SHOPPING_ADMIN", "WIKIPEDIA", "MAP")
LOGIN_SITES = ("shopping", "reddit", "shopping_admin", "gitlab")
LOGIN_MAX_AGE = 3600.0


def from_environment() -> dict[str, str]:
    """The site URLs from the environment; a UsageError naming every variable that is unset."""
    missing = [v for v in VARIABLES if not os.environ.get(v)]
    if missing:
        raise UsageError(f"webarena needs the URLs of your WebArena sites in {', '.join(missing)} "
                         "(e.g. SHOPPING=http://host:7770 SHOPPING_ADMIN=http://host:7780/admin "
                         "REDDIT=http://host:9999 "
                         f"GITLAB=http://host:8023 MAP=http://host:3000 WIKIPEDIA=http://host:8888/... "
                         f"HOMEPAGE=http://host:4399)")
    return {v: os.environ[v] for v in VARIABLES}


def hosts(sites: dict[str, str]) -> tuple[str, ...]:
    """The host names of the sites (what an episode's browser may reach)."""
    return tuple(sorted({urlsplit(url).hostname for url in sites.values() if urlsplit(url).hostname}))


def fill_placeholders(raw: str, sites: dict[str, str]) -> str:
    for name in PLACEHOLDERS:
        if name in sites:
            raw = raw.replace(f"__{name}__", sites[name])
    return raw


class UrlMap:
    """Upstream's ``map_url_to_real`` (prompts show public-looking names) and ``map_url_to_local`` (actions)."""

    def __init__(self, sites: dict[str, str], public: dict[str, str]) -> None:
        self.pairs = [(sites[k], public[k]) for k in public if k in sites and sites[k]]

    def to_public(self, url: str) -> str:
        for local, public in self.pairs:
            if local in url:
                url = url.replace(local, public)
        return url

    def to_local(self, text: str) -> str:
        for local, public in self.pairs:
            if public in text:
                text = text.replace(public, local)
        return text


def login_sites(storage_state: str | None) -> tuple[str, ...]:
    """``./.auth/gitlab.reddit_state.json`` -> ("gitlab", "reddit")."""
    if not storage_state:
        return ()
    stem = PurePosixPath(storage_state).name
    if not stem.endswith("_state.json"):
        raise ValueError(f"storage_state {storage_state!r} is not of the form <site>[.<site>]_state.json")
    sites = tuple(stem[: -len("_state.json")].split("."))
    unknown = [s for s in sites if s not in LOGIN_SITES]
    if unknown:
        raise ValueError(f"storage_state {storage_state!r} names sites without a log-in: {unknown}")
    return sites


async def _log_in(page, site: str, sites: dict[str, str], accounts: dict[str, dict[str, str]]) -> None:
    account = accounts[site]
    if site == "shopping":
        await page.goto(f"{sites['SHOPPING']}/customer/account/login/")
        await page.get_by_label("Email", exact=True).fill(account["username"])
        await page.get_by_label("Password", exact=True).fill(account["password"])
        await page.get_by_role("button", name="Sign In").click()
    elif site == "reddit":
        await page.goto(f"{sites['REDDIT']}/login")
        await page.get_by_label("Username").fill(account["username"])
        await page.get_by_label("Password").fill(account["password"])
        await page.get_by_role("button", name="Log in").click()
    elif site == "shopping_admin":
        await page.goto(sites["SHOPPING_ADMIN"])
        await page.get_by_placeholder("user name").fill(account["username"])
        await page.get_by_placeholder("password").fill(account["password"])
        await page.get_by_role("button", name="Sign in").click()
    elif site == "gitlab":
        await page.goto(f"{sites['GITLAB']}/users/sign_in")
        field = page.get_by_test_id("username-field")
        await field.click()
        await field.fill(account["username"])
        await field.press("Tab")
        await page.get_by_test_id("password-field").fill(account["password"])
        await page.get_by_test_id("sign-in-button").click()
    await page.wait_for_load_state("load")


_STATES: dict[tuple, tuple[float, dict[str, Any]]] = {}  # (site URLs, combination) -> (made at, storage state)
_STATES_LOCK = threading.Lock()


class Logins:
    """Storage states (cookies and local storage) per site combination, made on first need and shared by the
    process's envs that use the same site URLs."""

    def __init__(self, host, sites: dict[str, str], accounts: dict[str, dict[str, str]]) -> None:
        self.host, self.sites, self.accounts = host, sites, accounts
        self._urls = tuple(sorted(sites.items()))
        self._states, self._lock = _STATES, _STATES_LOCK

    def state(self, combo: tuple[str, ...]) -> dict[str, Any] | None:
        if not combo:
            return None
        combo = tuple(sorted(combo))
        key = (self._urls, combo)
        with self._lock:
            made = self._states.get(key)
            if made is None or time.monotonic() - made[0] > LOGIN_MAX_AGE:
                made = (time.monotonic(), self.host.run(self._make(combo)))
                self._states[key] = made
            return made[1]

    async def _make(self, combo: tuple[str, ...]) -> dict[str, Any]:
        browser = await self.host.browser()
        context = await browser.new_context()
        try:
            page = await context.new_page()
            for site in combo:
                await _log_in(page, site, self.sites, self.accounts)
            return await context.storage_state()
        finally:
            await context.close()
