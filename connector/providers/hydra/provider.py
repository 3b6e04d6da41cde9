"""The Hydra adapter (seed 004, an API Platform app): customers and invoices by ``updatedAt`` window.

Incremental strategy (DESIGN.md "Pull"): the service moves an invoice's ``updatedAt`` whenever the
invoice, one of its rows or one of its transactions changes, so one window over invoices
(``updatedAt[after]=since``, ``updatedAt[before]=until``, ``order[id]=asc``, 100 per page, next links)
finds every changed invoice, payment included. For each page of invoices the rows and transactions
of exactly those invoices are fetched in batches (``invoice[]=...``), each invoice's record is
composed with its rows embedded, and its transactions are yielded as payments. Requests grow with the
number of changed invoices, not with the total. Customers are windowed the same way. Every page is
committed with its next link as the checkpoint.

Deletions: the ``sweep`` lists customer, invoice and transaction ids (100 per page) and the engine
soft-deletes what is gone; a full pull (no ``since``) does the same for what it read. A deleted
transaction moves its invoice's ``updatedAt``, so the next incremental pull already stores the
invoice's new open amount and status; the payment itself is soft-deleted by the next sweep.

Writes: the service takes no idempotency key, so creates carry the connector's marker where the service
keeps a free field (a customer's ``externalId``, an invoice's ``reference``) and `find_marked` looks for
them after an ambiguous failure (a transaction by its content); pulled records lose the markers (`marks`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from connector.errors import ConnectorError, NotFound, Permanent, ProtocolError, ProviderError, Unsupported
from connector.http import HttpSession, encode_json
from connector.observability.events import get_logger
from connector.providers.base import (
    AuthScheme,
    Capabilities,
    ChangeStamps,
    Page,
    Provider,
    ProviderOptions,
    RawRecord,
    StreamSpec,
    Window,
)
from connector.providers.hydra import marks
from connector.providers.hydra import window as window_cut
from connector.providers.hydra.paging import HydraPage, walk
from connector.providers.hydra.rows import row_body
from connector.providers.hydra.wire import PROVIDER, compose_invoice, iri_id, record_id
from connector.providers.markers import found_marker, marker
from connector.vocabulary import KIND_ORDER, EntityKind

__all__ = ["HydraProvider"]

log = get_logger("connector.providers.hydra")

MAX_PER_PAGE = 100  # the app clamps itemsPerPage here
_KINDS = frozenset(EntityKind)
_COLLECTIONS = {"client": "customers", "invoice": "invoices", "payment": "invoice-transactions"}
_MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def _stamp(moment: datetime) -> str:
    """A window bound as RFC 3339 in UTC (``+00:00``; httpx encodes the ``+``)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class HydraProvider(Provider):
    """Reads and writes one account of the app."""

    id: ClassVar[str] = PROVIDER
    capabilities: ClassVar[Capabilities] = Capabilities(
        readable=_KINDS,
        writable=_KINDS,
        updatable=_KINDS,
        deletable=_KINDS,
        incremental=True,
        id_sweep=True,
        marked=_KINDS,  # `find_marked` looks for each before a retry
    )
    sweep_kinds: ClassVar[tuple[str, ...]] = KIND_ORDER
    auth_scheme: ClassVar[AuthScheme] = AuthScheme.bearer()
    default_headers: ClassVar[Mapping[str, str]] = MappingProxyType({"Accept": "application/ld+json"})

    def __init__(self, session: HttpSession, *, page_size: int = 100, options: ProviderOptions | None = None) -> None:
        """Args: session: the connection's HTTP session. page_size: ``itemsPerPage`` (at most 100). options:
        none (the service takes no options)."""
        super().__init__(session, page_size=max(1, min(page_size, MAX_PER_PAGE)), options=options)
        self._prefix = urlsplit(session.config.base_url).path.rstrip("/")

    def streams(self) -> list[StreamSpec]:
        """Customers first (invoices refer to them), then invoices with their payments."""
        return [
            StreamSpec("customers", ("client",), windowed=True),
            StreamSpec("invoices", ("invoice", "payment"), windowed=True),
        ]

    @property
    def requests_made(self) -> int:
        """Requests sent through this provider's session."""
        return self.session.requests_made

    def server_now(self) -> datetime | None:
        """The service's clock, read fresh from the ``Date`` of one cheap request (the entrypoint).

        ``Date`` has whole seconds, and so has ``updatedAt``: a fresh reading truncates the same way, so
        a window ending "now" includes everything changed up to that request. An estimate carried on
        from an older answer could be up to a second behind and leave out the latest changes until the
        next run (the safety lag usually hides this; a lag of zero would not).
        """
        self.session.request("GET", "")
        return self.session.server_now()

    def reference_data(self, names: set[str]) -> dict[str, list[dict[str, Any]]]:
        """The mapping needs no reference lists from this service.

        Raises:
            ProviderError: a list was asked for.
        """
        if names:
            raise ProviderError(f"unknown reference lists {sorted(names)}", provider=self.id)
        return {}

    def pull(
        self,
        stream: str,
        window: Window | None,
        resume: Mapping[str, Any] | None,
        known: Mapping[str, Any],
        stamps: ChangeStamps,
    ) -> Iterator[Page]:
        """Yield pages of the named stream (see the module docstring and `window` for an open end).

        The checkpoint holds the next link and the total seen, plus which part of a split window it
        belongs to (``part``: ``main``, ``tail`` or ``done``; ``split``), so a resumed run lists the same
        parts with the same bounds.
        """
        if stream not in ("customers", "invoices"):
            raise ProviderError(f"unknown stream {stream!r}", provider=self.id)
        resume = resume or {}
        part = resume.get("part", "main")
        if part == "done" or (part == "main" and "next" in resume and not resume["next"]):
            return  # the last page was committed; only the run's end was not
        split = bool(resume.get("split")) if resume else window_cut.is_open(window, self.session.server_now())
        closed, tail = window_cut.split(window) if split and window is not None else (window, None)
        if part == "main" and (closed is not None or tail is None):
            for page in self._listing(stream, closed, resume.get("next"), resume.get("total")):
                checkpoint: dict[str, Any] = {"next": page.next_url, "total": page.total, "split": split}
                if page.next_url is None and tail is not None:
                    checkpoint = {"part": "tail", "next": None, "total": None, "split": True}
                yield self._page(stream, page, checkpoint)
        if tail is None:
            return
        resumed = resume.get("next") if part == "tail" else None
        open_tail = bool(resumed) or window_cut.is_open(tail, self.session.server_now())
        for page in self._listing(stream, tail, resumed, resume.get("total") if resumed else None):
            checkpoint = {"part": "tail" if page.next_url else "done", "next": page.next_url,
                          "total": page.total, "split": True}
            untrusted = None
            if open_tail and (resumed or page.next_url is not None):
                untrusted = ("the window's last second was still open and its changes span several pages; "
                             "the next run lists the window again")
            yield self._page(stream, page, checkpoint, untrusted)

    def _listing(self, stream: str, window: Window | None, start_url: str | None,
                 start_total: int | None) -> Iterator[HydraPage]:
        params = {**self._window_params(window), "order[id]": "asc", "itemsPerPage": self.page_size}
        return walk(self.session, stream, params, start_url=start_url, start_total=start_total)

    def _page(self, stream: str, page: HydraPage, checkpoint: dict[str, Any], untrusted: str | None = None) -> Page:
        """One listed page as the engine's `Page` (invoices composed with their rows and payments)."""
        if stream == "customers":
            clients = [RawRecord("client", record_id(c), marks.unmark("client", c), c.get("updatedAt"),
                                 marker=found_marker(c.get("externalId")))
                       for c in page.items]
            result = Page(clients, checkpoint)
        else:
            result = self._invoice_page(page, checkpoint)
        result.untrusted = untrusted
        return result

    def list_ids(self, kind: str) -> Iterator[list[str]]:
        """Yield every live customer, invoice or transaction id, 100 per request."""
        for page in walk(self.session, _COLLECTIONS[kind], {"itemsPerPage": MAX_PER_PAGE}):
            yield [record_id(item) for item in page.items]

    # -- reading internals ----------------------------------------------------------------------------

    @staticmethod
    def _window_params(window: Window | None) -> dict[str, str]:
        params: dict[str, str] = {}
        if window and window.since:
            params["updatedAt[after]"] = _stamp(window.since)
        if window and window.until:
            params["updatedAt[before]"] = _stamp(window.until)
        return params

    def _children(self, collection: str, invoice_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Every row or transaction of the given invoices, grouped by invoice id (paged, 100 per request)."""
        grouped: dict[str, list[dict[str, Any]]] = {key: [] for key in invoice_ids}
        if not invoice_ids:
            return grouped
        params = {"invoice[]": list(invoice_ids), "order[id]": "asc", "itemsPerPage": MAX_PER_PAGE}
        seen: set[str] = set()
        for page in walk(self.session, collection, params):
            for item in page.items:
                key = record_id(item)
                owner = iri_id(item.get("invoice"))
                if key not in seen and owner in grouped:
                    seen.add(key)
                    grouped[owner].append(item)
        return grouped

    def _invoice_page(self, page: HydraPage, checkpoint: dict[str, Any]) -> Page:
        """One page of invoices composed with their rows, plus their transactions as payments.

        An invoice whose parts were read at different moments is left for the next run (its ``updatedAt``
        moved past this window); it and its payments are named in `Page.unchanged`, so a complete
        listing does not take them for deleted.
        """
        ids = [record_id(invoice) for invoice in page.items]
        rows = self._children("invoice-rows", ids)
        transactions = self._children("invoice-transactions", ids)
        records: list[RawRecord] = []
        skipped: dict[str, list[str]] = {"invoice": [], "payment": []}
        for invoice_id, invoice in zip(ids, page.items, strict=True):
            paid = transactions[invoice_id]
            composed = compose_invoice(invoice, {record_id(r): r for r in rows[invoice_id]}, paid)
            if composed is None:
                log.info("invoice changed while read", invoice=invoice_id, next="read again by the next run")
                skipped["invoice"].append(invoice_id)
                skipped["payment"].extend(record_id(t) for t in paid)
                continue
            mark = found_marker(composed.get("reference"))
            composed = marks.unmark("invoice", composed)
            records.append(RawRecord("invoice", invoice_id, composed, invoice.get("updatedAt"), marker=mark))
            records.extend(RawRecord("payment", record_id(t), t, t.get("updatedAt")) for t in paid)
        return Page(records, checkpoint, unchanged={k: v for k, v in skipped.items() if v})

    # -- writing --------------------------------------------------------------------------------------

    def write(
        self,
        kind: str,
        operation: str,
        payload: dict[str, Any],
        remote_id: str | None,
        *,
        idempotency_key: str | None = None,
    ) -> str | None:
        """Create, merge-patch or delete one record; returns its remote id (the last segment of its IRI).

        Invoices are created without rows and their rows are posted one by one (the service wants
        IRIs, not nested documents), each reaching the net the mapping asks for (`rows.row_body`); an
        update patches rows by position and posts extra ones. Rows
        cannot be deleted at the service, so an update with fewer lines is Unsupported. An invoice's
        ``status`` is an action here, not a field: ``sent`` sends a draft (``POST /invoices/{id}/send``,
        the service numbers it), ``cancelled`` is patched, anything else is the service's own to derive.
        Creates are not retried (POST is not idempotent here and the service takes no idempotency key):
        given an idempotency key, a customer or an invoice carries the connector's marker (`marks`), so
        that after an ambiguous failure `find_marked` can tell whether, and how far, it was made.

        Raises:
            Unsupported: an unknown kind or operation, or removing rows.
            Rejected: the service refused the payload (400/422, with its violations as details).
        """
        if kind not in _COLLECTIONS or operation not in ("create", "update", "delete"):
            raise Unsupported(f"{operation} {kind}", f"{self.id} cannot do this")
        collection = _COLLECTIONS[kind]
        if operation == "delete":
            return self._delete(collection, self._need(remote_id, kind, operation))
        body = dict(payload)
        lines = body.pop("invoiceRows", None) if kind == "invoice" else None
        wanted = body.pop("status", None) if kind == "invoice" else None
        if wanted == "cancelled":
            body["status"] = wanted  # the one status a PATCH may set
        self._relations(kind, body)
        if operation == "create":
            created = self._post(collection, marks.mark(kind, body, marker(idempotency_key)) if idempotency_key
                                 else body)
            if kind == "invoice":
                self._finish_or_withdraw(created, lines or [], wanted)
            return created
        target = self._need(remote_id, kind, operation)
        document = self._patch(f"{collection}/{target}", body) if body else None
        if lines is not None or wanted == "sent":
            current = document or self.session.get_json(f"{collection}/{target}")
            if lines is not None:
                self._replace_rows(target, current.get("invoiceRows") or [], lines)
            if wanted == "sent" and current.get("status") == "draft":
                self._send(target)
        return target

    def find_marked(
        self,
        kind: str,
        idempotency_key: str,
        payload: Mapping[str, Any],
        taken: Callable[[str], bool] | None = None,
    ) -> str | None:
        """After an ambiguous create: the id of the record it made, if it made one (see `marks`).

        An invoice found is finished first: the rows the failure cut off are posted and it is sent when
        the create would have sent it, so the retry neither duplicates it nor leaves it without rows.
        """
        mark = marker(idempotency_key)

        def free(remote_id: str) -> bool:
            return taken is None or not taken(remote_id)

        if kind == "client":
            own = str(payload.get("externalId") or "").strip()
            for customer in self._search("customers", {"externalId": own or mark}):
                found = marks.same_customer(customer, payload) if own else marks.carries(kind, customer, mark)
                if found and free(record_id(customer)):
                    return record_id(customer)
        elif kind == "invoice":
            owner = payload.get("customer")
            params = {"customer": self._iri("customers", iri_id(owner))} if owner else {}
            for invoice in self._search("invoices", {**params, "order[id]": "desc"}):
                if not marks.carries(kind, invoice, mark) or not free(record_id(invoice)):
                    continue
                made, there = record_id(invoice), len(invoice.get("invoiceRows") or [])
                lines = list(payload.get("invoiceRows") or [])
                self._finish_invoice(made, lines, payload.get("status"), rows_there=there,
                                     status=str(invoice.get("status") or ""))
                return made
        elif kind == "payment":
            invoice_iri = self._iri("invoices", iri_id(payload.get("invoice")))
            for transaction in self._search("invoice-transactions", {"invoice": invoice_iri, "order[id]": "asc"}):
                if marks.same_transaction(transaction, payload) and free(record_id(transaction)):
                    return record_id(transaction)
        return None

    def _search(self, collection: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every record of a filtered collection (callers check what they find: a filter may be ignored)."""
        for page in walk(self.session, collection, {**params, "itemsPerPage": MAX_PER_PAGE}):
            yield from page.items

    def _finish_invoice(
        self, invoice_id: str, lines: Sequence[dict[str, Any]], wanted: object, *, rows_there: int, status: str
    ) -> None:
        """Post the rows after the first `rows_there` (rows go one by one, in order) and send a draft to be sent."""
        for line in lines[rows_there:]:
            self._post("invoice-rows", {**row_body(line), "invoice": self._iri("invoices", invoice_id)})
        if wanted == "sent" and status == "draft":
            self._send(invoice_id)

    def _finish_or_withdraw(self, invoice_id: str, lines: Sequence[dict[str, Any]], wanted: object) -> None:
        """Finish a draft just created; if the service refuses one of its rows, delete the draft and re-raise.

        A refusal is final (the same rows would be refused again), so the create either completes or leaves
        nothing behind: no invoice with some of its rows, which a later create would only duplicate. Transient
        failures keep the draft: the retry finds it by its marker and tops it up (`find_marked`).
        """
        try:
            self._finish_invoice(invoice_id, lines, wanted, rows_there=0, status="draft")
        except Permanent:
            try:
                self._delete("invoices", invoice_id)
            except ConnectorError as exc:
                log.warning("draft invoice left after a refused row", invoice=invoice_id,
                            error=type(exc).__name__, detail="deleting the draft failed")
            raise

    def _need(self, remote_id: str | None, kind: str, operation: str) -> str:
        if not remote_id:
            raise Unsupported(f"{operation} {kind}", "no remote id given")
        return remote_id

    def _iri(self, collection: str, key: object) -> str:
        return f"{self._prefix}/{collection}/{key}"

    def _relations(self, kind: str, body: dict[str, Any]) -> None:
        """Plain ids from the mapping become IRIs (the service only takes IRIs for relations)."""
        field, collection = {"invoice": ("customer", "customers"), "payment": ("invoice", "invoices")}.get(
            kind, ("", ""))
        value = body.get(field) if field else None
        if value not in (None, "") and not str(value).startswith("/"):
            body[field] = self._iri(collection, value)

    def _post(self, collection: str, body: dict[str, Any]) -> str:
        response = self.session.request("POST", collection, json=body, retry=False)
        location = response.headers.get("location")
        document = self.session.decode_json(response) if response.content else {}
        return record_id(document) if isinstance(document, dict) and document else iri_id(location)

    def _send(self, invoice_id: str) -> None:
        """Send a draft: the service gives it its number and moves it to ``sent``."""
        self.session.request("POST", f"invoices/{invoice_id}/send", json={})

    def _patch(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.request("PATCH", path, content=encode_json(body), headers=_MERGE_PATCH)
        document = self.session.decode_json(response)
        return document if isinstance(document, dict) else {}

    def _delete(self, collection: str, remote_id: str) -> str:
        # Already gone (or a retried delete that had happened): the goal is reached.
        with contextlib.suppress(NotFound):
            self.session.request("DELETE", f"{collection}/{remote_id}")
        return remote_id

    def _replace_rows(self, invoice_id: str, existing: list[Any], lines: list[dict[str, Any]]) -> None:
        if len(lines) < len(existing):
            raise Unsupported("update invoice", f"the service cannot delete rows ({len(existing)} -> {len(lines)})")
        for position, line in enumerate(lines):
            if position < len(existing):
                self._patch(f"invoice-rows/{iri_id(existing[position])}", row_body(line))
            else:
                self._post("invoice-rows", {**row_body(line), "invoice": self._iri("invoices", invoice_id)})

    # -- reading records again by id (`Provider.fetch`) ----------------------------------------------

    fetchable_kinds: ClassVar[frozenset[str]] = _KINDS
    fetch_page_size: ClassVar[int] = MAX_PER_PAGE  # records per page (one transaction) of a fetch

    def fetch(self, kind: str, remote_ids: Sequence[str]) -> Iterator[Page]:
        """GET each customer, invoice or transaction by id (one request each; a 404 puts the id in
        `Page.vanished`); a page's invoices get their rows and transactions in batched requests, as a pull.

        An invoice that changed while its parts were read is left out (neither found nor vanished).
        """
        if kind not in self.fetchable_kinds:
            raise Unsupported(f"fetch {kind}", f"{self.id} cannot read {kind} by id")
        wanted = list(dict.fromkeys(remote_ids))
        for at in range(0, len(wanted), self.fetch_page_size):
            found: list[dict[str, Any]] = []
            gone: list[str] = []
            for remote_id in wanted[at : at + self.fetch_page_size]:
                try:
                    document = self.session.get_json(f"{_COLLECTIONS[kind]}/{quote(remote_id, safe='')}")
                except NotFound:
                    gone.append(remote_id)
                    continue
                if not isinstance(document, dict):
                    raise ProtocolError(f"GET {_COLLECTIONS[kind]}/{remote_id}: expected an object, got "
                                        f"{type(document).__name__}", provider=self.id)
                found.append({k: v for k, v in document.items() if k != "@context"})
            vanished = {kind: gone} if gone else {}
            if kind == "invoice":
                page = self._invoice_page(HydraPage(found, None, None), {})
                yield Page(page.records, vanished=vanished)
            elif kind == "client":
                yield Page([RawRecord("client", record_id(c), marks.unmark("client", c), c.get("updatedAt"),
                                      marker=found_marker(c.get("externalId"))) for c in found], vanished=vanished)
            else:
                yield Page([RawRecord("payment", record_id(t), t, t.get("updatedAt")) for t in found],
                           vanished=vanished)
