"""The Facturalia adapter: push only - one operation, create an invoice (``POST /invoices``).

What `write` accepts (``write("invoice", "create", payload, None, idempotency_key=key)``): the mapping's
outbound invoice (``mappings/facturalia.yaml``) with the outbound client merged in under ``customer``::

    {"external_id"?: str,
     "invoice": {"number"?, "date": "YYYY-MM-DD", "due_date"?: "YYYY-MM-DD" | "due_days"?: int,
                 "language"?, "reference"?, "note"?, "vat_exemption_code"?, ...},
     "customer": {"customer_id"? | "vat_number"? | "name"?, "street"?, ..., "country"?: "BE"},
     "lines": [{"product_code"?, "description"?, "quantity": Decimal, "unit_price": Decimal,
                "vat_rate": 0 | 6 | 12 | 21}, ...]}

Null values are not sent; ``invoice.due_date`` becomes ``due_days``; a line without ``product_code``
takes the connection option ``default_product_code``; see `wire.prepare_invoice` for the checks made
before sending (they raise `InvalidPayload`, and no request is made). The request goes out with
``Content-Type: application/json; charset=utf-8`` and ``Idempotency-Key: <key>``; because the key (or
an ``external_id`` or ``invoice.number``) makes a repeat harmless, a create is retried after a dropped
connection or a 5xx, and a replay (``Idempotency-Status: replayed``) returns the same id.

Errors: 401 -> AuthFailed; 403 -> `MissingScope` (an AuthFailed naming the scope); 409
``idempotency_conflict`` -> IdempotencyConflict (code, message); 400/415/422 -> Rejected with the
service's code, message and field details by dot path (``lines.0.product_code``); 429 -> RateLimited
(retried, and the pacer holds for its Retry-After); HTML or cut-off answers -> ProtocolError; a TLS
certificate that does not verify -> `UntrustedCertificate`. Reading is unsupported: the service has no
read API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

import httpx

from connector.errors import IdempotencyConflict, ProviderError, Rejected, Unsupported
from connector.http import HttpSession, Override, describe, rejection_fields
from connector.providers.base import (
    AuthScheme,
    Capabilities,
    ChangeStamps,
    Page,
    Provider,
    ProviderOptions,
    StreamSpec,
    Window,
)
from connector.providers.facturalia.errors import MissingScope
from connector.providers.facturalia.options import FacturaliaOptions
from connector.providers.facturalia.wire import JSON_CONTENT_TYPE, Created, prepare_invoice, read_created
from connector.vocabulary import EntityKind

__all__ = ["FacturaliaProvider"]

_NO_READS = "Facturalia has no read API: it is a push-only target (invoices can only be created)"
_SCOPE = re.compile(r"\b([a-z_]+:[a-z_]+)\b")
_REQUIRED_SCOPE = "invoices:create"


def _forbidden(response: httpx.Response) -> ProviderError:
    """403: the key's scopes lack the endpoint's (the only 403 the service documents)."""
    _, message, _ = rejection_fields(response)
    found = _SCOPE.search(message)
    scope = found.group(1) if found else _REQUIRED_SCOPE
    return MissingScope(scope, f"{describe(response, body=False)}: the API key lacks the scope {scope} ({message})")


def _conflict(response: httpx.Response) -> ProviderError:
    """409: a reused idempotency key (header, external_id or invoice number) with another body."""
    code, message, details = rejection_fields(response)
    kind = IdempotencyConflict if code in ("idempotency_conflict", "") else Rejected
    return kind(f"{describe(response, body=False)}: {message}", status=409, code=code, details=details)


class FacturaliaProvider(Provider):
    """Creates invoices in one Facturalia account."""

    id: ClassVar[str] = "facturalia"
    capabilities: ClassVar[Capabilities] = Capabilities(writable=frozenset({EntityKind.INVOICE}), idempotency_keys=True)
    inline_kinds: ClassVar[frozenset[str]] = frozenset({"client"})  # the customer goes inside the invoice
    sweep_kinds: ClassVar[tuple[str, ...]] = ()
    auth_scheme: ClassVar[AuthScheme] = AuthScheme.bearer()
    default_rate_limit: ClassVar[int | None] = 60  # decision 16 (invented): 60 per minute per key
    default_rate_window_seconds: ClassVar[float | None] = 60.0
    default_headers: ClassVar[Mapping[str, str]] = MappingProxyType({"Accept": "application/json"})
    status_overrides: ClassVar[Mapping[int, Override]] = MappingProxyType({403: _forbidden, 409: _conflict})
    Options: ClassVar[type[ProviderOptions]] = FacturaliaOptions
    options: FacturaliaOptions

    def __init__(self, session: HttpSession, *, page_size: int = 500, options: ProviderOptions | None = None) -> None:
        """Args: session: the connection's HTTP session. page_size: unused (nothing is listed).
        options: `FacturaliaOptions`."""
        super().__init__(session, page_size=page_size, options=options)
        code = self.options.default_product_code
        self.default_product_code = code.strip() or None if code else None
        self.last_created: Created | None = None

    def streams(self) -> list[StreamSpec]:
        """None: there is nothing to pull."""
        return []

    def pull(
        self,
        stream: str,
        window: Window | None,
        resume: Mapping[str, Any] | None,
        known: Mapping[str, Any],
        stamps: ChangeStamps,
    ) -> Iterator[Page]:
        """Refuse at once: the service has no read API."""
        raise Unsupported(f"pull {stream}", _NO_READS, provider=self.id)

    def list_ids(self, kind: str) -> Iterator[list[str]]:
        """Refuse at once: the service cannot list anything."""
        raise Unsupported(f"list {kind} ids", _NO_READS, provider=self.id)

    def reference_data(self, names: set[str]) -> dict[str, list[dict[str, Any]]]:
        """None: the mapping needs no reference lists."""
        return {}

    def server_now(self) -> datetime | None:
        """The service's clock from the last Date header seen (None before the first answer)."""
        return self.session.server_now()

    @property
    def requests_made(self) -> int:
        """Requests sent through this provider's session."""
        return self.session.requests_made

    def write(
        self,
        kind: str,
        operation: str,
        payload: dict[str, Any],
        remote_id: str | None,
        *,
        idempotency_key: str | None = None,
    ) -> str:
        """Create one invoice and return its Facturalia id (the same id when the service replays).

        Args:
            kind: must be ``invoice``.
            operation: must be ``create``.
            payload: see the module docstring.
            remote_id: ignored (a create has none).
            idempotency_key: sent as ``Idempotency-Key``; the same key for every attempt of one create.

        Raises:
            Unsupported: another kind or operation.
            InvalidPayload: the payload fails the checks made before sending (nothing was sent).
            IdempotencyConflict: the key (or external_id, or number) was used with another body.
            Rejected: the service refused the payload (code, message, details by dot path).
            AuthFailed: the key was refused (`MissingScope` for a key without ``invoices:create``).
            UntrustedCertificate: the service's certificate did not verify.
            ProviderError: other typed failures (RateLimited, Unavailable, Timeout, ProtocolError).
        """
        if kind != "invoice":
            raise Unsupported(f"{operation} {kind}", "Facturalia only creates invoices; it has no endpoint for "
                              f"{kind}s", provider=self.id)
        if operation != "create":
            raise Unsupported(f"{operation} invoice", "Facturalia can only create invoices: there is no update or "
                              "delete in its API", provider=self.id)
        body = prepare_invoice(payload, self.default_product_code)
        headers = {"Content-Type": JSON_CONTENT_TYPE}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        keyed = bool(idempotency_key or body.get("external_id") or body["invoice"].get("number"))
        response = self.session.request("POST", "invoices", json=body, headers=headers, retry=keyed)
        data = self.session.decode_json(response)
        replayed = response.headers.get("idempotency-status", "").strip().lower() == "replayed"
        created = read_created(data, replayed)
        self.last_created = created
        return created.id

    def embed(self, kind: str, payload: dict[str, Any], related: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        """An invoice takes its customer inline: the client's outbound payload becomes ``customer``."""
        if kind == "invoice" and "client" in related and "customer" not in payload:
            return {**payload, "customer": related["client"]}
        return payload

