"""One port for operations: `/metrics` (Prometheus), `/healthz` (scheduler fresh) and `/readyz` (store usable).

A stdlib `ThreadingHTTPServer` on a daemon thread; nothing here blocks or is blocked by the sync work.
prometheus-client's own WSGI app was considered for `/metrics` and not taken: it answers HEAD with 405, and the
three paths would then need a WSGI server of their own; its encoders (`choose_encoder`, `gzip_accepted`) are
used here, so the body is the same.

    GET /metrics   the registry in the Prometheus text format (OpenMetrics when the scraper asks for it;
                   gzip when it accepts it; `?name[]=...` for some families only)
    HEAD           any path: the GET's status and headers without the body (load balancers, uptime checks)
    GET /healthz   200 while the heartbeat is fresh, else 503; JSON {"status", "last_tick_age_seconds", ...}
    GET /readyz    200 when the database answers and is migrated, else 503; JSON {"status", "reason", ...}
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from prometheus_client.exposition import choose_encoder, gzip_accepted

from connector.observability.events import get_logger
from connector.observability.health import Heartbeat, Readiness
from connector.observability.metrics import Metrics

__all__ = ["DEFAULT_PORT", "ObservabilityServer", "serve"]

DEFAULT_PORT = 9464
"""The metrics port (the Prometheus exporter port registered for OpenTelemetry); the Dockerfile exposes it."""

log = get_logger("connector.observability")

ReadinessCheck = Callable[[], Readiness]


class ObservabilityServer:
    """A running `/metrics` + `/healthz` + `/readyz` server; stop it with `stop()` (or use it as a context).

    Attributes:
        host: the address it listens on.
        port: the port it listens on (the real one when 0 was asked for).
    """

    def __init__(self, httpd: _Server, thread: threading.Thread) -> None:
        """Wrap a started server and its thread (use `serve` to make one)."""
        self._httpd = httpd
        self._thread = thread
        self.host = str(httpd.server_address[0])
        self.port = int(httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:9464`` (for tests and log lines)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        """Stop serving and close the socket; idempotent."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> ObservabilityServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve(
    metrics: Metrics,
    heartbeat: Heartbeat,
    readiness: ReadinessCheck,
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
) -> ObservabilityServer:
    """Start serving `/metrics`, `/healthz` and `/readyz` on one port, on a daemon thread.

    Args:
        metrics: whose registry `/metrics` exposes.
        heartbeat: ticked by the scheduler; `/healthz` reports its freshness.
        readiness: called on every `/readyz` (e.g. `DatabaseReadiness(engine)`); must not raise.
        port: TCP port; 0 picks a free one (read it back from `.port`).
        host: address to bind; ``0.0.0.0`` in a container so Prometheus can reach it.

    Returns:
        The running server.

    Raises:
        OSError: the address is in use or cannot be bound.
    """
    httpd = _Server((host, port), _Handler)
    httpd.metrics, httpd.heartbeat, httpd.readiness = metrics, heartbeat, readiness
    thread = threading.Thread(target=httpd.serve_forever, args=(0.2,), name="observability-http", daemon=True)
    thread.start()
    server = ObservabilityServer(httpd, thread)
    log.info("observability server listening", host=server.host, port=server.port,
             paths="/metrics,/healthz,/readyz")
    return server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    metrics: Metrics
    heartbeat: Heartbeat
    readiness: ReadinessCheck


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "connector"
    _with_body = True  # False while answering a HEAD

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        self._with_body = with_body
        path, _, query = self.path.partition("?")
        if path == "/metrics":
            self._metrics(parse_qs(query))
        elif path == "/healthz":
            body = self.server.heartbeat.describe()
            self._json(200 if body["status"] == "ok" else 503, body)
        elif path == "/readyz":
            self._json(*self._ready())
        else:
            self._json(404, {"error": "no such path; known: /metrics, /healthz, /readyz"})

    def _metrics(self, params: dict[str, list[str]]) -> None:
        encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
        registry = self.server.metrics.registry
        if "name[]" in params:
            registry = registry.restricted_registry(params["name[]"])  # type: ignore[assignment]
        payload = encoder(registry)
        if gzip_accepted(self.headers.get("Accept-Encoding", "")):
            self._send(200, gzip.compress(payload), content_type, encoding="gzip")
        else:
            self._send(200, payload, content_type)

    def _ready(self) -> tuple[int, dict[str, Any]]:
        try:
            answer = self.server.readiness()
        except Exception as exc:  # the check promised not to raise; answer anyway
            answer = Readiness(False, f"readiness check failed: {type(exc).__name__}")
        body = {"status": "ready" if answer.ready else "not ready", "reason": answer.reason,
                "revision": answer.revision, "head": answer.head}
        return (200 if answer.ready else 503), body

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode() + b"\n", "application/json")

    def _send(self, status: int, payload: bytes, content_type: str, *, encoding: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if encoding is not None:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self._with_body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("observability request", line=format % args)
