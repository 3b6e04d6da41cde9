"""Threaded stdlib HTTP/1.1 server on loopback with a tiny segment router, reusable by every sandbox.

With an `ssl.SSLContext` the server speaks HTTPS only: each connection's TLS handshake runs in its own
handler thread (a slow client never holds up the accept loop), and a plain-HTTP request on the TLS port
is answered ``400`` in plain text and closed, as nginx answers one on its HTTPS port.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

__all__ = ["Handler", "Request", "Response", "Router", "SandboxServer", "json_response", "text_response"]


@dataclass(slots=True)
class Request:
    """One parsed HTTP request: raw (percent-encoded) path, query, headers and body."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    _query: dict[str, list[str]] | None = None

    @property
    def query(self) -> dict[str, list[str]]:
        """Query parameters (blank values kept), parsed on first use."""
        if self._query is None:
            self._query = parse_qs(self.raw_query, keep_blank_values=True)
        return self._query

    def arg(self, name: str) -> str | None:
        """The first value of query parameter `name`, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        """A request header (case-insensitive), or None."""
        return self.headers.get(name)


@dataclass(slots=True)
class Response:
    """What a handler answers; `drop` closes the connection without writing anything."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False


Handler = Callable[[Request], Response]


def json_response(value: Any, status: int = 200) -> Response:
    """A compact JSON answer (for control surfaces; services serialize their own wire format)."""
    return Response(status, json.dumps(value, separators=(",", ":")).encode(), "application/json")


def text_response(text: str, status: int, content_type: str = "text/plain; charset=utf-8") -> Response:
    """A plain-text answer."""
    return Response(status, text.encode("utf-8"), content_type)


class Router:
    """Routes by method and path segments; `{name}` captures one (percent-decoded) segment."""

    def __init__(self) -> None:
        """Start with no routes."""
        self._routes: list[tuple[str, tuple[str, ...], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Register `handler` for `method` on `pattern` such as ``/api/v1/clients/{id}``."""
        self._routes.append((method.upper(), _segments(pattern), handler))

    def resolve(self, request: Request) -> tuple[Handler | None, list[str]]:
        """Find the handler; returns (None, allowed methods) when only the method does not fit.

        A matched route stores its captures in ``request.params``.
        """
        segments = _segments(request.raw_path)
        allowed: list[str] = []
        for method, pattern, handler in self._routes:
            params = _match(pattern, segments)
            if params is None:
                continue
            if method == request.method:
                request.params = params
                return handler, []
            allowed.append(method)
        return None, allowed


def _segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)


def _match(pattern: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{") and want.endswith("}"):
            params[want[1:-1]] = unquote(got)
        elif want != got:
            return None
    return params


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], dispatch: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.dispatch = dispatch
        self.ssl_context = ssl_context
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection refused at the TLS layer is the client's problem: no traceback for it."""
        if isinstance(sys.exc_info()[1], _TlsRefused):
            return
        super().handle_error(request, client_address)


class _TlsRefused(Exception):
    """The connection did not become a TLS session (plain HTTP, a failed handshake, a hang-up)."""


_PLAIN_HTTP_ANSWER = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      b"Content-Length: 47\r\nConnection: close\r\n\r\n"
                      b"The plain HTTP request was sent to HTTPS port.\n")
_TLS_HANDSHAKE_SECONDS = 10.0


def _start_tls(sock: socket.socket, context: ssl.SSLContext) -> ssl.SSLSocket:
    """Turn an accepted socket into a server-side TLS socket, or refuse it.

    Raises:
        _TlsRefused: the client sent plain HTTP (answered 400 first), failed the handshake or hung up.
    """
    sock.settimeout(_TLS_HANDSHAKE_SECONDS)
    try:
        first = sock.recv(1, socket.MSG_PEEK)
        if first and first != b"\x16":  # not a TLS handshake record: plain text on the TLS port
            sock.sendall(_PLAIN_HTTP_ANSWER)
            raise _TlsRefused("plain HTTP on the TLS port")
        if not first:
            raise _TlsRefused("closed before the handshake")
        tls = context.wrap_socket(sock, server_side=True)
    except (OSError, ssl.SSLError) as exc:
        raise _TlsRefused(str(exc)) from None
    tls.settimeout(None)
    return tls


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sandbox"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        context = self.server.ssl_context
        if context is not None:
            self.request = _start_tls(self.request, context)
        super().setup()
        # One write per answer plus TCP_NODELAY: no Nagle/delayed-ACK stalls on keep-alive connections.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()
        if isinstance(self.connection, ssl.SSLSocket):  # socketserver closes only the raw socket it accepted
            with contextlib.suppress(OSError):
                self.connection.close()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr log."""

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        request = Request(self.command, path, query, self.headers, self._read_body())  # type: ignore[arg-type]
        try:
            response = self.server.dispatch(request)
        except Exception:  # a sandbox bug: answer 500 and show it, never kill the connection thread
            traceback.print_exc(file=sys.stderr)
            response = text_response("internal sandbox error", 500)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write(response)

    def _write(self, response: Response) -> None:
        lines = [f"HTTP/1.1 {response.status} {_reason(response.status)}"]
        names = set()
        for name, value in response.headers:
            lines.append(f"{name}: {value}")
            names.add(name.lower())
        if response.content_type and "content-type" not in names:
            lines.append(f"Content-Type: {response.content_type}")
        if "date" not in names:
            lines.append(f"Date: {self.date_time_string()}")
        lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = b"" if self.command == "HEAD" else response.body
        try:
            self.wfile.write(head + body)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class SandboxServer:
    """Serves one dispatch function on 127.0.0.1 from a background thread (keep-alive, daemon threads)."""

    def __init__(self, dispatch: Handler, port: int = 0, host: str = "127.0.0.1",
                 ssl_context: ssl.SSLContext | None = None) -> None:
        """Args: dispatch: called once per request. port: 0 picks a free port. host: the bind address.
        ssl_context: a server-side context to serve HTTPS only (None: plain HTTP)."""
        self._dispatch = dispatch
        self._address = (host, port)
        self._ssl_context = ssl_context
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (after `start`)."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` with an SSL context)."""
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{self._address[0]}:{self.port}"

    def start(self) -> None:
        """Bind and serve in a daemon thread; idempotent."""
        if self._httpd is not None:
            return
        self._httpd = _Server(self._address, self._dispatch, self._ssl_context)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sandbox:{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket and every open keep-alive connection."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with httpd.sockets_lock:
            for sock in list(httpd.open_sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
