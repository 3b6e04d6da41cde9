"""One port for operations: `/metrics` (Prometheus), `/healthz` (scheduler fresh) and `/readyz` (store usable).

A stdlib `ThreadingHTTPServer` on a daemon thread; nothing here blocks or is blocked by the sync work.

    GET /metrics   the registry in the Prometheus text format (OpenMetrics when the scraper asks for it)
    GET /healthz   200 while the heartbeat is fresh, else 503; JSON {"status", "last_tick_age_seconds", ...}
    GET /readyz    200 when the database answers and is migrated, else 503; JSON {"status", "reason", ...}
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from prometheus_client.exposition import choose_encoder

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

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(200, encoder(self.server.metrics.registry), content_type)
        elif path == "/healthz":
            body = self.server.heartbeat.describe()
            self._json(200 if body["status"] == "ok" else 503, body)
        elif path == "/readyz":
            self._json(*self._ready())
        else:
            self._json(404, {"error": "no such path; known: /metrics, /healthz, /readyz"})

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

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("observability request", line=format % args)
