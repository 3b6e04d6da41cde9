"""An overall deadline per request (connect, headers and body together), not only a timeout per read.

httpx's timeouts bound each socket operation, so an answer that drips one byte a second never times out.
Here every socket wait of a request is cut to the time left until the request's deadline: the session sets
the deadline (a context variable, so each thread has its own) around sending a request and reading its
body, and the network backend's streams read it on every read and write. Once it has passed, the wait ends
in httpcore's own timeout error (``ReadTimeout``, ``WriteTimeout``, ``ConnectTimeout``), which httpx maps
to ``httpx.TimeoutException`` and the classifier to the transient `Timeout`: the retry policy applies.

Not bounded: name resolution (``getaddrinfo`` takes no timeout) and waiting for a free pooled connection.
A request body is written in slices of 64 KiB, each cut to the time left when it starts (the connector's
bodies are one slice; a service that drains a huge upload a byte at a time could stretch a slice).
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import httpcore
import httpx

__all__ = ["DeadlineBackend", "DeadlineClient", "DeadlineTransport", "deadline"]

_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("connector_http_deadline", default=None)
_WRITE_SLICE = 64 * 1024  # a write gets the time left afresh every slice
_T = TypeVar("_T")


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Give every socket wait inside the block at most `seconds` in total (None: no deadline).

    Args:
        seconds: the request's whole budget, counted from entering the block (real time: it bounds
            real sockets, whatever clock the caller paces with).
    """
    token = _DEADLINE.set(None if seconds is None else (time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _cut(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` shortened to the time left before the deadline; `error` once nothing is left."""
    current = _DEADLINE.get()
    if current is None:
        return timeout
    end, seconds = current
    left = end - time.monotonic()
    if left <= 0:
        raise error(f"no complete answer within the request deadline of {seconds:g}s")
    return left if timeout is None else min(timeout, left)


def _within(error: type[Exception], timeout: float | None, wait: Callable[[float | None], _T]) -> _T:
    """Run one socket wait with `timeout` cut to the deadline; a wait cut short says so in its error."""
    try:
        return wait(_cut(timeout, error))
    except error:
        current = _DEADLINE.get()
        if current is not None and time.monotonic() >= current[0]:
            _cut(timeout, error)  # raises with the deadline's message: a per-read timeout alone would not fire
        raise


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose reads and writes never wait past the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _within(httpcore.ReadTimeout, timeout, lambda left: self._inner.read(max_bytes, left))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), _WRITE_SLICE):
            piece = buffer[start:start + _WRITE_SLICE]  # the whole buffer, uncopied, when it fits one slice
            _within(httpcore.WriteTimeout, timeout, functools.partial(self._inner.write, piece))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _cut(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend with every connect, read and write cut to the request's deadline.

    Args:
        inner: the backend doing the work (httpcore's synchronous one by default).
    """

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        """Wrap `inner`."""
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect within the time left; the stream keeps honouring the deadline of each later request."""
        stream = self._inner.connect_tcp(host, port, _cut(timeout, httpcore.ConnectTimeout), local_address,
                                         socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        """Connect a Unix socket within the time left."""
        stream = self._inner.connect_unix_socket(path, _cut(timeout, httpcore.ConnectTimeout), socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        """httpcore's connect-retry pause (unused: retries are the session's)."""
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """`httpx.HTTPTransport` (direct or through a proxy) whose connections use `DeadlineBackend`.

    Takes `httpx.HTTPTransport`'s arguments.
    """

    def __init__(self, **kwargs: Any) -> None:
        """Build httpx's transport, then put the deadline under its pool's connections."""
        super().__init__(**kwargs)
        # httpx does not pass a network backend through; the pool reads this attribute for every new
        # connection (tests/hostile prove it still does after an upgrade).
        pool: Any = self._pool
        pool._network_backend = DeadlineBackend(pool._network_backend)


class DeadlineClient(httpx.Client):
    """`httpx.Client` whose own transports (the direct one and any proxy from the environment) honour
    `deadline`; a transport given explicitly (tests) is used as it is."""

    def _init_transport(self, *args: Any, transport: httpx.BaseTransport | None = None,
                        **kwargs: Any) -> httpx.BaseTransport:
        return transport if transport is not None else DeadlineTransport(*args, **kwargs)

    def _init_proxy_transport(self, proxy: httpx.Proxy, *args: Any, **kwargs: Any) -> httpx.BaseTransport:
        return DeadlineTransport(*args, proxy=proxy, **kwargs)
