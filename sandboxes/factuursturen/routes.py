"""The API under /api/v1: parse the wire request, call the state, serialize the service's envelopes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sandboxes._pdf import one_page_pdf
from sandboxes._quirks import QuirkSet
from sandboxes._server import Request, Response, Router
from sandboxes.factuursturen import xml
from sandboxes.factuursturen.commands import client_changes, new_invoice, payment, product_fields
from sandboxes.factuursturen.countries import country_list
from sandboxes.factuursturen.errors import BadRequest, MethodNotAllowed, NotFound
from sandboxes.factuursturen.fastjson import record_json
from sandboxes.factuursturen.inputs import decode_body, to_date
from sandboxes.factuursturen.quirks import QUIRKS
from sandboxes.factuursturen.records import Client, Draft, Invoice, Product
from sandboxes.factuursturen.state import FactuurSturenState
from sandboxes.factuursturen.wire import (
    client_dict,
    draft_dict,
    encode,
    invoice_dict,
    money,
    plain,
    product_dict,
)

__all__ = ["API_PREFIX", "DEFAULT_COUNT", "ApiRoutes", "paging"]

API_PREFIX = "/api/v1"
DEFAULT_COUNT = 100
_TEXT = "text/html; charset=UTF-8"
_JSON = "application/json"
_XML = "application/xml; charset=UTF-8"
_PROFILES = [{"id": "1", "name": "Standaard"}, {"id": "2", "name": "English"}]
_TAXES = [{"percentage": p, "type": t, "default": d, "country": "146"}
          for p, t, d in (("21", "H", "true"), ("9", "L", "false"), ("0", "Z", "false"), ("-1", "N", "false"))]
_DICT: dict[type, Callable[[Any], dict[str, Any]]] = {Client: client_dict, Invoice: invoice_dict,
                                                      Product: product_dict, Draft: draft_dict}

Record = Client | Invoice | Product | Draft


def wants_json(request: Request) -> bool:
    """JSON only when asked for with ``Accept: application/json``; anything else gets XML."""
    return "application/json" in (request.header("Accept") or "").lower()


def paging(request: Request) -> tuple[int, int | None]:
    """(start, count) from ``?start=&count=``: 0-based offset, default count 100, ``count=-1`` = all.

    Raises:
        BadRequest: not integers, or out of range.
    """
    raw_count, raw_start = request.arg("count"), request.arg("start")
    try:
        count = DEFAULT_COUNT if raw_count in (None, "") else int(raw_count)
        start = 0 if raw_start in (None, "") else int(raw_start)
    except ValueError:
        raise BadRequest("Invalid value for count or start: use integers") from None
    if count < -1 or start < 0:
        raise BadRequest("Invalid value for count or start")
    return start, None if count == -1 else count


def _window(items: Sequence[Any], start: int, count: int | None) -> Sequence[Any]:
    return items[start:] if count is None else items[start:start + count]


class ApiRoutes:
    """Every API endpoint of the service, bound to one state."""

    def __init__(self, state: FactuurSturenState, quirks: QuirkSet | None = None) -> None:
        """Args: state: the account served. quirks: the sandbox's quirk switches (`quirks.QUIRKS`)."""
        self.state = state
        self.quirks = quirks or QuirkSet(QUIRKS)
        self.router = Router()
        p = API_PREFIX
        for kind in ("clients", "products"):
            self.router.add("GET", f"{p}/{kind}", self._list)
            self.router.add("POST", f"{p}/{kind}", self._create)
            self.router.add("GET", f"{p}/{kind}/{{ref}}", self._get)
            self.router.add("PUT", f"{p}/{kind}/{{ref}}", self._update)
            self.router.add("DELETE", f"{p}/{kind}/{{ref}}", self._delete)
        self.router.add("GET", f"{p}/invoices", self._list)
        self.router.add("POST", f"{p}/invoices", self._create)
        self.router.add("GET", f"{p}/invoices/{{ref}}", self._get)
        self.router.add("DELETE", f"{p}/invoices/{{ref}}", self._delete)
        for kind in ("invoices_saved", "invoices_repeated"):
            self.router.add("GET", f"{p}/{kind}", self._list)
            self.router.add("GET", f"{p}/{kind}/{{ref}}", self._get)
            self.router.add("DELETE", f"{p}/{kind}/{{ref}}", self._delete)
        self.router.add("POST", f"{p}/invoices_payment/{{ref}}", self._pay)
        self.router.add("PUT", f"{p}/invoices_payment/{{ref}}", self._pay)
        self.router.add("GET", f"{p}/invoices_pdf/{{ref}}", self._pdf)
        self.router.add("GET", f"{p}/profiles", lambda r: self._plain(r, "profiles", "profile", _PROFILES))
        self.router.add("GET", f"{p}/taxes", lambda r: self._plain(r, "taxes", "tax", _TAXES))
        self.router.add("GET", f"{p}/balance", lambda r: self._plain(r, "balance", "balance", {"balance": "25.00"}))
        self.router.add("GET", f"{p}/countrylist", lambda r: self._countries(r, "nl"))
        self.router.add("GET", f"{p}/countrylist/{{lang}}", lambda r: self._countries(r, r.params["lang"]))
        self.router.add("GET", f"{p}/search/{{area}}/{{field}}/{{query}}", self._search)

    def handle(self, request: Request) -> Response:
        """Route one authenticated API request.

        Raises:
            FsError: the service's own error answers (the caller renders them).
        """
        handler, allowed = self.router.resolve(request)
        if handler is None:
            if allowed:
                raise MethodNotAllowed("Method not allowed", allowed)
            raise NotFound("Not found")
        return handler(request)

    # -- rendering -----------------------------------------------------------------------------------

    def _records(self, request: Request, root: str, item: str, records: Sequence[Record]) -> Response:
        """A bare list; JSON from each record's cached bytes (call with the state lock held)."""
        if wants_json(request):
            return Response(200, b"[" + b",".join(self._json(r) for r in records) + b"]", _JSON)
        return Response(200, xml.render(root, [self._dict(r) for r in records], item), _XML)

    def _single(self, request: Request, key: str, record: Record) -> Response:
        with self.state.lock:
            if wants_json(request):
                return Response(200, b'{"' + key.encode() + b'":' + self._json(record) + b"}", _JSON)
            return Response(200, xml.render(key, self._dict(record)), _XML)

    def _json(self, record: Record) -> bytes:
        """A record's JSON (cached; a client whose `timestamp` a quirk reshapes is encoded afresh)."""
        if isinstance(record, Client) and self.quirks.get("client_timestamp") != "datetime":
            return encode(self._dict(record))
        return record_json(record)

    def _dict(self, record: Record) -> dict[str, Any]:
        shown = _DICT[type(record)](record)
        if isinstance(record, Client):
            stamp = self.quirks.get("client_timestamp")
            if stamp == "absent":
                del shown["timestamp"]
            elif stamp == "date":
                shown["timestamp"] = shown["timestamp"][:10]
        return shown

    def _plain(self, request: Request, root: str, item: str, value: Any) -> Response:
        if wants_json(request):
            return Response(200, encode(value), _JSON)
        return Response(200, xml.render(root, value, item), _XML)

    @staticmethod
    def _null(request: Request, status: int) -> Response:
        """PUT/DELETE (and payment) answers: body ``null``."""
        return Response(status, b"null", _JSON) if wants_json(request) else Response(status, b"", _XML)

    @staticmethod
    def _created(identifier: object) -> Response:
        """201 with the bare new identifier as plain text."""
        return Response(201, str(identifier).encode(), _TEXT)

    # -- handlers ------------------------------------------------------------------------------------

    @staticmethod
    def _kind(request: Request) -> str:
        return request.raw_path[len(API_PREFIX):].strip("/").split("/")[0]

    def _list(self, request: Request) -> Response:
        kind, (start, count) = self._kind(request), paging(request)
        cap = self.quirks.get("count_cap")
        if cap is not None:
            count = cap if count is None else min(count, cap)
        state = self.state
        if kind == "invoices":
            flt = request.arg("filter") or None
            since = to_date(request.arg("since"), "since") if request.arg("since") else None
            until = to_date(request.arg("until"), "until") if request.arg("until") else None
            with state.lock:
                listing = state.invoice_listing(flt, since, until)
                return self._records(request, "invoices", "invoice", _window(listing, start, count))
        with state.lock:
            if kind == "clients":
                return self._records(request, "clients", "client", state.client_page(start, count))
            if kind == "products":
                return self._records(request, "products", "product", state.product_page(start, count))
            drafts = state.draft_page(kind.removeprefix("invoices_"), start, count)
            return self._records(request, kind, "invoice", drafts)

    def _get(self, request: Request) -> Response:
        try:
            return self._get_one(request)
        except NotFound:
            kind = self._kind(request)
            if not self.quirks.get("unknown_id_answers_list") or kind not in ("clients", "invoices"):
                raise
        with self.state.lock:  # the quirk: the whole list, as a bare array
            if kind == "clients":
                return self._records(request, "clients", "client", self.state.client_page(0, None))
            return self._records(request, "invoices", "invoice", self.state.invoice_listing(None, None, None))

    def _get_one(self, request: Request) -> Response:
        kind, ref = self._kind(request), request.params["ref"]
        if kind == "clients":
            return self._single(request, "client", self.state.get_client(ref))
        if kind == "products":
            return self._single(request, "product", self.state.get_product(ref))
        if kind == "invoices":
            return self._single(request, "invoice", self.state.get_invoice(ref))
        return self._single(request, "invoice", self.state.get_draft(kind.removeprefix("invoices_"), ref))

    def _create(self, request: Request) -> Response:
        kind, body = self._kind(request), decode_body(request)
        if kind == "clients":
            return self._created(self.state.create_client(client_changes(body)).clientnr)
        if kind == "products":
            return self._created(self.state.save_product(None, product_fields(body, partial=False)).id)
        record = self.state.create_invoice(new_invoice(body))
        return self._created(record.invoicenr if isinstance(record, Invoice) else record.id)

    def _update(self, request: Request) -> Response:
        kind, ref, body = self._kind(request), request.params["ref"], decode_body(request)
        if kind == "clients":
            self.state.update_client(ref, client_changes(body))
        else:
            self.state.save_product(ref, product_fields(body, partial=True))
        return self._null(request, 200)

    def _delete(self, request: Request) -> Response:
        kind, ref = self._kind(request), request.params["ref"]
        if kind == "clients":
            self.state.delete_client(ref)
        elif kind == "products":
            self.state.delete_product(ref)
        elif kind == "invoices":
            self.state.delete_invoice(ref)
        else:
            self.state.delete_draft(kind.removeprefix("invoices_"), ref)
        return self._null(request, 200)

    def _pay(self, request: Request) -> Response:
        self.state.pay(request.params["ref"], payment(decode_body(request)))
        return self._null(request, 201 if request.method == "POST" else 200)

    def _pdf(self, request: Request) -> Response:
        with self.state.lock:
            inv = self.state.get_invoice(request.params["ref"])
            snap = inv.snapshot
            rows = [snap.company or snap.contact, snap.address, f"{snap.zipcode} {snap.city}",
                    "", f"Factuurdatum: {inv.sent}    Vervaldatum: {inv.duedate}", ""]
            rows += [f"{plain(line.amount)} x {line.description} a {plain(line.price)} = {money(line.linetotal)}"
                     if line.amount is not None else line.description for line in inv.lines]
            rows += ["", f"BTW: {money(inv.tax)}", f"Totaal: EUR {money(inv.totalintax)}",
                     f"Openstaand: EUR {money(inv.open)}"]
            body = one_page_pdf(f"Factuur {inv.invoicenr}", rows)
        return Response(200, body, "application/pdf",
                        [("Content-Disposition", f'inline; filename="{inv.invoicenr}.pdf"')])

    def _countries(self, request: Request, language: str) -> Response:
        try:
            countries = country_list(language)
        except KeyError:
            raise NotFound("Unknown language: use nl, en, de, fr or es") from None
        return self._plain(request, "countrylist", "country", countries)

    def _search(self, request: Request) -> Response:
        area, name, query = request.params["area"], request.params["field"], request.params["query"]
        start, count = paging(request)
        with self.state.lock:
            found = self.state.search(area, name, query)
            return self._records(request, area, area.rstrip("s"), _window(found, start, count))
