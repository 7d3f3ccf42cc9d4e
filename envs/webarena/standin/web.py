"""A minimal web framework for the stand-in sites: routes, forms, cookies and a page layout, on the standard
library's threading HTTP server bound to loopback (127.0.0.1, a free port)."""
from __future__ import annotations

import html
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

esc = html.escape


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    json: Any
    cookies: dict[str, str]
    headers: dict[str, str]
    user: str | None = None
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Response:
    status: int = 200
    body: str = ""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def redirect(location: str) -> Response:
    return Response(303, "", headers={"Location": location})


def as_json(obj: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(obj), "application/json")


def not_found() -> Response:
    return Response(404, "<!doctype html><html><head><title>404 Not Found</title></head><body><main>"
                         "<h1>Page not found</h1></main></body></html>")


class Site:
    """Subclasses add routes with ``@route``-style calls in ``routes()`` and render pages with ``page()``."""

    name = "site"
    prefix = ""  # a path every URL of the site starts with (the shop's admin lives under /admin)

    def __init__(self, accounts: dict[str, str]) -> None:
        self.accounts = accounts  # username -> password
        self.sessions: dict[str, str] = {}  # cookie -> username (kept when the data is reset)
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = []
        self.lock = threading.RLock()
        self.routes()
        self.reset()
        self.server: ThreadingHTTPServer | None = None

    # --- to implement --------------------------------------------------------------------------------------------
    def routes(self) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Put the site's data back to its initial state."""

    # --- framework -----------------------------------------------------------------------------------------------
    def add(self, method: str, pattern: str, fn: Callable[..., Response]) -> None:
        self._routes.append((method, re.compile("^" + self.prefix + pattern + "$"), fn))

    def log_in(self, username: str, password: str) -> str | None:
        if self.accounts.get(username) != password or not username:
            return None
        token = secrets.token_hex(16)
        self.sessions[token] = username
        return token

    def login_response(self, token: str, location: str) -> Response:
        r = redirect(location)
        r.headers["Set-Cookie"] = f"{self.name}_session={token}; Path=/; HttpOnly; SameSite=Lax"
        return r

    def dispatch(self, req: Request) -> Response:
        req.user = self.sessions.get(req.cookies.get(f"{self.name}_session", ""))
        for method, pattern, fn in self._routes:
            found = pattern.match(req.path)
            if found and method == req.method:
                req.params = found.groupdict()
                with self.lock:
                    return fn(req)
        return not_found()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def start(self) -> str:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                ctype = self.headers.get("Content-Type", "")
                form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()} \
                    if "form-urlencoded" in ctype else {}
                data = json.loads(body) if "json" in ctype and body else None
                cookies = {}
                for part in (self.headers.get("Cookie") or "").split(";"):
                    if "=" in part:
                        k, v = part.strip().split("=", 1)
                        cookies[k] = v
                req = Request(method, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}, form, data,
                              cookies, {k.lower(): v for k, v in self.headers.items()})
                try:
                    resp = site.dispatch(req)
                except Exception as exc:  # a bug in a stand-in page: a 500 page, never a dead server
                    resp = Response(500, f"<html><body><h1>Server error</h1><p>{esc(repr(exc))}</p></body></html>")
                payload = resp.body.encode("utf-8")
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Cache-Control", "no-store")
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name=f"standin-{self.name}", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def document(title: str, body: str, style: str = "") -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>body{{font-family:sans-serif;margin:0}} header,main,footer{{padding:8px 16px}} {style}</style>"
            f"</head><body>{body}</body></html>")
