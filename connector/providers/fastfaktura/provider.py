"""The FastFaktura adapter: clients (active and archived) and invoices with details fetched only on change.

FastFaktura has no change cursor and no since filter (PROVIDERS.md decision 5), so every run pages
through the whole lists (25 records per page, fixed by the service; the connection's `page_size` is not
used). Clients are plain list records. Invoice list entries carry no lines or events, so each entry is
stamped with a hash of its canonical JSON; the store is asked which stamps it already holds, and the
detail (lines + events) is fetched only for the rest. The skipped ids go to `Page.unchanged`, so a
no-change run costs list pages only. Payments are derived from the ``paid`` events of fetched details.

Paging reads up to `list_pages_per_batch` list pages (option, default 4) at a time, never past the
``meta.last_page`` hint, asks for the stamps of the whole batch at once, fetches its changed details
together, then yields one `Page` per list page; its checkpoint is the next list page number. A resumed
run starts one page earlier: the lists are newest first, so records created meanwhile push older ones
to later pages (the duplicates this makes are harmless: the engine dedupes by hash). Invoices never
leave the list (there is no delete). Archiving a client while its listing is read moves the later
clients up a place, so one may be skipped: when the listing's stated ``meta.total`` went down during
the pass, the listing is read again (at most twice more). A listing that moved under its pass anyway (a record
listed twice, a stated total that changed, or a first page that reads differently at the end: an archival
hidden by a creation, or an invoice created between two concurrent page reads, which leaves the record on
their boundary on neither) ends with an untrusted page: the engine sweeps no deletions from it, and the
next run reads what it missed (`shift`). A listing ends
on an empty page or on one shorter than the page size (``meta.per_page``, else the largest page seen);
``meta.total`` never decides where a list ends.

The list pages and the details of one batch can be fetched concurrently by a small thread pool
(option `detail_workers`, default 4) over the connection's one `HttpSession` (its httpx client, request
counter and `Pacer` are thread-safe, and the pacer keeps the shared budget).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

from connector.errors import NotFound, ProtocolError, ProviderError, Unsupported
from connector.http import HttpSession, Override
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
from connector.providers.fastfaktura.options import FastFakturaOptions
from connector.providers.fastfaktura.shift import ListingWatch
from connector.providers.fastfaktura.wire import (
    derive_payments,
    expect_object,
    list_entries,
    list_meta,
    record_id,
    rejection,
    stamp,
)
from connector.providers.markers import found_marker, marker, unmarked
from connector.vocabulary import EntityKind

__all__ = ["FastFakturaProvider"]

log = get_logger("connector.providers.fastfaktura")
T = TypeVar("T")
R = TypeVar("R")
_REREADS = 2  # extra passes over a client listing that shrank while it was read
_LISTINGS: tuple[tuple[str, dict[str, str]], ...] = (("active", {}), ("archived", {"archived": "true"}))


class FastFakturaProvider(Provider):
    """Reads and writes one FastFaktura account."""

    id: ClassVar[str] = "fastfaktura"
    capabilities: ClassVar[Capabilities] = Capabilities(
        readable=frozenset(EntityKind),
        writable=frozenset({EntityKind.CLIENT, EntityKind.INVOICE}),
        updatable=frozenset({"client"}),
        deletable=frozenset({"client"}),  # DELETE archives; the client stays readable
        archivable=frozenset({"client"}),
        incremental=False,
        id_sweep=True,
        marked=frozenset({"client", "invoice"}),  # `find_marked` looks for each before a retry
        idempotency_keys=False,
    )
    sweep_kinds: ClassVar[tuple[str, ...]] = (EntityKind.CLIENT, EntityKind.INVOICE)
    auth_scheme: ClassVar[AuthScheme] = AuthScheme.in_header("X-Api-Key")
    default_rate_limit: ClassVar[int | None] = 120
    default_rate_window_seconds: ClassVar[float | None] = 60.0
    default_headers: ClassVar[Mapping[str, str]] = MappingProxyType({"Accept": "application/json"})
    # Refusals carry their field problems under error.fields; 429 + Retry-After is the default RateLimited.
    status_overrides: ClassVar[Mapping[int, Override]] = MappingProxyType(
        {400: rejection, 409: rejection, 422: rejection}
    )
    Options: ClassVar[type[ProviderOptions]] = FastFakturaOptions
    options: FastFakturaOptions

    def __init__(self, session: HttpSession, *, page_size: int = 25, options: ProviderOptions | None = None) -> None:
        """Args: session: the connection's HTTP session. page_size: ignored (the service fixes 25).
        options: `FastFakturaOptions`."""
        super().__init__(session, page_size=page_size, options=options)
        self.pages_per_batch = self.options.list_pages_per_batch
        self.workers = self.options.detail_workers
        self._pool: ThreadPoolExecutor | None = None

    def streams(self) -> list[StreamSpec]:
        """Clients first (invoices refer to them), then invoices (with the payments of their details).

        The invoices stream declares only ``invoice``: that kind is listed completely every run (so the
        engine may sweep it), while payments come only with re-fetched details and a FastFaktura
        timeline never loses a ``paid`` event, so payments must not be swept.
        """
        return [StreamSpec("clients", ("client",)), StreamSpec("invoices", ("invoice",))]

    @property
    def requests_made(self) -> int:
        """Requests sent through this provider's session."""
        return self.session.requests_made

    def server_now(self) -> datetime | None:
        """The service's clock from its Date header; one cheap request (the business profile) if none seen."""
        now = self.session.server_now()
        if now is None:
            self.session.get_json("business")
            now = self.session.server_now()
        return now

    def reference_data(self, names: set[str]) -> dict[str, list[dict[str, Any]]]:
        """FastFaktura has no reference lists the mapping needs (countries are ISO codes already)."""
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
        """Yield pages of the named stream (see the module docstring)."""
        if stream == "clients":
            yield from self._clients(resume or {})
        elif stream == "invoices":
            yield from self._invoices(resume or {}, stamps)
        else:
            raise ProviderError(f"unknown stream {stream!r}", provider=self.id)

    def list_ids(self, kind: str) -> Iterator[list[str]]:
        """Yield every client id (active and archived) or invoice id, a batch of list pages at a time."""
        if kind not in ("client", "invoice"):
            raise ProviderError(f"cannot list ids of {kind!r}", provider=self.id)
        listings = _LISTINGS if kind == "client" else (("all", {}),)
        path = f"{kind}s"
        for name, params in listings:
            watch = ListingWatch()
            for batch in self._batches(path, params, 1, watch):
                yield [record_id(item, path) for _, items in batch for item in items]
            moved = watch.moved(partial(self._first_page, path, params), totals_prove=kind == "invoice")
            if moved:  # a listing that may have missed an id must not drive deletions
                raise ProtocolError(f"the {path} ({name}) listing moved while the sweep read it ({moved}); "
                                    "no deletions this time", provider=self.id)

    def close(self) -> None:
        """Stop the worker threads and close the HTTP session."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.session.close()

    # -- writes ------------------------------------------------------------------------------------

    def write(
        self,
        kind: str,
        operation: str,
        payload: dict[str, Any],
        remote_id: str | None,
        *,
        idempotency_key: str | None = None,
    ) -> str | None:
        """Create, update or archive a client; create or send an invoice. Returns the remote id.

        FastFaktura takes no idempotency key, so creates (POST) are sent once and never retried: a
        timeout raises `Timeout` and the caller must look before creating again. ``send`` takes
        ``{"channels": [...], "reminder": bool}`` (channels default to ``["email"]``).

        Raises:
            Unsupported: changing or deleting an invoice, and any payment (clients pay through Stripe).
            Rejected: the service refused the payload (422 with field details).
        """
        if kind == "client":
            if operation == "create":
                if idempotency_key and not payload.get("external_id"):
                    payload = {**payload, "external_id": marker(idempotency_key)}
                created = self.session.request("POST", "clients", json=payload, retry=False)
                return record_id(expect_object(self.session.decode_json(created), "POST clients"), "POST clients")
            target = f"clients/{quote(self._need(remote_id, kind, operation), safe='')}"
            if operation == "update":
                self.session.request("PUT", target, json=payload)
                return remote_id
            if operation == "delete":
                self.session.request("DELETE", target)  # archives; doing it twice is harmless
                return remote_id
        elif kind == "invoice":
            if operation == "create":
                payload = dict(payload)
                status = payload.pop("status", None)  # an action here: see _send_unless_draft
                if idempotency_key:
                    notes = str(payload.get("notes") or "")
                    payload["notes"] = f"{notes}\n{marker(idempotency_key)}".strip()
                created = self.session.request("POST", "invoices", json=payload, retry=False)
                answer = expect_object(self.session.decode_json(created), "POST invoices")
                invoice_id = record_id(answer, "POST invoices")
                self._send_unless_draft(invoice_id, status, "draft")
                return invoice_id
            if operation == "send":
                body = {"channels": payload.get("channels") or ["email"], "reminder": bool(payload.get("reminder"))}
                target = f"invoices/{quote(self._need(remote_id, kind, operation), safe='')}/send"
                self.session.request("POST", target, json=body, retry=False)
                return remote_id
            if operation in ("update", "delete"):
                raise Unsupported(f"{operation} invoice", "FastFaktura v1 has no endpoint to change or delete an "
                                  "invoice once created (cancelling is only possible in the web app)",
                                  provider=self.id)
        elif kind == "payment":
            raise Unsupported(f"{operation} payment", "FastFaktura has no payment endpoint: clients pay by card "
                              "(Stripe) on the invoice's public_url", provider=self.id)
        raise Unsupported(f"{operation} {kind}", f"{self.id} supports client create/update/delete and invoice "
                          "create/send", provider=self.id)

    def find_marked(
        self, kind: str, idempotency_key: str, payload: Mapping[str, Any], taken: Callable[[str], bool] | None = None
    ) -> str | None:
        """After an ambiguous create: find the client by its external id (the marker, or the one sent), or
        the invoice by the marker line in its notes among the client's invoices (details of those only)."""
        mark = marker(idempotency_key)
        if kind == "client":
            wanted = {str(payload.get("external_id") or ""), mark} - {""}
            for _, params in _LISTINGS:
                for batch in self._batches("clients", params, 1):
                    for _, items in batch:
                        for client in items:
                            found = record_id(client, "clients")
                            if client.get("external_id") in wanted and not (taken and taken(found)):
                                return found
            return None
        if kind == "invoice":
            client_id = payload.get("client_id")
            for batch in self._batches("invoices", {}, 1):
                for _, items in batch:
                    for entry in items:
                        if entry.get("client_id") != client_id:
                            continue
                        invoice_id = record_id(entry, "invoices")
                        detail = expect_object(self.session.get_json(f"invoices/{quote(invoice_id, safe='')}"), "GET")
                        if mark in str(detail.get("notes") or "").splitlines():
                            # made, but perhaps not sent before the failure: finish what the create began
                            self._send_unless_draft(invoice_id, payload.get("status"), str(detail.get("status")))
                            return invoice_id
        return None

    def _send_unless_draft(self, invoice_id: str, wanted: object, current: str) -> None:
        """Send a created invoice whose canonical status is past draft, over the "link" channel: FastFaktura
        marks it sent and gives it a public link, and no e-mail or text reaches the client for a copy."""
        if wanted in (None, "draft", "cancelled") or current != "draft":
            return
        target = f"invoices/{quote(invoice_id, safe='')}/send"
        self.session.request("POST", target, json={"channels": ["link"], "reminder": False}, retry=False)

    def _need(self, remote_id: str | None, kind: str, operation: str) -> str:
        if not remote_id:
            raise ProviderError(f"{operation} {kind} needs the remote id", provider=self.id)
        return remote_id

    # -- reading -----------------------------------------------------------------------------------

    def _clients(self, resume: Mapping[str, Any]) -> Iterator[Page]:
        names = [name for name, _ in _LISTINGS]
        start = names.index(resume["listing"]) if resume.get("listing") in names else 0
        for index in range(start, len(_LISTINGS)):
            name, params = _LISTINGS[index]
            first = _overlap(resume.get("page")) if index == start else 1
            for _ in range(1 + _REREADS):
                watch = ListingWatch(first)
                for batch in self._batches("clients", params, first, watch):
                    for number, items in batch:
                        records = [
                            RawRecord(
                                "client", record_id(c, "clients"), _unmarked_client(c),
                                marker=found_marker(c.get("external_id")),
                            )
                            for c in items
                        ]
                        yield Page(records, {"listing": name, "page": number + 1})
                if not watch.shrank():
                    break
                # A client left the listing while we paged (archived): the ones after it moved up a
                # place and one of them may have been skipped. Read the listing once more.
                first = 1
            # clients can leave a list (archived) as others arrive, so equal totals prove nothing
            moved = watch.moved(partial(self._first_page, "clients", params), totals_prove=False)
            if moved:
                yield self._untrusted(f"clients ({name})", moved)

    def _invoices(self, resume: Mapping[str, Any], stamps: ChangeStamps) -> Iterator[Page]:
        watch = ListingWatch(_overlap(resume.get("page")))
        for batch in self._batches("invoices", {}, watch.first, watch):
            entries: dict[str, dict[str, Any]] = {}
            owner: dict[str, int] = {}  # id -> the batch's first page listing it (a shift may list it twice)
            for index, (_, items) in enumerate(batch):
                for item in items:
                    invoice_id = record_id(item, "invoices")
                    entries[invoice_id] = item
                    owner.setdefault(invoice_id, index)
            stamped = {invoice_id: stamp(entry) for invoice_id, entry in entries.items()}
            same = stamps.unchanged("invoice", stamped)
            todo = [invoice_id for invoice_id in entries if invoice_id not in same]
            details = dict(zip(todo, self._map(self._detail, todo), strict=True))
            for index, (number, _) in enumerate(batch):
                records: list[RawRecord] = []
                vanished: list[str] = []
                unchanged: list[str] = []
                for invoice_id in (i for i, o in owner.items() if o == index):
                    if invoice_id in same:
                        unchanged.append(invoice_id)
                        continue
                    fetched = details[invoice_id]
                    if fetched is None:
                        vanished.append(invoice_id)
                        continue
                    detail, text = fetched
                    mark = found_marker(detail.get("notes"))
                    if mark is not None:
                        detail, text = _unmarked_invoice(detail), None
                    records.append(RawRecord("invoice", invoice_id, detail, stamped[invoice_id], text, mark))
                    records.extend(RawRecord("payment", p["id"], p) for p in derive_payments(detail))
                yield Page(records, {"page": number + 1}, {"invoice": vanished} if vanished else {},
                           {"invoice": unchanged} if unchanged else {})
        # invoices never leave the list: equal totals on every page prove none was added meanwhile
        moved = watch.moved(lambda: self._first_page("invoices", {}), totals_prove=True)
        if moved:
            yield self._untrusted("invoices", moved)

    def _first_page(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """The records of a list's first page, read again."""
        return list_entries(self.session.get_json(path, params={**params, "page": 1}), f"GET {path} page 1")[0]

    def _untrusted(self, listing: str, reason: str) -> Page:
        """An empty last page telling the engine the listing may have missed records (no sweep from it)."""
        log.warning("listing moved while read", listing=listing, reason=reason, consequence="no deletions from it")
        return Page([], None, untrusted=f"{listing}: {reason}")

    def _detail(self, invoice_id: str) -> tuple[dict[str, Any], str | None] | None:
        """GET one invoice detail (lines + events) and its source text; None when the service lost it (404).

        The text goes with the record (`RawRecord.text`) so the engine hashes and keeps the service's
        own bytes instead of encoding the payload again; a wrapped detail (``{"data": {...}}``) has none.
        """
        path = f"invoices/{quote(invoice_id, safe='')}"
        try:
            response = self.session.request("GET", path)
        except NotFound:
            return None
        body = self.session.decode_json(response)
        detail = expect_object(body, f"GET {path}")
        if detail is not body:
            return detail, None
        try:
            return detail, response.content.decode("utf-8")
        except UnicodeDecodeError:  # JSON in UTF-16/32: decodable, but not text we can keep byte for byte
            return detail, None

    def _batches(
        self, path: str, params: dict[str, str], first: int, watch: ListingWatch | None = None
    ) -> Iterator[list[tuple[int, list[dict[str, Any]]]]]:
        """Yield batches of (page number, records) of the non-empty list pages, in page order.

        The first request goes alone; later batches read up to `pages_per_batch` pages at once, but not
        past the ``meta.last_page`` the service stated (a hint that only saves requests: the listing
        still ends on an empty page or one shorter than the page size, never on the hint).
        `watch` takes in every page read, so the caller can tell the listing moved meanwhile.

        Raises:
            ProtocolError: a page repeats the one before it (the service ignores ``page``). Only pages
                read together (one batch, or pages 1 and 2) are compared: between batches, 25 new
                records would shift a whole page.
        """
        page, per_page, size = first, 0, 1
        last: int | None = None
        previous: list[str] | None = None
        while True:
            if page != 2:
                previous = None
            numbers = list(range(page, page + size))
            bodies = self._map(lambda n: self.session.get_json(path, params={**params, "page": n}), numbers)
            batch: list[tuple[int, list[dict[str, Any]]]] = []
            done = False
            for number, body in zip(numbers, bodies, strict=True):
                items, stated = list_entries(body, f"GET {path} page {number}")
                meta_total, meta_last = list_meta(body)
                if watch is not None:
                    watch.page(number, items, meta_total)
                last = meta_last if meta_last is not None else last
                per_page = stated or max(per_page, len(items))
                ids = [str(item.get("id")) for item in items]
                if items and ids == previous:
                    raise ProtocolError(f"GET {path}: page {number} repeats page {number - 1}; the service "
                                        "ignores 'page'", provider=self.id)
                previous = ids
                if items:
                    batch.append((number, items))
                page = number + 1
                if not items or len(items) < per_page:
                    done = True
                    break
            if batch:
                yield batch
            if done:
                return
            size = self.pages_per_batch if last is None else max(1, min(self.pages_per_batch, last - page + 1))

    # -- reading records again by id (`Provider.fetch`) ----------------------------------------------

    # Payments are events of an invoice's timeline with no route of their own: they come with their invoice.
    fetchable_kinds: ClassVar[frozenset[str]] = frozenset({EntityKind.CLIENT, EntityKind.INVOICE})
    fetch_page_size: ClassVar[int] = 100  # records per page (one transaction) of a fetch

    def fetch(self, kind: str, remote_ids: Sequence[str]) -> Iterator[Page]:
        """GET each client, or each invoice's detail (with the payments of its ``paid`` events), one request
        each (on the worker threads); a 404 puts the id in `Page.vanished`.

        A fetched invoice carries no list-entry stamp, so the next listing fetches its detail once more.
        """
        if kind not in self.fetchable_kinds:
            raise Unsupported(f"fetch {kind}", "not readable by id (payments come with their invoice)",
                              provider=self.id)
        wanted = list(dict.fromkeys(remote_ids))
        for at in range(0, len(wanted), self.fetch_page_size):
            chunk = wanted[at : at + self.fetch_page_size]
            getter = self._client_by_id if kind == "client" else self._detail
            answers = dict(zip(chunk, self._map(getter, chunk), strict=True))
            gone = [remote_id for remote_id, answer in answers.items() if answer is None]
            records: list[RawRecord] = []
            for remote_id, answer in answers.items():
                if answer is None:
                    continue
                record, text = answer
                if kind == "client":
                    mark = found_marker(record.get("external_id"))
                    records.append(RawRecord("client", remote_id, _unmarked_client(record), marker=mark))
                    continue
                mark = found_marker(record.get("notes"))
                if mark is not None:
                    record, text = _unmarked_invoice(record), None
                records.append(RawRecord("invoice", remote_id, record, None, text, mark))
                records.extend(RawRecord("payment", p["id"], p) for p in derive_payments(record))
            yield Page(records, vanished={kind: gone} if gone else {})

    def _client_by_id(self, client_id: str) -> tuple[dict[str, Any], None] | None:
        """GET one client (active or archived); None when the service does not hold it (404)."""
        path = f"clients/{quote(client_id, safe='')}"
        try:
            return expect_object(self.session.get_json(path), f"GET {path}"), None
        except NotFound:
            return None

    def _map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """`fn` over `items` in order, concurrently on the worker threads when there is more than one."""
        if self.workers <= 1 or len(items) <= 1:
            return [fn(item) for item in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=f"{self.id}-http")
        return list(self._pool.map(fn, items))


def _overlap(page: Any) -> int:
    """Where a resumed listing starts: one page before the checkpoint (records may have moved down)."""
    return max(1, int(page) - 1) if isinstance(page, int) and not isinstance(page, bool) else 1


def _unmarked_client(client: dict[str, Any]) -> dict[str, Any]:
    """A client read back without the marker the connector may have left as its external id."""
    external = client.get("external_id")
    if isinstance(external, str) and "sync:" in external:
        return {**client, "external_id": unmarked(external)}
    return client


def _unmarked_invoice(invoice: dict[str, Any]) -> dict[str, Any]:
    """An invoice read back without the connector's marker line in its notes."""
    lines = [unmarked(line) for line in str(invoice.get("notes") or "").splitlines()]
    notes = "\n".join(line for line in lines if line)
    return {**invoice, "notes": notes or None}
