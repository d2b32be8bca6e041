"""A real HTTP server on 127.0.0.1 for the sync tests, with scriptable misbehaviour."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    content_type: str = "application/pdf"
    status: int = 200
    etag: bool = True  # send an ETag and honour If-None-Match
    delay_s: float = 0.0  # sleep before answering (timeouts)
    truncate: bool = False  # announce the full length, send half, close
    fail_first: int = 0  # answer 503 this many times first
    location: str | None = None  # a redirect (status 302) to this address
    hits: int = 0


@dataclass
class Server:
    base_url: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def start_server() -> tuple[Server, ThreadingHTTPServer]:
    state = Server(base_url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            state.requests.append((self.path, dict(self.headers.items())))
            route = state.routes.get(self.path)
            if route is None:
                self._send(404, b"not found", "text/plain")
                return
            route.hits += 1
            if route.location is not None:
                self.send_response(302)
                self.send_header("Location", route.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.delay_s:
                time.sleep(route.delay_s)
            if route.hits <= route.fail_first:
                self._send(503, b"busy", "text/plain")
                return
            etag = f'"{hashlib.sha256(route.body).hexdigest()[:16]}"'
            if route.etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(
                route.status,
                route.body,
                route.content_type,
                etag if route.etag else None,
                route.truncate,
            )

        def _send(
            self,
            status: int,
            body: bytes,
            ctype: str,
            etag: str | None = None,
            truncate: bool = False,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            if truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            try:
                self.wfile.write(body[: len(body) // 2] if truncate else body)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up (timeout test)
            if truncate:
                self.wfile.flush()
                self.close_connection = True

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return state, httpd
