"""Paginators as three-verb state machines (dlt's BasePaginator shape) that refuse to loop."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from connector.errors import ProtocolError
from connector.observability.events import get_logger

__all__ = ["NextLinkPaginator", "PageNumberPaginator", "Paginator", "StartCountPaginator", "link_header_next"]

log = get_logger("connector.http")

KeyOf = Callable[[Any], Any]
_NO_KEY: Any = object()  # "no key given" (a record's key may itself be None)


def _default_key(item: Any) -> Any:
    if isinstance(item, dict):
        return item.get("id", item.get("@id", repr(sorted(item.items(), key=lambda kv: str(kv[0])))))
    return repr(item)


def _fingerprint(items: list[Any], key_of: KeyOf) -> str:
    """A short digest of a page's record keys, to notice a service that serves one page forever."""
    return hashlib.blake2b(repr([key_of(i) for i in items]).encode(), digest_size=12).hexdigest()


class Paginator(ABC):
    """One listing's paging state: ``init_request`` → (request, ``update_state``, ``update_request``)* .

    Usage::

        params = {"filter": "open"}
        pager.init_request(params)
        while True:
            items = fetch(params)
            fresh = pager.update_state(items)   # the records to process from this page
            ...
            if not pager.has_next:
                break
            pager.update_request(params)

    Raises `ProtocolError` when a page token repeats (the service ignores the paging parameter).
    """

    def __init__(self) -> None:
        """Start before the first page."""
        self.has_next = True
        self.token: Any = None
        self._seen: set[Any] = set()

    def _advance(self, token: Any) -> None:
        """Move to `token`; a token seen before means the listing would loop."""
        if token in self._seen:
            raise ProtocolError(f"{type(self).__name__}: page token {token!r} repeats; the listing loops")
        self._seen.add(token)
        self.token = token

    @abstractmethod
    def init_request(self, params: dict[str, Any]) -> None:
        """Set the paging parameters of the first request (in place)."""

    @abstractmethod
    def update_state(self, items: list[Any], response: httpx.Response | None = None) -> list[Any]:
        """Take in one page; set `has_next`.

        Args:
            items: the page's records, as decoded.
            response: the raw response, when the paging state lives in it (headers, links).

        Returns:
            The records of this page the caller should process (an overlap record already seen is left out).

        Raises:
            ProtocolError: the page repeats an earlier one.
        """

    @abstractmethod
    def update_request(self, params: dict[str, Any]) -> None:
        """Set the paging parameters of the next request (in place)."""


class StartCountPaginator(Paginator):
    """``?start=&count=`` offsets (0-based); stops on an empty page or a short one (see below), never on a total.

    With ``overlap=1`` every next page starts one record early and checks that record is the last one
    seen. If it is not, the listing shifted under us (an insert or delete while paging): the last-seen
    record is looked for further in the page (an insert before it), else the paginator rewinds one page
    (at most `max_rewinds` times). `shift_detected` counts these. Records may then come twice; the
    caller's hash dedupe absorbs them. A resumed listing checks its first page the same way when it is
    given the key of the last record the interrupted run stored (`last_key`, kept in its checkpoint), so a
    listing that shifted while no process was reading it is caught too.

    The offset advances by what came, never by more than was asked: a page longer than `count` (the
    service repeated records on it) cannot say which of its records stand at which offsets. Such a page,
    and a shift the rewinds could not resolve, set `untrusted` (why the listing may have missed records):
    a caller must then not treat the listing as complete (no deletion sweep, no cursor moved past it).

    A page shorter than `count` ends the listing only when it brings nothing new or is shorter than the
    longest page the service has served in this listing: a service that silently caps `count` (serves 100
    when asked for 500) would otherwise end the listing after its first page, and a sweep would take the
    rest for deleted. So a listing whose first page is short costs one more request (which finds the end,
    or shows the cap).

    Args:
        count: page size sent as ``count``.
        overlap: records re-read at the start of each next page (0 or more).
        key_of: the record's identity, for the overlap check.
        start: offset of the first record not yet seen (a resumed run passes its `resume_offset`).
        last_key: the key of the record just before `start`, as the interrupted run saw it (`last_key`
            of its paginator); with it a resumed listing verifies its overlap.
        max_rewinds: rewinds allowed before paging on without the check.
        start_param: name of the offset parameter.
        count_param: name of the page-size parameter.
    """

    def __init__(
        self,
        count: int,
        overlap: int = 0,
        key_of: KeyOf = _default_key,
        *,
        start: int = 0,
        last_key: Any = _NO_KEY,
        max_rewinds: int = 3,
        start_param: str = "start",
        count_param: str = "count",
    ) -> None:
        """Validate the page shape and start before the first page."""
        super().__init__()
        if count < 1 or not 0 <= overlap < count:
            raise ValueError(f"need count >= 1 and 0 <= overlap < count; got count={count} overlap={overlap}")
        self.count, self.overlap, self.key_of = count, overlap, key_of
        self.max_rewinds, self.start_param, self.count_param = max_rewinds, start_param, count_param
        self.resume_offset = max(0, start)  # offset of the first record not yet seen
        self.shift_detected = 0
        self.untrusted: str | None = None
        self._last_key: Any = last_key if last_key is not _NO_KEY else None
        self._has_last = overlap > 0 and self.resume_offset > 0 and last_key is not _NO_KEY
        self._rewinds = 0
        self._rewound = False
        self._served = 0  # the longest page the service has served in this listing
        self._pages: dict[str, int] = {}
        self._next = max(0, start - overlap)

    @property
    def last_key(self) -> Any:
        """The key of the last record before `resume_offset` (for a checkpoint), or None if unknown."""
        return self._last_key if self._has_last else None

    def init_request(self, params: dict[str, Any]) -> None:
        """Set ``start`` (overlapping a resumed offset) and ``count``."""
        self._advance(self._next)
        params[self.start_param], params[self.count_param] = self.token, self.count

    def update_state(self, items: list[Any], response: httpx.Response | None = None) -> list[Any]:
        """Take in one page; check the overlap; decide the next offset. See `Paginator.update_state`."""
        requested = int(self.token)
        overlapped = self._has_last and self.resume_offset > requested
        if not items and not overlapped:
            self.has_next = False
            return []
        if items:
            digest = _fingerprint(items, self.key_of)
            if self._pages.setdefault(digest, requested) != requested:
                first = self._pages[digest]
                raise ProtocolError(f"start={requested} returned the same records as start={first}; "
                                    "the service ignores the offset")
        skip = self._overlap_skip(items, requested)
        if skip is None:  # shifted, and the last-seen record is not on this page: re-read the page before
            self._rewind(requested)
            return []
        self._rewound = False
        came = min(len(items), self.count)
        if len(items) > self.count:
            self._distrust(f"start={requested} count={self.count} returned {len(items)} records")
        fresh = came - min(skip, came)
        # A short page ends the listing only when nothing new came or it is shorter than pages the service
        # has served before: a service that caps `count` (100 when asked for 500) is not at its end.
        self.has_next = came >= self.count or (fresh > 0 and came >= self._served)
        self._served = max(self._served, came)
        self.resume_offset = requested + came
        # never the same offset again: a page of `overlap` records or fewer is followed from its end
        self._next = max(self.resume_offset - self.overlap, requested + 1)
        if came:
            # after a page longer than asked, which record stands at the offset is unknown: no check next
            self._last_key, self._has_last = self.key_of(items[came - 1]), len(items) <= self.count
        return items[skip:]

    def _rewind(self, requested: int) -> None:
        """Go one page back to find the last-seen record again."""
        self._rewinds += 1
        self._rewound = True
        self._next, self.has_next = max(0, requested - self.count), True
        # offsets, and the pages at them, come round again after a rewind: neither is a loop here
        # (`max_rewinds` bounds it); a listing shifted by one serves at start-1 what start served
        self._seen.clear()
        self._pages.clear()
        log.warning("listing shifted while paging", start=requested, rewind_to=self._next)

    def _distrust(self, reason: str) -> None:
        """Note that the listing may have missed records (the first reason is kept)."""
        if self.untrusted is None:
            self.untrusted = reason
            log.warning("listing not trusted", reason=reason)

    def _overlap_skip(self, items: list[Any], requested: int) -> int | None:
        """How many leading records were already seen; None when the listing shifted past recovery here."""
        expected = self.resume_offset - requested  # records of this page we had already
        if expected <= 0 or not self._has_last:
            return 0
        keys = [self.key_of(i) for i in items]
        if len(keys) >= expected and keys[expected - 1] == self._last_key:
            return expected
        if not self._rewound:  # a re-read page after a rewind is the same shift, not another
            self.shift_detected += 1
        if self._last_key in keys:  # an insert before it pushed it further down: carry on after it
            return keys.index(self._last_key) + 1
        if requested == 0:  # read from the very first record again: nothing before it can be missed
            self._has_last = False
            return 0
        if self._rewinds >= self.max_rewinds:
            self._distrust(f"the listing kept shifting (start={requested}); paged on without the overlap check")
            self._has_last = False
            return 0
        return None

    def update_request(self, params: dict[str, Any]) -> None:
        """Set ``start`` to the next offset (one record early with overlap)."""
        self._advance(self._next)
        params[self.start_param], params[self.count_param] = self.token, self.count


class PageNumberPaginator(Paginator):
    """``?page=N`` paging; stops on an empty page, or a short one when `page_size` is known.

    Args:
        page_param: name of the page parameter.
        start: number of the first page.
        page_size: records per full page, if known (sent as `size_param` when that is given).
        size_param: name of the page-size parameter, if the service takes one.
        key_of: the record's identity, to notice a page served twice.
    """

    def __init__(
        self,
        page_param: str = "page",
        start: int = 1,
        *,
        page_size: int | None = None,
        size_param: str | None = None,
        key_of: KeyOf = _default_key,
    ) -> None:
        """Start before the first page."""
        super().__init__()
        self.page_param, self.page_size, self.size_param = page_param, page_size, size_param
        self.key_of = key_of
        self._page = start
        self._previous: str | None = None

    def init_request(self, params: dict[str, Any]) -> None:
        """Set the first page number (and page size)."""
        self._set(params)

    def update_state(self, items: list[Any], response: httpx.Response | None = None) -> list[Any]:
        """Take in one page; stop on an empty or short page. See `Paginator.update_state`."""
        short = self.page_size is not None and len(items) < self.page_size
        self.has_next = bool(items) and not short
        if items:
            digest = _fingerprint(items, self.key_of)
            if digest == self._previous:
                raise ProtocolError(f"page {self.token} repeats the previous page; the service ignores "
                                    f"{self.page_param!r}")
            self._previous = digest
        self._page += 1
        return items

    def update_request(self, params: dict[str, Any]) -> None:
        """Set the next page number."""
        self._set(params)

    def _set(self, params: dict[str, Any]) -> None:
        self._advance(self._page)
        params[self.page_param] = self._page
        if self.size_param and self.page_size:
            params[self.size_param] = self.page_size


def link_header_next(response: Any) -> str | None:
    """Next-link extractor for RFC 8288 ``Link: <url>; rel="next"`` headers."""
    if isinstance(response, httpx.Response):
        return response.links.get("next", {}).get("url")
    return None


class NextLinkPaginator(Paginator):
    """Follows a next link found by a callable; stops when there is none; raises when one repeats.

    The link is resolved against `base_url` (or the response URL) and must stay on the service's origin:
    credentials are never sent elsewhere. After `update_request`, `token` is the absolute URL to request
    and `params` is emptied (the link carries its own query).

    Args:
        next_of: extracts the next link from what `update_state` is given (the decoded document when
            passed, else the response); return None or "" for "no more pages".
        base_url: the service's API root, to resolve relative links and check the origin.
    """

    def __init__(
        self, next_of: Callable[[Any], str | None] = link_header_next, *, base_url: str = ""
    ) -> None:
        """Start before the first page."""
        super().__init__()
        self.next_of, self.base_url = next_of, base_url
        self._link: str | None = None

    def init_request(self, params: dict[str, Any]) -> None:
        """Leave the first request as the caller built it (token stays None)."""

    def update_state(
        self, items: list[Any], response: httpx.Response | None = None, *, document: Any = None
    ) -> list[Any]:
        """Take in one page and find its next link. See `Paginator.update_state`.

        Args:
            items: the page's records.
            response: the raw response.
            document: the decoded body, when the link lives there (Hydra ``view.next``).
        """
        link = self.next_of(document if document is not None else response)
        base = str(response.url) if response is not None else self.base_url
        self._link = urljoin(base, link) if link else None
        self.has_next = bool(items) and self._link is not None
        if self._link and self.base_url:
            want, got = urlsplit(self.base_url), urlsplit(self._link)
            if (got.scheme, got.netloc) != (want.scheme, want.netloc):
                raise ProtocolError(f"next link leaves the service ({got.scheme}://{got.netloc}); refusing")
        return items

    def update_request(self, params: dict[str, Any]) -> None:
        """Point the next request at the link: `token` becomes its absolute URL and `params` is emptied."""
        if self._link is None:
            raise ProtocolError("update_request called without a next link")
        self._advance(self._link)
        params.clear()
