"""Small stand-in sites for WebArena, served on loopback by the ``webarena_standin`` task (and its tests).

They imitate what WebArena's tasks and evaluators touch on the real sites: a shop with search, product pages, reviews,
a cart, orders and the REST calls of the evaluation helpers; its admin panel; a Postmill-like forum with votes and
submissions; a GitLab-like project with issues and member roles; a homepage. Log-in forms match upstream's
``auto_login.py`` (labels, placeholders, test ids) and take upstream's accounts. ``tasks.json`` holds the tasks in
WebArena's own config format, with a gold action sequence each. They are no WebArena result and never reported as one.
"""
from __future__ import annotations

from pathlib import Path

from .forum import Forum
from .gitlab import GitLab
from .home import Home
from .shop import Admin, Shop, ShopData

TASKS = Path(__file__).with_name("tasks.json")


class StandinSites:
    """Every stand-in site on its own loopback port; ``urls`` maps WebArena's site variables to them."""

    def __init__(self, accounts: dict[str, dict[str, str]]) -> None:
        def one(site: str) -> dict[str, str]:
            return {accounts[site]["username"]: accounts[site]["password"]}

        data = ShopData()
        self.shop = Shop(one("shopping"), data, one("shopping_site_admin"))
        self.admin = Admin(one("shopping_admin"), data)
        self.forum = Forum(one("reddit"))
        self.gitlab = GitLab(one("gitlab"))
        self.sites = [self.shop, self.admin, self.forum, self.gitlab]
        self.urls = {"SHOPPING": self.shop.start(), "SHOPPING_ADMIN": self.admin.start(),
                     "REDDIT": self.forum.start(), "GITLAB": self.gitlab.start()}
        links = {"One Stop Market": self.urls["SHOPPING"], "Postmill": self.urls["REDDIT"],
                 "GitLab": self.urls["GITLAB"], "Magento Admin": self.urls["SHOPPING_ADMIN"]}
        self.home = Home({}, links, accounts)
        self.sites.append(self.home)
        home = self.home.start()
        self.urls.update(HOMEPAGE=home, WIKIPEDIA=f"{home}/wiki", MAP=f"{home}/map")

    def reset(self) -> None:
        """Every site's data back to its initial state (log-in sessions stay valid)."""
        for site in self.sites:
            with site.lock:
                site.reset()

    def close(self) -> None:
        for site in self.sites:
            site.stop()
