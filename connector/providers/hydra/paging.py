"""Walking one Hydra collection by its next links, re-reading a page when the collection shrank meanwhile.

API Platform pages by page number, so a record that leaves the filtered set while we page (deleted,
or updated out of a frozen ``updatedAt`` window) moves every later record one place forward: the first
record of the next page slides onto a page already read and would be missed. ``hydra:totalItems``
shows it: when it drops between two pages, the walk goes back to the previous page (or the first, for
a larger drop) and reads on from there; the repeated records are harmless (the store's hash check
absorbs them). Records joining the set only repeat records, never hide them. Without totals (partial
pagination) nothing can be checked. A plain-JSON answer (a bare array, no links) is paged by ``page``
number until a short or empty page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from connector.errors import ProtocolError
from connector.http import HttpSession, NextLinkPaginator
from connector.observability.events import get_logger
from connector.providers.hydra.wire import PROVIDER, first_link, members, next_link, previous_link, total_items

__all__ = ["HydraPage", "walk"]

log = get_logger("connector.providers.hydra")


@dataclass(slots=True)
class HydraPage:
    """One page of a collection: its records, where to go on from (None: it was the last) and the total."""

    items: list[dict[str, Any]]
    next_url: str | None
    total: int | None


def walk(
    session: HttpSession,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    start_url: str | None = None,
    start_total: int | None = None,
    max_rewinds: int = 50,
) -> Iterator[HydraPage]:
    """Yield every page of a collection, following next links from `path` (or from `start_url`).

    Args:
        session: the connection's HTTP session.
        path: the collection, relative to the API root (``invoices``).
        params: query parameters of the first request.
        start_url: resume here (a next link from an earlier run) instead of `path`.
        start_total: the total seen on the page before `start_url`, to notice a shrink across runs.
        max_rewinds: re-reads allowed before giving up on a collection that keeps shrinking.

    Raises:
        ProtocolError: the collection keeps shrinking, a next link repeats or leaves the service, or an
            answer is not a collection.
    """
    base = session.config.base_url
    url: str = start_url or path
    query: Mapping[str, Any] | None = None if start_url else params
    pager = NextLinkPaginator(next_link, base_url=base)
    seen_total, seen_len, rewinds = start_total, 0, 0
    plain_pages: dict[str, str] = {}
    while True:
        response = session.request("GET", url, params=query)
        doc = session.decode_json(response)
        items = members(doc, path)
        total = total_items(doc)
        if seen_total is not None and total is not None and total < seen_total:
            back = previous_link(doc) if seen_total - total <= max(seen_len, 1) else first_link(doc)
            if back is not None:
                rewinds += 1
                if rewinds > max_rewinds:
                    raise ProtocolError(f"{path}: the collection kept shrinking while it was paged "
                                        f"({rewinds - 1} re-reads); try again later", provider=PROVIDER)
                log.info("collection shrank while paged", path=path, total_before=seen_total, total=total,
                         reread_from=back)
                url, query, seen_total = urljoin(str(response.url), back), None, total
                pager = NextLinkPaginator(next_link, base_url=base)  # the re-read page is not a loop
                continue
        seen_total, seen_len = total if total is not None else seen_total, len(items)
        if isinstance(doc, list):  # plain JSON: no links, so page by number and stop on a short page
            following = _next_page(response.url, items, plain_pages)
            yield HydraPage(items, following, None)
            if following is None:
                return
            url, query = following, None
            continue
        pager.update_state(items, response, document=doc)
        if not pager.has_next:
            yield HydraPage(items, None, total)
            return
        pager.update_request({})
        url, query = str(pager.token), None
        yield HydraPage(items, url, total)


def _next_page(url: httpx.URL, items: list[dict[str, Any]], seen: dict[str, str]) -> str | None:
    """The next page of a plain-JSON collection (bare arrays carry no links), or None after a short page.

    Raises:
        ProtocolError: a page repeats the previous one (the service ignores ``page``).
    """
    per_page = _positive_int(url.params.get("itemsPerPage"), 30)
    if not items or len(items) < per_page:
        return None
    first = repr(items[0].get("@id", items[0].get("id")))
    page = _positive_int(url.params.get("page"), 1)
    if seen.get("first") == first:
        raise ProtocolError(f"page {page} repeats the previous page; the service ignores `page`", provider=PROVIDER)
    seen["first"] = first
    return str(url.copy_set_param("page", str(page + 1)))


def _positive_int(value: str | None, default: int) -> int:
    """A query value as a positive integer, else `default`."""
    return int(value) if value is not None and value.isdigit() and int(value) > 0 else default
