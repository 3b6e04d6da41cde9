"""HTTP outcomes to typed errors by table (statuses and transport exceptions), with per-provider overrides."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from connector.errors import (
    AuthFailed,
    NotFound,
    ProtocolError,
    ProviderError,
    RateLimited,
    Rejected,
    Timeout,
    Unavailable,
    Unsupported,
    UntrustedCertificate,
)
from connector.http.redact import excerpt, redact

__all__ = [
    "DEFAULT_STATUS_MAP",
    "EXCEPTION_MAP",
    "Classifier",
    "Override",
    "classify_exception",
    "describe",
    "forbidden_with_zero_remaining_is_rate_limit",
    "parse_http_date",
    "rejection_fields",
    "retry_after_seconds",
]

Override = Callable[[httpx.Response], ProviderError | None]
"""A per-provider rule for one status: return the error to raise, or None for "this is a success"."""

# Exact codes win over ranges; None means success. A status in no row is a ProtocolError.
DEFAULT_STATUS_MAP: dict[int | range, type[ProviderError] | None] = {
    range(200, 300): None,
    range(300, 400): ProtocolError,  # redirects are not followed: a moved API is a configuration problem
    400: Rejected,
    401: AuthFailed,
    403: AuthFailed,
    404: NotFound,
    405: Rejected,
    408: Timeout,
    409: Rejected,
    410: NotFound,
    422: Rejected,
    425: Unavailable,
    429: RateLimited,
    range(400, 500): Rejected,
    501: Unsupported,
    range(500, 600): Unavailable,
}

# Transport failures, looked up along the exception's MRO (most specific first).
EXCEPTION_MAP: dict[type[Exception], type[ProviderError]] = {
    httpx.TimeoutException: Timeout,
    httpx.NetworkError: Unavailable,  # refused, reset, dropped
    httpx.RemoteProtocolError: Unavailable,  # the server hung up mid-answer
    httpx.ProxyError: Unavailable,
    httpx.LocalProtocolError: ProtocolError,
    httpx.UnsupportedProtocol: ProtocolError,
    httpx.DecodingError: ProtocolError,
    httpx.TooManyRedirects: ProtocolError,
    httpx.InvalidURL: ProtocolError,
}

# The secrets of the connection being classified, so `describe` redacts even inside provider overrides.
_SECRETS: ContextVar[tuple[str, ...]] = ContextVar("connector_http_secrets", default=())


@contextmanager
def _scrubbing(secrets: Iterable[str]) -> Iterator[None]:
    token = _SECRETS.set(tuple(secrets))
    try:
        yield
    finally:
        _SECRETS.reset(token)


def describe(response: httpx.Response, *, body: bool = True) -> str:
    """Return ``"METHOD /path -> status: <excerpt>"``: no query string, body redacted and at most 200 chars.

    Args:
        response: a received response.
        body: include a body excerpt.

    Returns:
        A short text for an error message.
    """
    head = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    text = excerpt(response.text, _SECRETS.get()) if body and response.content else ""
    return f"{head}: {text}" if text else head


def parse_http_date(value: str | None) -> datetime | None:
    """Parse an HTTP-date (``Date``, ``Retry-After``) into an aware UTC datetime; None if absent or bad."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Read ``Retry-After`` as delay-seconds or as an HTTP-date.

    Args:
        response: the response carrying the header.
        now: the current time, used for the HTTP-date form when the response has no ``Date`` header
            (the service's own Date is preferred: both dates then come from the same clock).

    Returns:
        Seconds to wait (never negative), or None when the header is absent or unreadable.
    """
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = parse_http_date(value)
    reference = parse_http_date(response.headers.get("date")) or now
    if when is None or reference is None:
        return None
    return max(0.0, (when - reference).total_seconds())


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return "" if value is None else str(value)


def _details(value: Any) -> dict[str, str]:
    """Field errors from the usual shapes: ``{field: msg}``, ``[{propertyPath|field, message}]``."""
    if isinstance(value, dict):
        return {str(k): _text(v) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, str] = {}
        for i, item in enumerate(value):
            if isinstance(item, dict):
                key = item.get("propertyPath") or item.get("field") or item.get("path") or str(i)
                out[str(key)] = _text(item.get("message") or item.get("detail") or item)
            else:
                out[str(i)] = _text(item)
        return out
    return {}


def rejection_fields(response: httpx.Response) -> tuple[str, str, dict[str, str]]:
    """Read (code, message, field details) from a 4xx body in any common shape, else its excerpt.

    Understands ``{"error": {code, message, details | fields}}``, ``{code, message}``, problem+json
    (``title``/``detail``/``violations``), JSON-LD errors under a vocabulary prefix (legacy Hydra's
    ``hydra:description``) and ``{"errors": ...}``;
    anything else (FactuurSturen's opaque text) becomes the message.

    Args:
        response: a 4xx response.

    Returns:
        code ("" if none), message (redacted, short) and details (field -> message).
    """
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    secrets = _SECRETS.get()
    if not isinstance(body, dict):
        return "", excerpt(response.text, secrets) or "(empty body)", {}
    inner = body["error"] if isinstance(body.get("error"), dict) else body
    plain_error = body.get("error") if isinstance(body.get("error"), str) else ""
    code = _text(inner.get("code") or inner.get("type") or plain_error)
    message = _text(
        inner.get("message") or inner.get("detail") or _compact_iri(inner, "description")
        or inner.get("description") or inner.get("title") or _compact_iri(inner, "title")
    )
    details = _details(
        inner.get("details") or inner.get("fields") or inner.get("violations") or inner.get("errors") or {}
    )
    return (excerpt(code, secrets, 80), excerpt(message or response.text, secrets),
            {excerpt(k, secrets, 80): excerpt(v, secrets) for k, v in details.items()})


def _compact_iri(body: Mapping[str, Any], term: str) -> Any:
    """The value of `term` under a JSON-LD vocabulary prefix (``"<prefix>:description"``), if the body has one."""
    suffix = ":" + term
    return next((value for key, value in body.items() if key.endswith(suffix) and key.count(":") == 1), None)


def _rejected(response: httpx.Response, now: datetime | None) -> ProviderError:
    code, message, details = rejection_fields(response)
    where = describe(response, body=False)
    return Rejected(f"{where}: {message}", status=response.status_code, code=code, details=details)


def _redirect(response: httpx.Response, now: datetime | None) -> ProviderError:
    where = response.headers.get("location", "?")
    return ProtocolError(f"{describe(response, body=False)}: unexpected redirect to {where}")


def _protocol(response: httpx.Response, now: datetime | None) -> ProviderError:
    return ProtocolError(f"{describe(response)} (unexpected status)")


# How each error class is built from a response (each takes its own typed fields).
_BUILDERS: dict[type[ProviderError], Callable[[httpx.Response, datetime | None], ProviderError]] = {
    RateLimited: lambda r, now: RateLimited(describe(r), retry_after=retry_after_seconds(r, now)),
    Unavailable: lambda r, now: Unavailable(describe(r), status=r.status_code),
    AuthFailed: lambda r, now: AuthFailed(describe(r), status=r.status_code),
    NotFound: lambda r, now: NotFound(describe(r), status=r.status_code),
    Rejected: _rejected,
    Unsupported: lambda r, now: Unsupported(
        f"{r.request.method} {r.request.url.path}", "the service answered " + describe(r).split(" -> ", 1)[1]
    ),
    Timeout: lambda r, now: Timeout(describe(r)),
    ProtocolError: lambda r, now: (_redirect if 300 <= r.status_code < 400 else _protocol)(r, now),
}


def _finish(err: ProviderError, provider: str, connection: str, secrets: Iterable[str]) -> ProviderError:
    """Name the connection on an error built without it and scrub its texts."""
    err.provider = err.provider or provider
    err.connection = err.connection or connection
    err.detail = redact(err.detail, secrets)
    if isinstance(err, Rejected):
        err.code = redact(err.code, secrets)
        err.details = {k: redact(v, secrets) for k, v in err.details.items()}
    prefix = f"[{err.connection or err.provider}] " if (err.connection or err.provider) else ""
    err.args = (prefix + err.detail,)
    return err


def _lookup(status: int) -> type[ProviderError] | None:
    if status in DEFAULT_STATUS_MAP:
        return DEFAULT_STATUS_MAP[status]
    for key, kind in DEFAULT_STATUS_MAP.items():
        if isinstance(key, range) and status in key:
            return kind
    return ProtocolError


class Classifier:
    """Turns a response into None (success) or the typed error to raise; built once per provider.

    Args:
        overrides: status code -> rule, consulted before `DEFAULT_STATUS_MAP`.
    """

    def __init__(self, overrides: Mapping[int, Override] | None = None) -> None:
        """Keep the provider's overrides."""
        self.overrides: dict[int, Override] = dict(overrides or {})

    def classify(
        self,
        response: httpx.Response,
        *,
        provider: str,
        connection: str,
        secrets: Iterable[str] = (),
        now: datetime | None = None,
    ) -> ProviderError | None:
        """Classify one response.

        Args:
            response: a received response (body read).
            provider: provider id, named in the error.
            connection: connection name, named in the error.
            secrets: literal values to scrub from the error text.
            now: the current time, to read a Retry-After HTTP-date when the response has no Date header.

        Returns:
            None for a success, else the error (not raised) with a short, redacted message.
        """
        rule = self.overrides.get(response.status_code)
        with _scrubbing(secrets):
            if rule is not None:
                err = rule(response)
            else:
                kind = _lookup(response.status_code)
                err = None if kind is None else _BUILDERS[kind](response, now)
        return None if err is None else _finish(err, provider, connection, secrets)


def classify_exception(
    exc: Exception, request: httpx.Request, *, provider: str, connection: str, secrets: Iterable[str] = ()
) -> ProviderError:
    """Map a transport failure (timeout, refused or dropped connection...) to a typed error.

    Args:
        exc: what httpx raised.
        request: the request being sent.
        provider: provider id.
        connection: connection name.
        secrets: literal values to scrub from the error text.

    Returns:
        The error to raise (chain it with ``from exc``).
    """
    kind = next((EXCEPTION_MAP[c] for c in type(exc).__mro__ if c in EXCEPTION_MAP), Unavailable)
    text = redact(f"{request.method} {request.url.path}: {type(exc).__name__}: {exc}", secrets)[:300]
    if _certificate_failure(exc):  # does not heal by retrying
        untrusted = UntrustedCertificate(
            f"{text} - the service's TLS certificate is not trusted; give the connection a ca_bundle that signs it"
        )
        return _finish(untrusted, provider, connection, secrets)
    err = Unavailable(text, status=None) if kind is Unavailable else kind(text)
    return _finish(err, provider, connection, secrets)


def _certificate_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def forbidden_with_zero_remaining_is_rate_limit(response: httpx.Response) -> ProviderError | None:
    """Override for 403 on FactuurSturen-like services: a spent budget is RateLimited, else AuthFailed.

    Args:
        response: a 403 response.

    Returns:
        RateLimited when ``X-RateLimit-Remaining`` is 0, else AuthFailed.
    """
    remaining = response.headers.get("x-ratelimit-remaining", "").strip()
    if response.status_code == 403 and remaining == "0":
        text = f"{describe(response)} (request budget spent)"
        return RateLimited(text, retry_after=retry_after_seconds(response))
    return AuthFailed(describe(response), status=response.status_code)
