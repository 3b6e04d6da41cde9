"""The Ledgerly provider: Bearer token, clients and invoices as ``{"items": [...], "next_page": n | null}`` pages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

from connector.errors import ProtocolError, Unsupported
from connector.http import HttpSession
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

__all__ = ["LedgerlyProvider"]

_KINDS = {"clients": "client", "invoices": "invoice"}


class LedgerlyProvider(Provider):
    """Reads Ledgerly's clients and invoices (whole lists each run; no writes)."""

    id: ClassVar[str] = "ledgerly"
    capabilities: ClassVar[Capabilities] = Capabilities(readable=frozenset({"client", "invoice"}))
    auth_scheme: ClassVar[AuthScheme] = AuthScheme.bearer()
    default_headers: ClassVar[Mapping[str, str]] = MappingProxyType({"Accept": "application/json"})

    def __init__(self, session: HttpSession, *, page_size: int = 50, options: ProviderOptions | None = None) -> None:
        """Args: session: the connection's HTTP session. page_size: ``per_page`` (at most 100). options: none."""
        super().__init__(session, page_size=max(1, min(page_size, 100)), options=options)

    def streams(self) -> list[StreamSpec]:
        """Clients first (invoices refer to them), then invoices."""
        return [StreamSpec(name, (kind,)) for name, kind in _KINDS.items()]

    def pull(
        self,
        stream: str,
        window: Window | None,
        resume: Mapping[str, Any] | None,
        known: Mapping[str, Any],
        stamps: ChangeStamps,
    ) -> Iterator[Page]:
        """Page through the whole list, from the resumed page on."""
        kind = _KINDS.get(stream)
        if kind is None:
            raise Unsupported(f"pull {stream}", "ledgerly has the streams clients and invoices", provider=self.id)
        page: int | None = int((resume or {}).get("page", 1))
        while page is not None:
            body = self.session.get_json(f"/{stream}", params={"page": page, "per_page": self.page_size})
            items, following = _page(body, stream)
            page = following
            records = [RawRecord(kind, str(item["id"]), item) for item in items]
            yield Page(records, checkpoint={"page": following} if following else None)

    def list_ids(self, kind: str) -> Iterator[list[str]]:
        """No deletion sweep."""
        raise Unsupported(f"list {kind} ids", "ledgerly has no sweep", provider=self.id)

    def reference_data(self, names: set[str]) -> dict[str, list[dict[str, Any]]]:
        """No reference lists."""
        return {}

    def server_now(self) -> datetime | None:
        """The service's clock from the last ``Date`` header (asking once if none was seen)."""
        if self.session.server_now() is None:
            self.session.request("GET", "/clients", params={"page": 1, "per_page": 1})
        return self.session.server_now()

    @property
    def requests_made(self) -> int:
        """Requests sent through this provider's session."""
        return self.session.requests_made


def _page(body: Any, stream: str) -> tuple[list[dict[str, Any]], int | None]:
    """The items and the next page number of one list answer."""
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise ProtocolError(f"GET /{stream}: expected {{'items': [...], 'next_page': ...}}", provider="ledgerly")
    items = body["items"]
    if not all(isinstance(item, dict) and item.get("id") not in (None, "") for item in items):
        raise ProtocolError(f"GET /{stream}: an item without an id", provider="ledgerly")
    following = body.get("next_page")
    if following is not None and (type(following) is not int or following < 1):
        raise ProtocolError(f"GET /{stream}: next_page {following!r} is not a page number", provider="ledgerly")
    return items, following
