"""The FactuurSturen adapter: streams of clients, invoices (with derived payments) and open invoices.

Incremental strategy (DESIGN.md "Pull"): the service filters invoices only by their *sent* date, so
`invoices` reads the window the engine cuts (since/until as local dates, both inclusive); `open_invoices`
re-reads every still-open invoice so late payments on old invoices are seen, and fetches one by one
the invoices that left the open set since the last run (paid in full, or deleted: a 404). Clients
carry no change filter: the list is read whole and the engine's hash comparison finds the changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from connector.errors import NotFound, ProviderError
from connector.http import HttpSession, Override, StartCountPaginator, forbidden_with_zero_remaining_is_rate_limit
from connector.providers.base import Capabilities, ChangeStamps, Page, Provider, RawRecord, StreamSpec, Window
from connector.providers.factuursturen.wire import derive_payments, expect_list, unwrap

__all__ = ["FactuurSturenProvider"]

_ZONE = ZoneInfo("Europe/Amsterdam")
_KINDS = frozenset({"client", "invoice", "payment"})


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
    )
    sweep_kinds: ClassVar[tuple[str, ...]] = ("client", "invoice")
    auth_scheme: ClassVar[str] = "basic"
    default_rate_limit: ClassVar[int | None] = 250
    default_rate_window_seconds: ClassVar[float | None] = 3600.0
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/json"}
    # A spent hourly budget is answered with 403 (not 429) and X-RateLimit-Remaining: 0.
    status_overrides: ClassVar[dict[int, Override]] = {403: forbidden_with_zero_remaining_is_rate_limit}

    def __init__(self, session: HttpSession, *, page_size: int = 500, options: Mapping[str, Any] | None = None) -> None:
        """Args: session: the connection's HTTP session. page_size: `count` per list request."""
        self.session = session
        self.page_size = page_size
        self.options = dict(options or {})

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
        start = int((resume or {}).get("start", 0))
        if stream == "clients":
            for items, next_start in self._paged("clients", {}, start, "clientnr"):
                yield Page(
                    [RawRecord("client", str(c.get("clientnr", "")), c, c.get("timestamp"), t) for c, t in items],
                    {"start": next_start},
                )
        elif stream == "invoices":
            for items, next_start in self._paged("invoices", self._window_params(window), start, "id"):
                yield Page(self._invoice_records(items), {"start": next_start})
        elif stream == "open_invoices":
            yield from self._open_refresh(set(known.get("open_ids", ())))
        else:
            raise ProviderError(f"unknown stream {stream!r}", provider=self.id)

    def list_ids(self, kind: str) -> Iterator[list[str]]:
        """Yield every client number or invoice id, a page at a time."""
        path, key = {"client": ("clients", "clientnr"), "invoice": ("invoices", "id")}[kind]
        for items, _ in self._paged(path, {}, 0, key):
            yield [str(item.get(key, "")) for item, _text in items]

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    # -- internals ---------------------------------------------------------------------------------

    def _paged(
        self, path: str, params: dict[str, Any], start: int, key: str
    ) -> Iterator[tuple[list[tuple[dict[str, Any], str]], int]]:
        """Page through a start/count list from offset `start`.

        Yields ((item, item's source text) pairs new on this page, offset to resume from).
        """
        pager = StartCountPaginator(self.page_size, overlap=1, key_of=lambda item: item.get(key), start=start)
        request: dict[str, Any] = dict(params)
        pager.init_request(request)
        while True:
            pairs = self.session.get_json_array(path, params=request)
            items = expect_list([item for item, _ in pairs], path)
            texts = {id(item): text for item, text in pairs}
            fresh = pager.update_state(items)
            if fresh:
                yield [(item, texts[id(item)]) for item in fresh], pager.resume_offset
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
            records.append(RawRecord("invoice", invoice_id, invoice, text=text))
            records.extend(RawRecord("payment", p["id"], p) for p in derive_payments(invoice))
        return records

    def _open_refresh(self, previously_open: set[str]) -> Iterator[Page]:
        """Re-read the open set; fetch invoices that left it one by one (404: deleted at the service)."""
        open_now: set[str] = set()
        for items, _ in self._paged("invoices", {"filter": "open"}, 0, "id"):
            open_now.update(str(i.get("id", "")) for i, _text in items)
            yield Page(self._invoice_records(items))
        left: list[tuple[dict[str, Any], str | None]] = []
        gone: list[str] = []
        for invoice_id in sorted(previously_open - open_now):
            try:
                left.append((unwrap(self.session.get_json(f"invoices/{invoice_id}"), "invoice"), None))
            except NotFound:
                gone.append(invoice_id)
        yield Page(self._invoice_records(left), {"memo": {"open_ids": sorted(open_now)}}, {"invoice": gone})
