"""The API under /api/v1: parse the wire request, call the state, serialize FastFaktura's envelopes.

Lists answer ``{"data": [...], "meta": {"page", "per_page", "total", "last_page"}}`` (decision 3): 25
per page, newest first (decision 4), ``page`` 1-based, past the end an empty ``data``. Single records
are bare objects (decision 6). Creates answer 201, everything else 200.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sandboxes._pdf import one_page_pdf
from sandboxes._quirks import QuirkSet
from sandboxes._server import Request, Response, Router
from sandboxes.fastfaktura.errors import MethodNotAllowed, NotFound, Unprocessable
from sandboxes.fastfaktura.inputs import (
    business_fields,
    client_fields,
    decode_body,
    new_invoice,
    send_command,
)
from sandboxes.fastfaktura.quirks import QUIRKS
from sandboxes.fastfaktura.records import STATUSES, Invoice
from sandboxes.fastfaktura.state import FastFakturaState
from sandboxes.fastfaktura.wire import (
    business_dict,
    client_json,
    dumps,
    entry_json,
    invoice_detail_dict,
    invoice_json,
)

__all__ = ["API_PREFIX", "PER_PAGE", "ApiRoutes", "archived_arg", "newest_first", "page_number"]

API_PREFIX = "/api/v1"
PER_PAGE = 25
_JSON = "application/json"
T = TypeVar("T")


def page_number(request: Request) -> int:
    """The 1-based ``page`` parameter (default 1).

    Raises:
        Unprocessable: not a positive integer.
    """
    raw = request.arg("page")
    if raw in (None, ""):
        return 1
    assert raw is not None
    if not raw.isdigit() or int(raw) < 1:
        raise Unprocessable("Invalid query parameter", {"page": "must be a positive integer"})
    return int(raw)


def archived_arg(request: Request) -> bool:
    """``archived=true`` lists only archived clients; absent or ``false`` only active ones.

    Raises:
        Unprocessable: any other value.
    """
    raw = (request.arg("archived") or "false").lower()
    if raw not in ("true", "false"):
        raise Unprocessable("Invalid query parameter", {"archived": "must be true or false"})
    return raw == "true"


def newest_first(items: Sequence[T], page: int, per_page: int = PER_PAGE, newest: bool = True) -> list[T]:
    """Page `page` of `items` (kept oldest first), served newest first (or oldest first)."""
    if not newest:
        return list(items[(page - 1) * per_page:page * per_page])
    high = len(items) - (page - 1) * per_page
    if high <= 0:
        return []
    return list(reversed(items[max(0, high - per_page):high]))


def envelope(parts: list[bytes], page: int, total: int, per_page: int = PER_PAGE, shape: str = "data_meta") -> Response:
    """The list envelope around pre-serialized records (`shape`: the `envelope` quirk)."""
    if shape == "bare":
        return Response(200, b"[" + b",".join(parts) + b"]", _JSON)
    if shape == "data":
        return Response(200, b'{"data":[' + b",".join(parts) + b"]}", _JSON)
    last = max(1, -(-total // per_page))
    meta = b'],"meta":{"page":%d,"per_page":%d,"total":%d,"last_page":%d}}' % (page, per_page, total, last)
    return Response(200, b'{"data":[' + b",".join(parts) + meta, _JSON)


def _amount(cents: int) -> str:
    """Cents as major units with two decimals (no float)."""
    return f"{Decimal(cents).scaleb(-2):.2f}"


def _object(value: Any, status: int = 200) -> Response:
    return Response(status, dumps(value).encode(), _JSON)


class ApiRoutes:
    """Every API endpoint of the service, bound to one state."""

    def __init__(self, state: FastFakturaState, quirks: QuirkSet | None = None) -> None:
        """Args: state: the account served. quirks: the sandbox's quirk switches (`quirks.QUIRKS`)."""
        self.state = state
        self.quirks = quirks or QuirkSet(QUIRKS)
        self.router = Router()
        p = API_PREFIX
        for method, path, handler in (
            ("GET", "/business", self._business),
            ("PUT", "/business", self._update_business),
            ("GET", "/clients", self._clients),
            ("POST", "/clients", self._create_client),
            ("GET", "/clients/{id}", self._client),
            ("PUT", "/clients/{id}", self._update_client),
            ("DELETE", "/clients/{id}", self._archive_client),
            ("GET", "/invoices", self._invoices),
            ("POST", "/invoices", self._create_invoice),
            ("GET", "/invoices/{id}", self._invoice),
            ("GET", "/invoices/{id}/pdf", self._pdf),
            ("POST", "/invoices/{id}/send", self._send),
            ("GET", "/invoices/{id}/events", self._events),
        ):
            self.router.add(method, p + path, handler)

    def handle(self, request: Request) -> Response:
        """Route one authenticated API request.

        Raises:
            ApiError: the service's own error answers (the caller renders them).
        """
        handler, allowed = self.router.resolve(request)
        if handler is None:
            if allowed:
                raise MethodNotAllowed("Method not allowed", allowed)
            raise NotFound("No such endpoint")
        return handler(request)

    # -- business ----------------------------------------------------------------------------------

    def _business(self, request: Request) -> Response:
        with self.state.lock:
            return _object(business_dict(self.state.business))

    def _update_business(self, request: Request) -> Response:
        business = self.state.update_business(business_fields(decode_body(request)))
        with self.state.lock:
            return _object(business_dict(business))

    # -- clients -----------------------------------------------------------------------------------

    def _clients(self, request: Request) -> Response:
        page, archived = page_number(request), archived_arg(request)
        with self.state.lock:
            items = self.state.client_listing(archived, request.arg("q"))
            return self._listing([client_json(c) for c in self._page(items, page)], page, len(items))

    def _client_response(self, client_id: str, status: int = 200) -> Response:
        with self.state.lock:
            return Response(status, client_json(self.state.get_client(client_id)), _JSON)

    def _client(self, request: Request) -> Response:
        return self._client_response(request.params["id"])

    def _create_client(self, request: Request) -> Response:
        client = self.state.create_client(client_fields(decode_body(request), partial=False))
        return self._client_response(client.id, 201)

    def _update_client(self, request: Request) -> Response:
        fields = client_fields(decode_body(request), partial=True)
        return self._client_response(self.state.update_client(request.params["id"], fields).id)

    def _archive_client(self, request: Request) -> Response:
        return self._client_response(self.state.archive_client(request.params["id"]).id)

    # -- invoices ----------------------------------------------------------------------------------

    def _invoices(self, request: Request) -> Response:
        page, status = page_number(request), request.arg("status") or None
        if status is not None and status not in STATUSES:
            raise Unprocessable("Invalid query parameter", {"status": f"must be one of {', '.join(STATUSES)}"})
        with self.state.lock:
            items = self.state.invoice_listing(status)
            return self._listing([entry_json(i) for i in self._page(items, page)], page, len(items))

    def _page(self, items: Sequence[T], page: int) -> list[T]:
        return newest_first(items, page, self.quirks.get("per_page"), self.quirks.get("order") == "newest_first")

    def _listing(self, parts: list[bytes], page: int, total: int) -> Response:
        return envelope(parts, page, total, self.quirks.get("per_page"), self.quirks.get("envelope"))

    def _detail(self, invoice: Invoice, status: int = 200) -> Response:
        with self.state.lock:
            return Response(status, invoice_json(invoice), _JSON)

    def _invoice(self, request: Request) -> Response:
        return self._detail(self.state.get_invoice(request.params["id"]))

    def _create_invoice(self, request: Request) -> Response:
        return self._detail(self.state.create_invoice(new_invoice(decode_body(request))), 201)

    def _send(self, request: Request) -> Response:
        command = send_command(decode_body(request))
        return self._detail(self.state.send_invoice(request.params["id"], command))

    def _events(self, request: Request) -> Response:
        with self.state.lock:
            events = invoice_detail_dict(self.state.get_invoice(request.params["id"]))["events"]
            return _object({"data": events})

    def _pdf(self, request: Request) -> Response:
        with self.state.lock:
            inv = self.state.get_invoice(request.params["id"])
            client = self.state.clients.get(inv.client_id)
            rows = [client.name if client else "", client.address or "" if client else "", "",
                    f"Status: {inv.status}    Due: {inv.due_date or '-'}", ""]
            rows += [f"{line.quantity} x {line.description} a {_amount(line.unit_price_cents)} {inv.currency} "
                     f"({line.tax_rate}% tax)" for line in inv.lines]
            rows += ["", f"Subtotal: {_amount(inv.subtotal_cents)}", f"Tax: {_amount(inv.tax_cents)}",
                     f"Total: {_amount(inv.total_cents)} {inv.currency}", "", f"Pay online: {inv.public_url}"]
            body = one_page_pdf(f"Invoice {inv.number}", rows, "cp1252")
            number = inv.number
        return Response(200, body, "application/pdf", [("Content-Disposition", f'inline; filename="{number}.pdf"')])
