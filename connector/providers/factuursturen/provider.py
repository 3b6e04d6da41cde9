"""The FactuurSturen adapter: streams of clients, invoices (with derived payments) and open invoices.

Incremental strategy (DESIGN.md "Pull"): the service filters invoices only by their *sent* date, so
`invoices` reads the window the engine cuts (since/until as local dates, both inclusive); `open_invoices`
re-reads every still-open invoice so late payments on old invoices are seen, and fetches one by one
the invoices that left the open set since the last run (paid in full, or deleted: a 404); "the open set
of the last run" is its memo together with what the store holds as open, which survives a run killed
before it saved the memo. Clients
carry no change filter: the list is read whole and the engine's hash comparison finds the changes.

A run whose `invoices` stream has just listed every invoice (no `since`, from the first page to the
last) has read every open invoice already, and its complete listing lets the engine soft-delete what
vanished; the `open_invoices` stream of that same run (this provider instance) then makes no request:
it only remembers which of the listed invoices were open, for the next run's refresh to notice those
that leave the open set.

Every list is paged with `StartCountPaginator` (one record of overlap). A page's checkpoint is ``{"start":
offset to resume from, "last": key of the record before it, "untrusted": reason}``: a resumed listing checks
its overlap against ``last`` (and rewinds when the list shifted while no process read it), and a listing
once untrusted (it shifted past recovery, or served a page longer than asked) stays so after a resume; its
pages say so (`Page.untrusted`), so the engine neither sweeps deletions from it nor moves a cursor past it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

from connector.errors import NotFound, ProtocolError, ProviderError, Rejected, Unsupported
from connector.http import HttpSession, Override, StartCountPaginator, forbidden_with_zero_remaining_is_rate_limit
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
from connector.providers.factuursturen.options import FactuurSturenOptions
from connector.providers.factuursturen.wire import (
    decimal_or_none,
    derive_payments,
    expect_list,
    marker,
    maybe_open,
    unwrap,
)
from connector.providers.markers import found_marker
from connector.vocabulary import EntityKind

__all__ = ["FactuurSturenProvider"]

log = get_logger("connector.providers.factuursturen")

_ZONE = ZoneInfo("Europe/Amsterdam")
_KINDS = frozenset(EntityKind)


class Listed(NamedTuple):
    """One page of a start/count listing: (record, its source text) pairs new on it, the checkpoint to
    resume after it, and why the listing may have missed records (None while it is trusted)."""

    items: list[tuple[dict[str, Any], str]]
    checkpoint: dict[str, Any]
    untrusted: str | None


class FactuurSturenProvider(Provider):
    """Reads (and later writes) one FactuurSturen account."""

    id: ClassVar[str] = "factuursturen"
    capabilities: ClassVar[Capabilities] = Capabilities(
        readable=_KINDS,
        writable=_KINDS,
        updatable=frozenset({"client"}),
        deletable=frozenset({"client", "invoice"}),
        incremental=True,
        id_sweep=True,
        marked=_KINDS,  # `find_marked` looks for each before a retry
    )
    sweep_kinds: ClassVar[tuple[str, ...]] = (EntityKind.CLIENT, EntityKind.INVOICE)
    auth_scheme: ClassVar[AuthScheme] = AuthScheme.basic()
    default_rate_limit: ClassVar[int | None] = 250
    default_rate_window_seconds: ClassVar[float | None] = 3600.0
    default_headers: ClassVar[Mapping[str, str]] = MappingProxyType({"Accept": "application/json"})
    # A spent hourly budget is answered with 403 (not 429) and X-RateLimit-Remaining: 0.
    status_overrides: ClassVar[Mapping[int, Override]] = MappingProxyType(
        {403: forbidden_with_zero_remaining_is_rate_limit}
    )
    Options: ClassVar[type[ProviderOptions]] = FactuurSturenOptions
    options: FactuurSturenOptions

    def __init__(
        self, session: HttpSession, *, page_size: int = 500, options: ProviderOptions | None = None
    ) -> None:
        """Args: session: the connection's HTTP session. page_size: `count` per list request. options:
        `FactuurSturenOptions`."""
        super().__init__(session, page_size=page_size, options=options)
        # The ids a complete invoice listing of this run saw open (None: no such listing finished yet).
        self._listed_open: set[str] | None = None

    def streams(self) -> list[StreamSpec]:
        """Clients first (invoices refer to them), then the invoice window, then the open-invoice refresh."""
        return [
            StreamSpec("clients", ("client",)),
            StreamSpec("invoices", ("invoice", "payment"), windowed=True),
            StreamSpec("open_invoices", ("invoice", "payment"), refresh=True),
        ]

    @property
    def requests_made(self) -> int:
        """Requests sent through this provider's session."""
        return self.session.requests_made

    def server_now(self) -> datetime | None:
        """The service's clock from its Date header; one cheap request (profiles) if none was seen yet."""
        now = self.session.server_now()
        if now is None:
            self.session.get_json("profiles")
            now = self.session.server_now()
        return now

    def reference_data(self, names: set[str]) -> dict[str, list[dict[str, Any]]]:
        """Fetch reference lists by name; only ``countrylist`` (in English) exists."""
        result: dict[str, list[dict[str, Any]]] = {}
        for name in sorted(names):
            if name != "countrylist":
                raise ProviderError(f"unknown reference list {name!r}", provider=self.id)
            result[name] = expect_list(self.session.get_json("countrylist/en"), "countrylist")
        return result

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
            for listed in self._paged("clients", {}, "clientnr", resume):
                yield Page(
                    [
                        RawRecord(
                            "client", str(c.get("clientnr", "")), c, c.get("timestamp"), t, found_marker(c.get("notes"))
                        )
                        for c, t in listed.items
                    ],
                    listed.checkpoint,
                    untrusted=listed.untrusted,
                )
        elif stream == "invoices":
            yield from self._invoice_window(window, resume)
        elif stream == "open_invoices":
            seen_open, self._listed_open = self._listed_open, None
            if seen_open is None:
                # what the last refresh saw open, and what the store holds as open (a killed run saves no memo)
                yield from self._open_refresh({*known.get("open_ids", ()), *known.get("store_open_ids", ())})
            else:
                log.info("open invoices known from a full listing", stream="open_invoices", open=len(seen_open),
                         refresh_needed=False)
                yield Page([], {"memo": {"open_ids": sorted(seen_open)}})
        else:
            raise ProviderError(f"unknown stream {stream!r}", provider=self.id)

    def list_ids(self, kind: str) -> Iterator[list[str]]:
        """Yield every client number or invoice id, a page at a time."""
        path, key = {"client": ("clients", "clientnr"), "invoice": ("invoices", "id")}[kind]
        untrusted = None
        for listed in self._paged(path, {}, key):
            untrusted = listed.untrusted
            yield [str(item.get(key, "")) for item, _text in listed.items]
        if untrusted:  # a listing that may have missed ids must not drive deletions
            raise ProtocolError(f"{path}: the id listing is not trusted ({untrusted}); no deletion sweep this time",
                                provider=self.id)

    def write(
        self,
        kind: str,
        operation: str,
        payload: dict[str, Any],
        remote_id: str | None,
        *,
        idempotency_key: str | None = None,
    ) -> str | None:
        """Create clients, invoices (sent at once) and payments; update clients.

        Creates are never retried by the HTTP layer (the service has no idempotency key): each carries
        the connector's marker (a client's notes, an invoice's third reference line) so that after an
        ambiguous failure `find_marked` can tell whether it was made. An invoice cannot change once sent.
        """
        # null means "no value": leave it out; so does an empty country (the service resolves names and ids only)
        payload = {k: v for k, v in payload.items() if v is not None and not (k == "country" and v == "")}
        if kind == "client" and operation == "create":
            body = {**payload, "notes": marker(idempotency_key)} if idempotency_key else dict(payload)
            return self._post_for_id("clients", body)
        if kind == "client" and operation == "update" and remote_id:
            self.session.request("PUT", f"clients/{quote(remote_id, safe='')}", json=payload)
            return remote_id
        if kind == "invoice" and operation == "create":
            return self._create_invoice(payload, idempotency_key)
        if kind == "payment" and operation == "create":
            return self._create_payment(payload)
        reasons = {
            "invoice": "FactuurSturen cannot change or delete an invoice through the sync once it is sent",
            "payment": "FactuurSturen payments can only be registered, not changed",
        }
        raise Unsupported(f"{operation} {kind}", reasons.get(kind, f"not offered for {kind}"), provider=self.id)

    def find_marked(
        self, kind: str, idempotency_key: str, payload: Mapping[str, Any], taken: Callable[[str], bool] | None = None
    ) -> str | None:
        """After an ambiguous create: the id of what it made, if the service made it.

        A client carries the key's marker in its notes and an invoice in its third reference line. A
        payment has no field for a marker: it is recognised by content on its invoice (re-read): one of
        the payments derived from its history with the payload's date and amount that no other canonical
        payment is linked to (`taken`).
        """
        mark = marker(idempotency_key)
        if kind == "payment":
            return self._find_payment(payload, taken)
        if kind == "client":
            found = expect_list(self.session.get_json(f"search/clients/notes/{quote(mark, safe='')}"), "search")
            return next((str(c.get("clientnr")) for c in found if c.get("notes") == mark), None)
        if kind == "invoice":
            since = (self.session.server_now() or datetime.now(_ZONE)).astimezone(_ZONE).date() - timedelta(days=1)
            for listed in self._paged("invoices", {"since": since.isoformat()}, "id"):
                for invoice, _text in listed.items:
                    reference = invoice.get("reference")
                    if isinstance(reference, dict) and reference.get("line3") == mark:
                        return str(invoice.get("id", ""))
        return None

    def _post_for_id(self, path: str, body: dict[str, Any]) -> str:
        """POST a create; the service answers 201 with the new id as plain text."""
        text = self.session.request("POST", path, json=body, retry=False).text.strip()
        if not text or len(text) > 64 or any(ch.isspace() for ch in text):
            raise ProtocolError(f"POST {path}: expected the new id as plain text, got {text[:60]!r}", provider=self.id)
        return text

    def _create_invoice(self, payload: dict[str, Any], idempotency_key: str | None) -> str:
        body = {
            **payload,
            "action": self.options.invoice_action,
            "sendmethod": self.options.send_method,
        }
        if body.get("discount") not in (None, ""):  # the mapping sends the invoice-level discount as an amount
            body.setdefault("discounttype", "amount")
        if idempotency_key:
            reference = dict(body.get("reference") or {})
            reference["line3"] = marker(idempotency_key)
            body["reference"] = reference
        number = self._post_for_id("invoices", body)
        # The answer is the invoice number (F20250001); links use the numeric id the lists carry.
        return str(self._invoice(number).get("id", number))

    def _create_payment(self, payload: dict[str, Any]) -> str:
        body = dict(payload)
        invoice_id = str(body.pop("invoice_id", "") or "")
        if not invoice_id:
            raise Rejected("a payment needs its invoice id", status=0, code="invalid_payload", provider=self.id)
        before = {p["id"] for p in derive_payments(self._invoice(invoice_id))}
        self.session.request("POST", f"invoices_payment/{quote(invoice_id, safe='')}", json=body, retry=False)
        after = derive_payments(self._invoice(invoice_id))
        new = [p["id"] for p in after if p["id"] not in before]
        if not new:
            raise ProtocolError(f"payment on invoice {invoice_id} accepted but not in its history", provider=self.id)
        return str(new[-1])

    def _find_payment(self, payload: Mapping[str, Any], taken: Callable[[str], bool] | None) -> str | None:
        """The first payment on the payload's invoice with its date and amount that is not linked elsewhere."""
        invoice_id = str(payload.get("invoice_id") or "")
        amount = decimal_or_none(payload.get("amount"))
        if not invoice_id or amount is None:
            return None
        try:
            invoice = self._invoice(invoice_id)
        except NotFound:
            return None
        for payment in derive_payments(invoice):
            same = decimal_or_none(payment["amount"]) == amount and payment["date"] == str(payload.get("date") or "")
            if same and not (taken and taken(payment["id"])):
                return str(payment["id"])
        return None

    def _invoice(self, invoice_id: str) -> dict[str, Any]:
        """One invoice by numeric id or full number (URL-quoted: numbers may contain '/')."""
        return unwrap(self.session.get_json(f"invoices/{quote(invoice_id, safe='')}"), "invoice")

    # -- internals ---------------------------------------------------------------------------------

    def _paged(
        self, path: str, params: dict[str, Any], key: str, resume: Mapping[str, Any] | None = None
    ) -> Iterator[Listed]:
        """Page through a start/count list, from the start or from a checkpoint (`Listed.checkpoint`)."""
        resume = resume or {}
        extra = {"last_key": resume["last"]} if resume.get("last") is not None else {}  # None: not known
        pager = StartCountPaginator(
            self.page_size, overlap=1, key_of=lambda item: item.get(key), start=int(resume.get("start", 0)), **extra
        )
        if resume.get("untrusted"):  # an interrupted run of this listing had already lost its trust
            pager.untrusted = str(resume["untrusted"])
        request: dict[str, Any] = dict(params)
        pager.init_request(request)
        told: str | None = None
        while True:
            pairs = self.session.get_json_array(path, params=request)
            items = expect_list([item for item, _ in pairs], path)
            texts = {id(item): text for item, text in pairs}
            fresh = pager.update_state(items)
            if fresh or pager.untrusted != told:
                told = pager.untrusted
                checkpoint: dict[str, Any] = {"start": pager.resume_offset, "last": pager.last_key}
                if pager.untrusted:
                    checkpoint["untrusted"] = pager.untrusted
                yield Listed([(item, texts[id(item)]) for item in fresh], checkpoint, pager.untrusted)
            if not pager.has_next:
                return
            pager.update_request(request)

    @staticmethod
    def _window_params(window: Window | None) -> dict[str, str]:
        params: dict[str, str] = {}
        if window and window.since:
            params["since"] = window.since.astimezone(_ZONE).date().isoformat()
        if window and window.until:
            params["until"] = window.until.astimezone(_ZONE).date().isoformat()
        return params

    @staticmethod
    def _invoice_records(items: Sequence[tuple[dict[str, Any], str | None]]) -> list[RawRecord]:
        records = []
        for invoice, text in items:
            invoice_id = str(invoice.get("id", ""))
            reference = invoice.get("reference")
            mark = found_marker(reference.get("line3")) if isinstance(reference, dict) else None
            records.append(RawRecord("invoice", invoice_id, invoice, text=text, marker=mark))
            records.extend(RawRecord("payment", p["id"], p) for p in derive_payments(invoice))
        return records

    def _invoice_window(self, window: Window | None, resume: Mapping[str, Any] | None) -> Iterator[Page]:
        """Page through the invoices of the window; a complete listing remembers the open ones."""
        complete = not resume and (window is None or window.since is None)
        self._listed_open = None
        open_ids: set[str] = set()
        listed = 0
        untrusted = None
        for page in self._paged("invoices", self._window_params(window), "id", resume):
            untrusted = page.untrusted
            if complete:
                listed += len(page.items)
                open_ids.update(str(invoice.get("id", "")) for invoice, _text in page.items if maybe_open(invoice))
            yield Page(self._invoice_records(page.items), page.checkpoint, untrusted=untrusted)
        # Only once every page is committed (the engine asked for the next one); an empty listing is
        # not trusted to stand for the open set (the engine distrusts it for deletions, too).
        if complete and listed and not untrusted:
            self._listed_open = open_ids

    def _open_refresh(self, previously_open: set[str]) -> Iterator[Page]:
        """Re-read the open set; fetch invoices that left it one by one (404: deleted at the service)."""
        open_now: set[str] = set()
        for listed in self._paged("invoices", {"filter": "open"}, "id"):
            open_now.update(str(i.get("id", "")) for i, _text in listed.items)
            yield Page(self._invoice_records(listed.items), untrusted=listed.untrusted)
        left: list[tuple[dict[str, Any], str | None]] = []
        gone: list[str] = []
        for invoice_id in sorted(previously_open - open_now):
            try:
                left.append((self._invoice(invoice_id), None))
            except NotFound:
                gone.append(invoice_id)
        yield Page(self._invoice_records(left), {"memo": {"open_ids": sorted(open_now)}}, {"invoice": gone})

    # -- reading records again by id (`Provider.fetch`) ----------------------------------------------

    fetchable_kinds: ClassVar[frozenset[str]] = _KINDS
    fetch_page_size: ClassVar[int] = 100  # records per page (one transaction) of a fetch

    def fetch(self, kind: str, remote_ids: Sequence[str]) -> Iterator[Page]:
        """GET each client or invoice by id, one request each; a payment through its invoice's history.

        A 404, or the whole list (a bare array) where the wrapped record was expected (the quirk in
        PROVIDERS.md, 21), means the service does not hold the record: its id goes to `Page.vanished`.
        A payment (``<invoice id>:<n>``) the fetched invoice no longer derives is vanished too.
        """
        if kind not in self.fetchable_kinds:
            raise Unsupported(f"fetch {kind}", "not readable by id", provider=self.id)
        wanted = list(dict.fromkeys(remote_ids))
        targets = list(dict.fromkeys(rid.partition(":")[0] for rid in wanted)) if kind == "payment" else wanted
        path, key = ("clients", "client") if kind == "client" else ("invoices", "invoice")
        for at in range(0, len(targets), self.fetch_page_size):
            found: list[tuple[dict[str, Any], str | None]] = []
            gone: list[str] = []
            for remote_id in targets[at : at + self.fetch_page_size]:
                answer = self._fetch_one(path, key, remote_id)
                if answer is None:
                    gone.append(remote_id)
                else:
                    found.append(answer)
            if kind == "client":
                records = [
                    RawRecord("client", str(c.get("clientnr", "")), c, c.get("timestamp"), text,
                              found_marker(c.get("notes")))
                    for c, text in found
                ]
                yield Page(records, vanished={"client": gone} if gone else {})
                continue
            records = self._invoice_records(found)
            vanished: dict[str, list[str]] = {"invoice": gone} if gone else {}
            if kind == "payment":
                batch = set(targets[at : at + self.fetch_page_size])
                derived = {r.remote_id for r in records if r.kind == "payment"}
                lost = [rid for rid in wanted if rid.partition(":")[0] in batch and rid not in derived]
                if lost:
                    vanished["payment"] = lost
            yield Page(records, vanished=vanished)

    def _fetch_one(self, path: str, key: str, remote_id: str) -> tuple[dict[str, Any], str | None] | None:
        """One record by id and its source text, or None when the service does not hold it (404, or a bare
        array instead). The text is the wrapped object's own bytes, the same a listing gives (so the payload
        hash of a record read by id equals the listed one's), None when it cannot be cut out."""
        try:
            response = self.session.request("GET", f"{path}/{quote(remote_id, safe='')}")
        except NotFound:
            return None
        body = self.session.decode_json(response)
        if isinstance(body, list):
            return None
        from connector.providers.wrapped import inner_text  # here: this block is the fetch's alone

        return unwrap(body, key), inner_text(response.content, key)
