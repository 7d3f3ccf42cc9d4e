"""``harness view DIR``: serve the report on localhost (only the report file, nothing else under DIR)."""
from __future__ import annotations

import http.server
import socketserver
from pathlib import Path


class _Handler(http.server.BaseHTTPRequestHandler):
    report: Path

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.split("?", 1)[0] not in ("/", "/report.html", "/index.html"):
            self.send_error(404, "only the report is served here")
            return
        body = self.report.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # quiet
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


DEFAULT_PORT = 8765


def make_server(report: Path, host: str = "127.0.0.1", port: int | None = None) -> http.server.HTTPServer:
    """A server for ``report`` on ``host:port``; no port: 8765, or a free one when that is taken."""
    handler = type("ReportHandler", (_Handler,), {"report": Path(report)})
    if port is not None:
        return _Server((host, port), handler)
    try:
        return _Server((host, DEFAULT_PORT), handler)
    except OSError:
        return _Server((host, 0), handler)
