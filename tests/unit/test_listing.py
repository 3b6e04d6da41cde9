"""`ListedIds`: membership of listed remote ids, whatever order they were added in."""

from __future__ import annotations

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
