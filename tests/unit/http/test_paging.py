"""Paginators: stop on short or empty pages, detect shifting listings, refuse to loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connector.errors import ProtocolError
from connector.http import NextLinkPaginator, PageNumberPaginator, Paginator, StartCountPaginator


def records(n: int, prefix: str = "r") -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{i:03d}"} for i in range(n)]


def drain(pager: Paginator, fetch: Callable[[dict[str, Any]], list[Any]], limit: int = 100) -> list[Any]:
    """Run the three verbs to the end (bounded, so a broken paginator cannot hang the suite)."""
    params: dict[str, Any] = {}
    out: list[Any] = []
    pager.init_request(params)
    for _ in range(limit):
        out.extend(pager.update_state(fetch(params)))
        if not pager.has_next:
            return out
        pager.update_request(params)
    raise AssertionError("paginator did not stop")


def offsets(listing: list[dict[str, Any]], seen: list[dict[str, Any]] | None = None) -> Callable[..., list[Any]]:
    def fetch(params: dict[str, Any]) -> list[Any]:
        if seen is not None:
            seen.append(dict(params))
        return listing[params["start"] : params["start"] + params["count"]]

    return fetch


@pytest.mark.parametrize("total", [0, 1, 9, 10, 11, 35])
def test_start_count_reads_everything_once(total: int) -> None:
    listing = records(total)
    calls: list[dict[str, Any]] = []
    got = drain(StartCountPaginator(10), offsets(listing, calls))
    assert got == listing
    expected = list(range(0, total + 1, 10))
    if 0 < total < 10:  # a short first page is not trusted to be the end: one more request finds it
        expected = [0, total]
    assert [c["start"] for c in calls] == expected
    assert all(c["count"] == 10 for c in calls)


def test_start_count_stops_on_a_short_page_without_asking_again() -> None:
    calls: list[dict[str, Any]] = []
    drain(StartCountPaginator(10), offsets(records(15), calls))
    assert [c["start"] for c in calls] == [0, 10]


def test_overlap_rereads_one_record_and_returns_it_once() -> None:
    listing = records(25)
    calls: list[dict[str, Any]] = []
    pager = StartCountPaginator(10, overlap=1)
    assert drain(pager, offsets(listing, calls)) == listing
    assert [c["start"] for c in calls] == [0, 9, 18]
    assert pager.shift_detected == 0
    assert pager.resume_offset == 25


def shifting(listing: list[dict[str, Any]], after_call: int, change: Callable[[list[Any]], None]) -> Callable[..., Any]:
    """A listing that changes (insert/delete) right after the n-th request."""
    state = {"calls": 0}

    def fetch(params: dict[str, Any]) -> list[Any]:
        page = listing[params["start"] : params["start"] + params["count"]]
        state["calls"] += 1
        if state["calls"] == after_call:
            change(listing)
        return page

    return fetch


def test_a_delete_while_paging_is_detected_and_nothing_is_skipped() -> None:
    # Given 30 records; after the first page, record r002 is deleted (everything after moves up one)
    listing = records(30)
    survivors = [r for r in listing if r["id"] != "r002"]
    pager = StartCountPaginator(10, overlap=1)
    got = drain(pager, shifting(listing, 1, lambda items: items.pop(2)))
    # Then the shift is reported and every surviving record is returned (some twice: the caller dedupes)
    assert pager.shift_detected >= 1
    assert {r["id"] for r in survivors} <= {r["id"] for r in got}


def test_several_deletes_force_a_rewind() -> None:
    listing = records(30)

    def delete_three(items: list[Any]) -> None:
        del items[0:3]

    pager = StartCountPaginator(10, overlap=1)
    got = drain(pager, shifting(listing, 1, delete_three))
    assert pager.shift_detected == 1
    assert {r["id"] for r in listing} <= {r["id"] for r in got}


def test_an_insert_while_paging_is_detected_and_nothing_is_skipped() -> None:
    listing = records(30)
    pager = StartCountPaginator(10, overlap=1)
    got = drain(pager, shifting(listing, 1, lambda items: items.insert(0, {"id": "new"})))
    assert pager.shift_detected == 1
    assert {r["id"] for r in records(30)} <= {r["id"] for r in got}
    assert len(got) == len({r["id"] for r in got})  # the insert case needs no re-read at all


def test_a_listing_that_never_stops_shifting_gives_up_the_check_after_max_rewinds() -> None:
    listing = records(40)
    state = {"n": 0}

    def fetch(params: dict[str, Any]) -> list[Any]:
        page = listing[params["start"] : params["start"] + params["count"]]
        state["n"] += 1
        del listing[0]  # something is deleted after every request
        return page

    pager = StartCountPaginator(10, overlap=1, max_rewinds=2)
    drain(pager, fetch)
    assert pager.shift_detected >= 3


def test_resume_rereads_the_record_before_the_offset() -> None:
    listing = records(25)
    calls: list[dict[str, Any]] = []
    pager = StartCountPaginator(10, overlap=1, start=12)
    got = drain(pager, offsets(listing, calls))
    assert calls[0]["start"] == 11
    assert got == listing[11:]


def test_a_service_ignoring_start_raises() -> None:
    listing = records(30)
    with pytest.raises(ProtocolError, match="ignores the offset"):
        drain(StartCountPaginator(10), lambda params: listing[:10])


def test_a_service_ignoring_start_raises_with_overlap_too() -> None:
    listing = records(30)
    with pytest.raises(ProtocolError):
        drain(StartCountPaginator(10, overlap=1), lambda params: listing[:10])


def test_start_count_refuses_a_silly_shape() -> None:
    with pytest.raises(ValueError):
        StartCountPaginator(1, overlap=1)


def test_page_numbers_stop_on_a_short_page() -> None:
    listing = records(23)
    calls: list[dict[str, Any]] = []

    def fetch(params: dict[str, Any]) -> list[Any]:
        calls.append(dict(params))
        page = params["page"]
        return listing[(page - 1) * 10 : page * 10]

    got = drain(PageNumberPaginator(page_size=10, size_param="itemsPerPage"), fetch)
    assert got == listing
    assert calls == [
        {"page": 1, "itemsPerPage": 10},
        {"page": 2, "itemsPerPage": 10},
        {"page": 3, "itemsPerPage": 10},
    ]


def test_page_numbers_without_a_size_stop_on_an_empty_page() -> None:
    listing = records(20)
    got = drain(PageNumberPaginator(start=0), lambda p: listing[p["page"] * 10 : (p["page"] + 1) * 10])
    assert got == listing


def test_page_numbers_repeating_a_page_raise() -> None:
    listing = records(10)
    with pytest.raises(ProtocolError, match="repeats the previous page"):
        drain(PageNumberPaginator(), lambda params: listing)


def hydra_next(document: Any) -> str | None:
    view = document.get("hydra:view") or document.get("view") or {}
    return view.get("hydra:next") or view.get("next")


def test_next_link_follows_links_until_none() -> None:
    pages: dict[str, dict[str, Any]] = {
        "/api/invoices": {"hydra:member": [1, 2], "hydra:view": {"hydra:next": "/api/invoices?page=2"}},
        "/api/invoices?page=2": {"member": [3, 4], "view": {"next": "/api/invoices?page=3"}},
        "/api/invoices?page=3": {"hydra:member": [5], "hydra:view": {}},
    }
    pager = NextLinkPaginator(hydra_next, base_url="https://h.test/api/")
    params: dict[str, Any] = {"updatedAt[after]": "2025-01-01"}
    pager.init_request(params)
    url, got = "https://h.test/api/invoices", list[Any]()
    while True:
        doc = pages[url.removeprefix("https://h.test")]
        got += pager.update_state(doc.get("hydra:member") or doc.get("member") or [], document=doc)
        if not pager.has_next:
            break
        pager.update_request(params)
        url = pager.token
        assert params == {}
    assert got == [1, 2, 3, 4, 5]


def test_next_link_that_repeats_raises() -> None:
    pager = NextLinkPaginator(hydra_next, base_url="https://h.test/api/")
    doc = {"hydra:member": [1], "hydra:view": {"hydra:next": "/api/invoices?page=2"}}
    params: dict[str, Any] = {}
    pager.init_request(params)
    pager.update_state([1], document=doc)
    pager.update_request(params)
    pager.update_state([1], document=doc)
    with pytest.raises(ProtocolError, match="repeats"):
        pager.update_request(params)


def test_next_link_off_the_service_is_refused() -> None:
    pager = NextLinkPaginator(hydra_next, base_url="https://h.test/api/")
    doc = {"hydra:member": [1], "hydra:view": {"hydra:next": "https://evil.test/steal"}}
    with pytest.raises(ProtocolError, match="leaves the service"):
        pager.update_state([1], document=doc)


def test_next_link_from_the_link_header() -> None:
    request = httpx.Request("GET", "https://h.test/api/items")
    response = httpx.Response(
        200, headers={"Link": '<https://h.test/api/items?cursor=abc>; rel="next"'}, request=request
    )
    pager = NextLinkPaginator(base_url="https://h.test/api/")
    pager.update_state([1], response)
    params: dict[str, Any] = {}
    pager.update_request(params)
    assert pager.token == "https://h.test/api/items?cursor=abc"
