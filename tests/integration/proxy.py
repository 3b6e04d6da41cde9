"""A hostile middleman on a real loopback socket: forwards every request to a sandbox, and lets a test act
before a GET is forwarded (`before`) or after the sandbox answered it (`after`), or rewrite its JSON list
answer (`rewrite`), to play a service that shifts its listing at a chosen moment (even between two
concurrent page reads), repeats records on a page, or caps `count`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

__all__ = ["ListingProxy", "listing_proxy"]

Before = Callable[[str, dict[str, str], int], None]  # (path, query, n-th request to that path)
Rewrite = Callable[[str, dict[str, str], list[Any]], list[Any]]  # (path, query, decoded list) -> list to send

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class ListingProxy:
    """Forwards to `upstream` (the sandbox's API root); `url` is its own API root.

    Args:
        upstream: the sandbox's API root (``http://127.0.0.1:N/api/v1``).
        before: called before a GET is forwarded (with the request's number for that path, from 1).
        rewrite: called with a GET's decoded JSON list; what it returns is sent instead.
        after: called once the sandbox answered a GET (same arguments as `before`).
    """

    def __init__(
        self, upstream: str, before: Before | None = None, rewrite: Rewrite | None = None, after: Before | None = None
    ) -> None:
        """Bind 127.0.0.1:0 (not serving yet)."""
        self.upstream = upstream.rstrip("/")
        self.before, self.rewrite, self.after = before, rewrite, after
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.client = httpx.Client(timeout=60)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def url(self) -> str:
        """The proxy's API root, to put in a connection's `base_url`."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{urlsplit(self.upstream).path}"

    def _forward(
        self, method: str, raw: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(raw)
        path = parts.path[len(urlsplit(self.upstream).path):].strip("/")
        query = dict(parse_qsl(parts.query))
        n = 0
        if method == "GET":
            with self.lock:
                n = self.counts[path] = self.counts.get(path, 0) + 1
            if self.before is not None:
                self.before(path, query, n)
        target = f"{self.upstream}/{path}" + (f"?{parts.query}" if parts.query else "")
        sent = {k: v for k, v in headers.items() if k.lower() not in _HOP}
        answer = self.client.request(method, target, headers=sent, content=body)
        if method == "GET" and self.after is not None:
            self.after(path, query, n)
        content = answer.content
        if method == "GET" and self.rewrite is not None and answer.status_code == 200:
            decoded = json.loads(content)
            if isinstance(decoded, list):
                content = json.dumps(self.rewrite(path, query, decoded)).encode()
        out = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP]
        return answer.status_code, out, content

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, content = proxy._forward(self.command, self.path, dict(self.headers.items()), body)
                self.send_response_only(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler

    def start(self) -> ListingProxy:
        """Serve on a thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the upstream client."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.client.close()


@contextmanager
def listing_proxy(
    upstream: str, before: Before | None = None, rewrite: Rewrite | None = None, after: Before | None = None
) -> Iterator[ListingProxy]:
    """A started `ListingProxy`, stopped afterwards."""
    proxy = ListingProxy(upstream, before, rewrite, after).start()
    try:
        yield proxy
    finally:
        proxy.stop()
