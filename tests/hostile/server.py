"""A small hostile HTTP/1.1 server on plain sockets and threads: answers that drip, bombs, and a normal page.

Every connection carries one request and is closed after its answer (``Connection: close``). A route is a
function writing the whole answer to the socket itself, so it can be as slow or as odd as it likes; a
path with no route is forwarded to `upstream` (a sandbox) when one is given, else answered 404.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import urlsplit

import httpx


@dataclass
class Request:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """The target without its query string."""
        return urlsplit(self.target).path


Route = Callable[["HostileServer", socket.socket, Request], None]


def head(status: int, headers: dict[str, str], reason: str = "X") -> bytes:
    """A status line and headers, ``Date`` and ``Connection: close`` added."""
    lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(sock: socket.socket, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """Send a complete answer at once."""
    extra = {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}
    sock.sendall(head(status, extra) + body)


def bomb(decoded_size: int, prefix: bytes = b'[{"clientnr": 1}', suffix: bytes = b"]") -> bytes:
    """A gzip body that inflates to `decoded_size` bytes of valid JSON: `prefix`, spaces, `suffix`."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [packer.compress(prefix)]
    left = decoded_size - len(prefix) - len(suffix)
    block = b" " * (1 << 20)
    while left > 0:
        parts.append(packer.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts += [packer.compress(suffix), packer.flush()]
    return b"".join(parts)


@dataclass
class HostileServer:
    """The server; `routes` maps a path to how it is answered.

    Args:
        routes: path -> route.
        upstream: base URL (scheme://host:port) that unrouted paths are forwarded to.
    """

    routes: dict[str, Route] = field(default_factory=dict)
    upstream: str | None = None
    seen: list[Request] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> HostileServer:
        """Start accepting."""
        self._accept.start()
        return self

    def stop(self) -> None:
        """Stop accepting and end every drip (each waits on `stopping`)."""
        self.stopping.set()
        self._accept.join(10)
        for thread in self._threads:
            thread.join(10)
        self._listener.close()

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        with self._lock:
            return [r.path for r in self.seen]

    def drip(self, sock: socket.socket, data: bytes, seconds: float = 1.0) -> None:
        """Send `data` one byte every `seconds`, until done, the client hangs up, or the server stops."""
        for i in range(len(data)):
            if self.stopping.wait(seconds if i else 0):
                return
            try:
                sock.sendall(data[i:i + 1])
            except OSError:
                return

    # -- internals ---------------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._one, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _one(self, sock: socket.socket) -> None:
        with sock:
            request = _read_request(sock)
            if request is None:
                return
            with self._lock:
                self.seen.append(request)
            route = self.routes.get(request.path)
            try:
                if route is not None:
                    route(self, sock, request)
                elif self.upstream:
                    self._forward(sock, request)
                else:
                    answer(sock, 404, b'"no such route"')
            except OSError:
                pass  # the client hung up (a deadline passed): nothing more to say

    def _forward(self, sock: socket.socket, request: Request) -> None:
        passed = {k: v for k, v in request.headers.items() if k in ("authorization", "content-type", "accept")}
        got = httpx.request(request.method, f"{self.upstream}{request.target}", headers=passed,
                            content=request.body, timeout=60)
        kept = {k: v for k, v in got.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding", "date")}
        answer(sock, got.status_code, got.content, kept)


def _read_request(sock: socket.socket) -> Request | None:
    sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    top, _, rest = data.partition(b"\r\n\r\n")
    first, *lines = top.decode("latin-1").split("\r\n")
    method, target, _version = first.split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Request(method, target, headers, rest)


# -- the routes --------------------------------------------------------------------------------------

PAGE = b'[{"clientnr": 1, "name": "Normal"}, {"clientnr": 2, "name": "Page"}]'
DRIPPED_BODY = b'[{"clientnr": 1, "name": "dripped, one byte a second"}]'  # 55 bytes: 55 s if waited out


def page(server: HostileServer, sock: socket.socket, request: Request) -> None:
    """A normal JSON page."""
    answer(sock, 200, PAGE)


def gzipped_page(server: HostileServer, sock: socket.socket, request: Request) -> None:
    """A normal JSON page, gzip-encoded."""
    answer(sock, 200, gzip.compress(PAGE), {"Content-Encoding": "gzip"})


def drip_body(server: HostileServer, sock: socket.socket, request: Request) -> None:
    """Headers at once, then the body one byte a second (each byte well within any read timeout)."""
    sock.sendall(head(200, {"Content-Type": "application/json", "Content-Length": str(len(DRIPPED_BODY))}))
    server.drip(sock, DRIPPED_BODY)


def drip_headers(server: HostileServer, sock: socket.socket, request: Request) -> None:
    """The status line and headers one byte a second, then a tiny body."""
    server.drip(sock, head(200, {"Content-Type": "application/json", "Content-Length": "2"}) + b"[]")


def bomb_route(body: bytes) -> Route:
    """A route answering `body` (a `bomb`) as a gzip-encoded JSON array."""

    def route(server: HostileServer, sock: socket.socket, request: Request) -> None:
        answer(sock, 200, body, {"Content-Encoding": "gzip"})

    return route


def rate_limited_once(retry_after: str = "1") -> Route:
    """FactuurSturen-like budget headers; the first answer is 429 with Retry-After and Remaining 0."""
    calls: list[float] = []

    def route(server: HostileServer, sock: socket.socket, request: Request) -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            headers = {"Retry-After": retry_after, "X-RateLimit-Limit": "250", "X-RateLimit-Remaining": "0"}
            answer(sock, 429, b'"Too Many Requests"', headers)
        else:
            answer(sock, 200, PAGE, {"X-RateLimit-Limit": "250", "X-RateLimit-Remaining": "249"})

    return route
