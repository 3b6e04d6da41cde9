"""`HttpSession`: one connection's paced, classified, retried and redacted HTTP client."""

from __future__ import annotations

import json as jsonlib
import logging
import ssl
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx

from connector.clock import Clock
from connector.errors import ConfigError, ProtocolError, RateLimited, Timeout, Unavailable
from connector.http.auth import secrets_of
from connector.http.body import ACCEPT_ENCODING, UnreadableBody, read_bounded
from connector.http.classify import Classifier, classify_exception, describe
from connector.http.config import HttpConfig
from connector.http.deadline import DeadlineClient, deadline
from connector.http.pacing import Pacer
from connector.http.redact import excerpt, redact
from connector.http.retry import retry_policy
from connector.observability.events import get_logger
from connector.observability.metrics import observe_request

__all__ = ["HttpSession", "encode_json", "split_json_array"]

log = get_logger("connector.http")

OnResponse = Callable[[str, str, int, float], None]
_UNSAFE = frozenset({"POST", "PATCH"})  # not idempotent: an unanswered one may still have happened


def encode_json(value: Any) -> bytes:
    """Encode a request body as JSON, writing `Decimal` values as exact JSON numbers (never via float).

    Args:
        value: JSON-able data; Decimals allowed anywhere.

    Returns:
        UTF-8 bytes.

    Raises:
        ValueError: a NaN or infinite Decimal.
    """
    marker = uuid.uuid4().hex
    numbers: list[str] = []

    def swap(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise ValueError(f"cannot send non-finite number {obj}")
            numbers.append(format(obj, "f"))
            return f"{marker}{len(numbers) - 1}{marker}"
        if isinstance(obj, Mapping):
            return {k: swap(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [swap(v) for v in obj]
        return obj

    text = jsonlib.dumps(swap(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for i, number in enumerate(numbers):
        text = text.replace(f'"{marker}{i}{marker}"', number, 1)
    return text.encode()


_DECODER = jsonlib.JSONDecoder(parse_float=Decimal, parse_constant=lambda name: _refuse_constant(name))
_SPACE = " \t\n\r"


def split_json_array(text: str) -> list[tuple[Any, str]]:
    """Decode a JSON array into (element, element's source text) pairs.

    Raises:
        ValueError: not a JSON array, or malformed.
    """
    end = len(text)
    i = _skip_space(text, 0)
    if i >= end or text[i] != "[":
        raise ValueError("expected a JSON array")
    i = _skip_space(text, i + 1)
    items: list[tuple[Any, str]] = []
    if i < end and text[i] == "]":
        return _trailing(text, i + 1, items)
    while True:
        value, stop = _DECODER.raw_decode(text, i)
        items.append((value, text[i:stop]))
        i = _skip_space(text, stop)
        if i < end and text[i] == ",":
            i = _skip_space(text, i + 1)
            continue
        if i < end and text[i] == "]":
            return _trailing(text, i + 1, items)
        raise ValueError(f"expected ',' or ']' at char {i}")


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def _trailing(text: str, i: int, items: list[tuple[Any, str]]) -> list[tuple[Any, str]]:
    if _skip_space(text, i) != len(text):
        raise ValueError(f"extra data after the array at char {i}")
    return items


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


_TLS_CONTEXTS: dict[bool, ssl.SSLContext] = {}
_TLS_LOCK = threading.Lock()


def _default_tls(verify: bool) -> ssl.SSLContext:
    """httpx's TLS context for `verify`, built once per process: building one loads the whole CA bundle
    (milliseconds each time a connection's session is made), and a context is safe to share."""
    with _TLS_LOCK:
        context = _TLS_CONTEXTS.get(verify)
        if context is None:
            context = _TLS_CONTEXTS[verify] = httpx.create_ssl_context(verify=verify)
        return context


class HttpSession:
    """Sends a connection's requests: paces, sends, observes, classifies, retries, and never leaks a secret.

    Args:
        config: the connection's HTTP settings.
        clock: time source (pacing, retries, metrics).
        pacer: the connection's shared pacer; one is built from `config` when omitted.
        classifier: the provider's status table; the default table when omitted.
        transport: an httpx transport (tests); the real network when omitted.
        on_response: ``(provider, method, status or 0, seconds)`` after every attempt, for metrics.
    """

    def __init__(
        self,
        config: HttpConfig,
        *,
        clock: Clock,
        pacer: Pacer | None = None,
        classifier: Classifier | None = None,
        transport: httpx.BaseTransport | None = None,
        on_response: OnResponse | None = None,
    ) -> None:
        """Build the underlying `httpx.Client` (no redirects followed: credentials stay on the service).

        Raises:
            ConfigError: the CA bundle named by ``config.verify`` cannot be loaded.
        """
        self.config = config
        self.clock = clock
        self.pacer = pacer or Pacer(clock, limit=config.rate_limit, window_seconds=config.rate_window_seconds,
                                    reserve=config.rate_reserve, name=config.connection)
        self.classifier = classifier or Classifier()
        self.on_response = on_response
        self.secrets = tuple(dict.fromkeys(s for s in (*config.secrets, *secrets_of(config.auth)) if s))
        self.requests_made = 0
        self._count_lock = threading.Lock()
        verify: ssl.SSLContext | bool = _default_tls(config.verify) if isinstance(config.verify, bool) else True
        if isinstance(config.verify, str) and transport is None:
            try:
                verify = ssl.create_default_context(cafile=config.verify)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"connection '{config.connection}'", "verify",
                                  f"cannot load CA bundle {config.verify}: {exc.strerror or exc}") from None
        base = urlsplit(config.base_url)
        self._origin = (base.scheme.lower(), base.netloc.lower())
        self._client = DeadlineClient(
            base_url=config.base_url, auth=config.auth, headers={"Accept-Encoding": ACCEPT_ENCODING, **config.headers},
            timeout=config.timeout_seconds, verify=verify, transport=transport, follow_redirects=False,
        )

    # -- public -------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        """Send one request and return its successful response.

        Args:
            method: HTTP method.
            path: path relative to the base URL, or an absolute URL on the same origin (a next link).
            params: query parameters.
            json: a JSON body (Decimals are sent as exact numbers).
            data: a form body.
            content: a raw body.
            headers: extra headers for this request (never credentials: those come from the auth).
            retry: retry Transient errors. Pass False for non-idempotent writes (POST): a timeout or a
                dropped connection then raises Timeout/Unavailable at once, since the write may have happened.

        Returns:
            The response (2xx, body read).

        Raises:
            ProviderError: the typed, redacted error (a `Transient` one after the retries ran out).
        """
        method = method.upper()
        self._check_origin(path)
        body = encode_json(json) if json is not None else content
        extra = dict(headers or {})
        if json is not None:
            extra.setdefault("Content-Type", "application/json")

        def attempt() -> httpx.Response:
            return self._send(method, path, retry, params=params, data=data, content=body, headers=extra)

        if not retry or self.config.max_attempts <= 1:
            return attempt()
        return retry_policy(self.config, self.clock)(attempt)

    def get_json(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        """GET a path and decode its JSON body (numbers with a fraction become `Decimal`, never float).

        Args:
            path: path relative to the base URL (or a same-origin absolute URL).
            params: query parameters.

        Returns:
            The decoded body.

        Raises:
            ProtocolError: the body is not JSON (HTML, XML, truncated, empty).
            ProviderError: anything `request` raises.
        """
        return self.decode_json(self.request("GET", path, params=params))

    def get_json_array(self, path: str, *, params: Mapping[str, Any] | None = None) -> list[tuple[Any, str]]:
        """GET a path whose body is a JSON array; return each element with its own source text.

        The text is the service's exact bytes for that element, so a caller can hash and keep a raw
        payload without encoding it again (the hot path of a first load). Decoding is the same C
        scanner as `get_json`, element by element.

        Raises:
            ProtocolError: the body is not a JSON array (HTML, XML, an object, truncated).
            ProviderError: anything `request` raises.
        """
        response = self.request("GET", path, params=params)
        try:
            return split_json_array(response.content.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            self._protocol_error(response, exc)

    def decode_json(self, response: httpx.Response) -> Any:
        """Decode a response body as JSON with ``parse_float=Decimal``.

        Args:
            response: a received response.

        Returns:
            The decoded body.

        Raises:
            ProtocolError: not JSON, with a short redacted excerpt of what came instead.
        """
        try:
            return jsonlib.loads(response.content, parse_float=Decimal, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            self._protocol_error(response, exc)

    def _protocol_error(self, response: httpx.Response, exc: Exception) -> NoReturn:
        reason = redact(str(exc), self.secrets)[:80] if response.content else "empty body"
        where = describe(response, body=False)
        shown = excerpt(response.text, self.secrets) or "(nothing)"
        raise ProtocolError(
            f"{where}: expected JSON ({reason}); got: {shown}",
            provider=self.config.provider,
            connection=self.config.connection,
        ) from None

    def server_now(self) -> datetime | None:
        """Return the service's clock (last Date header plus time elapsed since); None before any answer."""
        return self.pacer.server_now()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------------

    def _check_origin(self, path: str) -> None:
        """Refuse an absolute URL off the service's origin: the auth would go with it."""
        target = urlsplit(path)
        if target.scheme and (target.scheme.lower(), target.netloc.lower()) != self._origin:
            raise ProtocolError(redact(f"refusing to send credentials to {target.scheme}://{target.netloc}",
                                       self.secrets),
                                provider=self.config.provider, connection=self.config.connection)

    def _send(self, method: str, path: str, retry: bool, **kwargs: Any) -> httpx.Response:
        """One attempt: pace, send, observe, classify."""
        names = {"provider": self.config.provider, "connection": self.config.connection}
        try:
            request = self._client.build_request(method, path, **kwargs)
        except httpx.InvalidURL as exc:
            raise ProtocolError(redact(f"{method} {urlsplit(path).path}: invalid URL: {exc}", self.secrets),
                                **names) from None
        self.pacer.acquire()
        started = self.clock.monotonic()
        with self._count_lock:
            self.requests_made += 1
        try:
            response = self._receive(request, started)
        except httpx.RequestError as exc:  # transport failures (a passed deadline is a timeout)
            self._report(request, 0, started)
            error = classify_exception(exc, request, secrets=self.secrets, **names)
            if not retry and method in _UNSAFE and isinstance(error, Timeout | Unavailable):
                error.detail += " (not retried: the write may or may not have happened)"
                error.args = (f"{error.args[0]} (not retried: the write may or may not have happened)",)
            raise error from None
        finally:
            self.pacer.release()
        self._report(request, response.status_code, started)
        problem = self.classifier.classify(response, secrets=self.secrets, now=self.clock.now(), **names)
        if problem is not None:
            if isinstance(problem, RateLimited) and problem.retry_after:
                self.pacer.hold(problem.retry_after)
            raise problem
        return response

    def _receive(self, request: httpx.Request, started: float) -> httpx.Response:
        """Send `request`, let the pacer see its headers, and read its body: all within the request
        deadline, the body within the size limit (decoded).

        Raises:
            httpx.RequestError: a transport failure, or the deadline passed.
            ProtocolError: the body is larger than allowed or cannot be decoded (the answer is reported).
        """
        with deadline(self.config.request_deadline):
            response = self._client.send(request, stream=True)
            try:
                self.pacer.observe(response)
                body = read_bounded(response, self.config.max_body_bytes)
            except UnreadableBody as exc:
                self._report(request, response.status_code, started)
                raise ProtocolError(
                    redact(f"{request.method} {request.url.path} -> {response.status_code}: {exc}", self.secrets),
                    provider=self.config.provider, connection=self.config.connection,
                ) from None
            finally:
                response.close()
        # What httpx's own read() does, with the body read under our bounds; the stream is dropped, as its
        # wrapper points back at the response (a cycle keeping every page alive until a full collection).
        response._content = body
        response.stream = httpx.ByteStream(b"")
        return response

    def _report(self, request: httpx.Request, status: int, started: float) -> None:
        seconds = self.clock.monotonic() - started
        if log.is_enabled_for(logging.DEBUG):
            log.debug("request", connection=self.config.connection, method=request.method,
                      path=redact(request.url.path, self.secrets), status=status or None, seconds=round(seconds, 3))
        # observability hook: a no-op unless the daemon installed its metrics; never raises
        observe_request(self.config.provider, self.config.connection, request.method, status, seconds,
                        self.pacer.remaining)
        if self.on_response is not None:
            try:
                self.on_response(self.config.provider, request.method, status, seconds)
            except Exception:  # a broken metrics hook must not fail the sync
                log.warning("on_response hook failed", exc_info=True)

