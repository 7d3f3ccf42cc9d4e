"""System install for WebArena: Debian's Chromium (Playwright is told its path; it never downloads a browser)."""
from __future__ import annotations

from harness.services import apt_install


def install() -> None:
    apt_install(["chromium"], check_binaries=["chromium"])
