"""`SandboxApp`: the lifecycle every sandbox shares (start/stop, ``with``, URLs, control routes, seed/reset)."""

from __future__ import annotations

import ssl
from typing import Any, ClassVar, Protocol, Self

from sandboxes._control import Controls
from sandboxes._quirks import Quirk
from sandboxes._server import Request, Response, Router, SandboxServer

__all__ = ["CONTROL_PREFIX", "SandboxApp", "ServiceControlsLike"]

CONTROL_PREFIX = "/_sandbox"


class ServiceControlsLike(Protocol):
    """What a service's own `ServiceControls` offers the lifecycle."""

    def register(self, router: Router, prefix: str = CONTROL_PREFIX) -> None:
        """Mount the control routes under `prefix`."""

    def reset(self) -> object:
        """Back to an empty sandbox."""

    def seed(self, *args: Any, **values: Any) -> dict[str, int]:
        """Replace all data deterministically; returns counts."""


class SandboxApp:
    """Base of the four sandbox classes; a subclass sets `api_prefix`, `controls` and calls `_mount` last.

    The subclass keeps its own request pipeline (`dispatch`) and its own `credentials`.
    """

    api_prefix: ClassVar[str]
    declared_quirks: ClassVar[tuple[Quirk, ...]] = ()  # its quirk switches (the constructor takes `quirks=`)
    controls: Controls
    service_controls: ServiceControlsLike
    control_router: Router
    _server: SandboxServer

    def dispatch(self, request: Request) -> Response:
        """Answer one request (the service's pipeline)."""
        raise NotImplementedError

    def _mount(self, service_controls: ServiceControlsLike, port: int,
               ssl_context: ssl.SSLContext | None = None) -> None:
        """Mount the control routes under ``/_sandbox`` and build the (not yet started) server."""
        self.service_controls = service_controls
        self.control_router = Router()
        service_controls.register(self.control_router, CONTROL_PREFIX)
        self._server = SandboxServer(self.dispatch, port, ssl_context=ssl_context)

    def _control(self, request: Request) -> Response:
        """Answer a request under ``/_sandbox`` (JSON 404/405 for an unknown route or method)."""
        handler, allowed = self.control_router.resolve(request)
        if handler is not None:
            return handler(request)
        return Response(405 if allowed else 404, b'{"error":"no such control route"}')

    # -- public surface ------------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve in a background thread; returns self."""
        self.controls.stopping.clear()
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving (interrupting injected waits)."""
        self.controls.stopping.set()
        self._server.stop()

    def __enter__(self) -> Self:
        """Start on entering a ``with`` block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving it."""
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        return self._server.port

    @property
    def base_url(self) -> str:
        """The API root: the origin plus the service's API prefix, e.g. ``http://127.0.0.1:54321/api/v1``."""
        return self._server.origin + self.api_prefix

    @property
    def control_url(self) -> str:
        """The control surface root on the same port, e.g. ``http://127.0.0.1:54321/_sandbox``."""
        return self._server.origin + CONTROL_PREFIX

    @property
    def credentials(self) -> dict[str, Any]:
        """What a client needs to authenticate (the service defines it)."""
        raise NotImplementedError

    def seed(self, **values: Any) -> dict[str, int]:
        """Replace all data deterministically (same keys as POST /_sandbox/seed; None: that key's default).

        Returns:
            The counts of generated records.
        """
        return self.service_controls.seed(**{k: v for k, v in values.items() if v is not None})

    def reset(self) -> None:
        """The service's own reset: empty state, no faults, empty log, fresh rate counters, real time."""
        self.service_controls.reset()
