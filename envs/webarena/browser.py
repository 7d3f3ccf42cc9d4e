"""Chromium for WebArena: one headless browser per process, one browser context per episode.

Debian's Chromium (``executable_path``; Playwright never downloads a browser) is driven by Playwright's async API on
one private event-loop thread that every env of the process shares, so that many episodes run at once in one browser,
each in its own context (cookies, storage and tabs of its own). Env threads hand coroutines to that loop and wait for
them; the accessibility-tree rendering runs in the env's thread, not on the loop. A browser that died is launched
again for the next episode.

A :class:`Session` holds one episode's context: the pages (tabs) in order, the current page, a CDP session per page
(created when the page is first observed), and what the current page last rendered (for element ids).
"""
from __future__ import annotations

import asyncio
import os
import shutil
import threading
from typing import Any, Awaitable, Callable

CHROMIUM = os.environ.get("HARNESS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1280, "height": 720}  # upstream run.py's defaults
CALL_TIMEOUT = 300.0  # upstream waits up to 300 s for a start page
NAV_TIMEOUT_MS = 300_000
SETTLE_TIMEOUT = 10.0  # seconds an action's navigation may take to commit and load before the page is read anyway
#: resolves once the page has run the tasks queued before it (after a frame, or 100 ms for a tab that draws none)
FLUSH_JS = "new Promise(r => { requestAnimationFrame(() => setTimeout(r, 0)); setTimeout(r, 100); })"


def chromium_path() -> str:
    path = CHROMIUM if os.path.isabs(CHROMIUM) else shutil.which(CHROMIUM)
    if not path or not os.path.exists(path):
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: run `harness setup --tasks webarena` "
                           "(installs Debian's chromium) or set HARNESS_CHROMIUM")
    return path


#: a proxy nothing listens on: requests to hosts outside the allow-list fail before they leave the machine
DEAD_PROXY = "http://127.0.0.1:9"


class BrowserHost:
    """A browser and the loop that drives it, created on first use and shared by every env of the process that
    allows the same hosts. ``allow``: the only hosts pages may reach (the sites; loopback is always reachable);
    every other request goes to a dead proxy and fails. Empty: no confinement."""

    _instances: dict[tuple[str, ...], "BrowserHost"] = {}
    _lock = threading.Lock()

    @classmethod
    def get(cls, allow: tuple[str, ...] = ()) -> "BrowserHost":
        key = tuple(sorted(set(allow)))
        with cls._lock:
            host = cls._instances.get(key)
            if host is None or not host._thread.is_alive():
                host = cls._instances[key] = cls(key)
            return host

    def __init__(self, allow: tuple[str, ...] = ()) -> None:
        self.allow = allow
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="webarena-browser", daemon=True)
        self._thread.start()
        self._pw = None
        self._browser = None
        self._launch_lock: asyncio.Lock | None = None

    def run(self, coro: Awaitable[Any], timeout: float = CALL_TIMEOUT) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def browser(self):
        if self._launch_lock is None:
            self._launch_lock = asyncio.Lock()
        async with self._launch_lock:
            if self._browser is None or not self._browser.is_connected():
                from playwright.async_api import async_playwright
                if self._pw is None:
                    self._pw = await async_playwright().start()
                proxy = {"server": DEAD_PROXY, "bypass": ",".join(("127.0.0.1", "localhost", *self.allow))} \
                    if self.allow else None
                self._browser = await self._pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                                               args=ARGS, timeout=NAV_TIMEOUT_MS, proxy=proxy)
            return self._browser

    async def _close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._pw is not None:
            await self._pw.stop()
        self._browser = self._pw = None

    def close(self) -> None:
        try:
            self.run(self._close(), timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)


class Session:
    """One episode's browser context. Methods are called from the env's thread; they run on the host's loop."""

    def __init__(self, host: BrowserHost, viewport: dict[str, int] | None = None) -> None:
        self.host = host
        self.viewport = dict(viewport or VIEWPORT)
        self.context = None
        self.page = None
        self._cdp: dict[int, Any] = {}
        self._pending: dict[int, asyncio.Event] = {}  # tab -> set once its requested navigation committed or failed

    def call(self, fn: Callable[..., Awaitable[Any]], *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        return self.host.run(fn(*args), timeout=timeout)

    # --- lifecycle -------------------------------------------------------------------------------------------------
    def open(self, start_urls: list[str], storage_state: dict | None, geolocation: dict | None) -> None:
        self.call(self._open, start_urls, storage_state, geolocation)

    async def _open(self, start_urls, storage_state, geolocation) -> None:
        browser = await self.host.browser()
        self.context = await browser.new_context(viewport=self.viewport, storage_state=storage_state,
                                                 geolocation=geolocation, device_scale_factor=1)
        self.context.set_default_navigation_timeout(NAV_TIMEOUT_MS)
        if start_urls:
            for url in start_urls:
                page = await self.context.new_page()
                await self._client(page)
                await page.goto(url, timeout=NAV_TIMEOUT_MS)
            self.page = self.context.pages[0]
            await self.page.bring_to_front()
        else:
            self.page = await self.context.new_page()
            await self._client(self.page)

    def close(self) -> None:
        if self.context is not None:
            try:
                self.call(self.context.close, timeout=30)
            except Exception:
                pass
        self.context = self.page = None
        self._cdp.clear()
        self._pending.clear()

    async def _client(self, page):
        key = id(page)
        if key not in self._cdp:
            client = await page.context.new_cdp_session(page)
            await client.send("Accessibility.enable")
            await self._watch(page, client)
            self._cdp[key] = client
        return self._cdp[key]

    # --- observation -----------------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return self.call(self._snapshot)

    async def _snapshot(self) -> dict[str, Any]:
        page = self.page
        pages = list(self.context.pages)
        try:
            titles: list[str] | None = [await p.title() for p in pages]
            current = pages.index(page)
        except Exception:
            titles, current = None, 0
        client = await self._client(page)
        try:
            raw = await self._capture(page, client)
        except Exception:
            await page.wait_for_load_state("load", timeout=500)
            raw = await self._capture(page, client)
        raw.update(titles=titles, current=current, tab_count=len(pages), url=page.url)
        return raw

    @staticmethod
    async def _capture(page, client) -> dict[str, Any]:
        snapshot = await client.send("DOMSnapshot.captureSnapshot", {
            "computedStyles": [], "includeDOMRects": True, "includePaintOrder": True})
        info = await page.evaluate("() => [window.pageXOffset, window.pageYOffset, window.screen.width, "
                                   "window.screen.height, window.devicePixelRatio]")
        if info[4] != 1:
            raise RuntimeError(f"devicePixelRatio is {info[4]}, not 1")
        ax = await client.send("Accessibility.getFullAXTree", {})
        return {"snapshot": snapshot, "ax_nodes": ax["nodes"], "scroll_x": info[0], "scroll_y": info[1],
                "screen_width": info[2], "screen_height": info[3]}

    # --- actions ---------------------------------------------------------------------------------------------------
    async def _settle(self, pause: float = 0.0) -> None:
        """Let what the last action started finish: wait ``pause`` seconds (upstream sleeps 2.5 s after every
        action); let the page run the tasks the action queued (a link or a form asks for its navigation there), read
        through the tab's own CDP session so that the navigation request, if any, has been seen; then wait for that
        navigation to commit and for the page to load."""
        page = self.page
        if pause > 0:
            await asyncio.sleep(pause)
        client = await self._client(page)
        try:
            await client.send("Runtime.evaluate", {"expression": FLUSH_JS, "awaitPromise": True})
        except Exception:
            pass  # the document went away: a navigation committed
        pending = self._pending.get(id(page))
        if pending is not None and not pending.is_set():
            try:
                await asyncio.wait_for(pending.wait(), timeout=SETTLE_TIMEOUT)
            except asyncio.TimeoutError:
                pass
        try:
            await page.wait_for_load_state("load", timeout=SETTLE_TIMEOUT * 1000)
        except Exception:
            pass

    async def _watch(self, page, client) -> None:
        """Track the tab's main-frame navigations the page asks for (links, forms, scripts), until they commit or
        stop, on the tab's CDP session (events and answers of one session arrive in order)."""
        key = id(page)
        main = (await client.send("Page.getFrameTree"))["frameTree"]["frame"]["id"]

        def requested(params: dict) -> None:
            if params.get("frameId") == main:
                self._pending[key] = asyncio.Event()

        def ended(params: dict) -> None:
            frame = params.get("frame", {}).get("id") or params.get("frameId")
            if frame == main and key in self._pending:
                self._pending[key].set()

        client.on("Page.frameRequestedNavigation", requested)
        client.on("Page.frameNavigated", ended)
        client.on("Page.frameStoppedLoading", ended)
        await client.send("Page.enable")

    def click_at(self, x: float, y: float) -> None:
        self.call(self._mouse, "click", x, y)

    def hover_at(self, x: float, y: float) -> None:
        self.call(self._mouse, "move", x, y)

    async def _mouse(self, how: str, x: float, y: float) -> None:
        await getattr(self.page.mouse, how)(x, y)
        await asyncio.sleep(0)

    def type_text(self, text: str) -> None:
        self.call(lambda: self.page.keyboard.type(text))

    def press(self, key_comb: str) -> None:
        self.call(lambda: self.page.keyboard.press(key_comb))

    def scroll(self, direction: str) -> None:
        sign = "-" if direction == "up" else "+"
        self.call(lambda: self.page.evaluate(
            "(document.scrollingElement || document.body).scrollTop = (document.scrollingElement || "
            f"document.body).scrollTop {sign} window.innerHeight;"))

    def goto(self, url: str) -> None:
        self.call(lambda: self.page.goto(url))

    def go_back(self) -> None:
        self.call(lambda: self.page.go_back())

    def go_forward(self) -> None:
        self.call(lambda: self.page.go_forward())

    def new_tab(self) -> None:
        async def go():
            self.page = await self.context.new_page()
            await self._client(self.page)
        self.call(go)

    def tab_focus(self, number: int) -> None:
        async def go():
            page = self.context.pages[number]
            await page.bring_to_front()
            self.page = page
        self.call(go)

    def close_tab(self) -> None:
        async def go():
            await self.page.close()
            self._cdp.pop(id(self.page), None)
            self._pending.pop(id(self.page), None)
            pages = self.context.pages
            self.page = pages[-1] if pages else await self.context.new_page()
        self.call(go)

    def settle(self, pause: float = 0.0) -> None:
        self.call(self._settle, pause, timeout=pause + 3 * SETTLE_TIMEOUT + 30)

    @property
    def url(self) -> str:
        return self.page.url if self.page is not None else ""
