"""Listings: `ListedIds` (membership of listed remote ids, whatever order they were added in) and where a
start/count listing resumes, rewinds and advances (`StartCountPaginator`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connector.http import StartCountPaginator
from connector.sync.listing import ListedIds


def test_membership_after_adds_in_any_order() -> None:
    listed = ListedIds()
    listed.add(str(i) for i in range(1000, 0, -3))
    listed.add(["42:1", "42:rest"])
    assert "1000" in listed and "997" in listed and "42:rest" in listed
    assert "999" not in listed and "42:2" not in listed and "" not in listed
    listed.add(["999"])
    assert "999" in listed
    assert len(listed) == 334 + 2 + 1


def test_an_empty_listing_contains_nothing() -> None:
    listed = ListedIds()
    assert len(listed) == 0
    assert "1" not in listed


# -- StartCountPaginator: where a listing resumes, rewinds and advances ------------------------------------


def _records(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i:03d}"} for i in range(n)]


def _drain(pager: StartCountPaginator, fetch: Callable[[int, int], list[Any]], limit: int = 100) -> list[Any]:
    """Run the paginator to the end against `fetch(start, count)` (bounded: a broken pager cannot hang)."""
    params: dict[str, Any] = {}
    out: list[Any] = []
    pager.init_request(params)
    for _ in range(limit):
        out.extend(pager.update_state(fetch(params["start"], params["count"])))
        if not pager.has_next:
            return out
        pager.update_request(params)
    raise AssertionError("paginator did not stop")


def _ids(records: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in records}


def test_a_listing_shifted_by_one_rewinds_without_a_false_ignored_offset_diagnosis() -> None:
    # 450 records, pages of 100 with one record of overlap: requests at 0, 99, 198, 297, ...
    listing = _records(450)
    calls: list[int] = []

    def fetch(start: int, count: int) -> list[Any]:
        calls.append(start)
        if len(calls) == 4:  # after three pages, a record near the front is deleted: all move one place up
            del listing[5]
        return listing[start : start + count]

    pager = StartCountPaginator(100, overlap=1)
    got = _drain(pager, fetch)
    # The rewind (start=197) serves exactly what start=198 served: the shift, not an ignored offset.
    assert 197 in calls
    assert _ids(listing) <= _ids(got)
    assert pager.shift_detected == 1 and pager.untrusted is None


def test_a_page_longer_than_count_advances_by_count_and_is_not_trusted() -> None:
    listing = _records(40)

    def fetch(start: int, count: int) -> list[Any]:
        page = listing[start : start + count]
        return page + page[2:10] if start == 9 else page  # the second page repeats 8 of its records

    pager = StartCountPaginator(10, overlap=1)
    got = _drain(pager, fetch)
    assert _ids(listing) == _ids(got), sorted(_ids(listing) - _ids(got))
    assert pager.untrusted is not None and "returned 18 records" in pager.untrusted


def _first_run(listing: list[dict[str, Any]], pages: int) -> StartCountPaginator:
    """Read `pages` pages of `listing` (10 a page, one overlap), as a run that is then killed."""
    pager = StartCountPaginator(10, overlap=1)
    params: dict[str, Any] = {}
    pager.init_request(params)
    for n in range(pages):
        pager.update_state(listing[params["start"] : params["start"] + params["count"]])
        if n < pages - 1:
            pager.update_request(params)
    return pager


@pytest.mark.parametrize("deleted", [1, 3, 12])
def test_a_resumed_listing_checks_its_overlap_and_rewinds_over_deletions_made_while_it_was_dead(deleted: int) -> None:
    listing = _records(60)
    first = _first_run(listing, 3)  # records r000..r027 stored; resume at 28 after r027
    assert (first.resume_offset, first.last_key) == (28, "r027")
    del listing[3 : 3 + deleted]  # deleted before the offset while no process ran
    resumed = StartCountPaginator(10, overlap=1, start=first.resume_offset, last_key=first.last_key)
    got = _drain(resumed, lambda start, count: listing[start : start + count])
    assert {f"r{i:03d}" for i in range(28, 60)} <= _ids(got)
    assert resumed.untrusted is None


def test_a_resume_without_its_last_key_cannot_see_the_shift() -> None:
    # What the check is for: the same resume with no key skips the records the deletions moved before it.
    listing = _records(60)
    first = _first_run(listing, 3)
    del listing[3:6]
    resumed = StartCountPaginator(10, overlap=1, start=first.resume_offset)
    got = _drain(resumed, lambda start, count: listing[start : start + count])
    assert {"r028", "r029"} - _ids(got) == {"r028", "r029"}


def test_a_resumed_listing_whose_last_record_and_more_went_is_not_trusted() -> None:
    listing = _records(200)
    first = _first_run(listing, 12)  # resume at 109 after r108
    del listing[60:109]  # its last record and 48 before it: more than the rewinds reach
    resumed = StartCountPaginator(10, overlap=1, start=first.resume_offset, last_key=first.last_key)
    got = _drain(resumed, lambda start, count: listing[start : start + count])
    # Records were missed, and the paginator says so: the caller sweeps nothing and re-reads next time.
    assert {f"r{i:03d}" for i in range(109, 200)} - _ids(got)
    assert resumed.untrusted is not None and "kept shifting" in resumed.untrusted


def test_a_service_that_caps_count_is_read_to_its_end() -> None:
    listing = _records(47)
    calls: list[int] = []

    def capped(start: int, count: int) -> list[Any]:  # serves at most 4 whatever `count` asks
        calls.append(start)
        return listing[start : start + min(count, 4)]

    got = _drain(StartCountPaginator(10, overlap=1), capped)
    assert _ids(got) == _ids(listing)
    assert len(calls) == 16  # 47 records, 3 new a page after the first 4, and the request that finds the end


@pytest.mark.parametrize(("total", "starts"), [(7, [0, 6]), (25, [0, 9, 18])])
def test_a_short_first_page_costs_one_request_more_and_a_short_later_page_none(total: int, starts: list[int]) -> None:
    listing = _records(total)
    calls: list[int] = []

    def fetch(start: int, count: int) -> list[Any]:
        calls.append(start)
        return listing[start : start + count]

    assert _ids(_drain(StartCountPaginator(10, overlap=1), fetch)) == _ids(listing)
    assert calls == starts


def test_a_listing_of_one_record_asks_once_more_from_its_end() -> None:
    calls: list[int] = []
    listing = _records(1)

    def fetch(start: int, count: int) -> list[Any]:
        calls.append(start)
        return listing[start : start + count]

    assert _drain(StartCountPaginator(10, overlap=1), fetch) == listing
    assert calls == [0, 1]
