"""Own-write detection as a table over plain images: the write ledger and what a service adds to a write
(`connector.sync.ledger`, `reconcile.merge.is_own_write`, `reconcile.marked`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.sync.ledger import is_written, ledger_hash
from connector.sync.reconcile.marked import pending_by_marker
from connector.sync.reconcile.merge import is_own_write

WRITTEN = {"name": "Acme", "email": "billing@acme.test", "phone": None, "rate": Decimal("12.50")}

# (id naming the rule, image written, image of the record read back, own write?)
OWN: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("read-back-equal-is-own-write", WRITTEN, dict(WRITTEN), True),
    ("service-defaults-added-are-still-own-write", WRITTEN, {**WRITTEN, "send_method": "email"}, True),
    ("a-key-not-sent-is-the-services-to-fill", WRITTEN, {**WRITTEN, "phone": "+31"}, True),
    ("an-empty-string-is-not-sent", {**WRITTEN, "city": ""}, {**WRITTEN, "city": "Utrecht"}, True),
    ("a-value-sent-and-changed-there-is-not-own-write", WRITTEN, {**WRITTEN, "email": "other@acme.test"}, False),
    ("a-value-sent-and-dropped-there-is-not-own-write", WRITTEN, {k: v for k, v in WRITTEN.items() if k != "name"},
     False),
    ("number-spellings-agree", WRITTEN, {**WRITTEN, "rate": 12.5}, True),
    ("nested-values-compare-without-nulls", {"lines": [{"qty": 1, "note": None}]}, {"lines": [{"qty": "1"}]}, True),
    ("nested-value-changed-is-not-own-write", {"lines": [{"qty": 1}]}, {"lines": [{"qty": 2}]}, False),
]


@pytest.mark.parametrize(("written", "read_back", "expected"), [c[1:] for c in OWN], ids=[c[0] for c in OWN])
def test_is_own_write(written: dict[str, Any], read_back: dict[str, Any], expected: bool) -> None:
    assert is_own_write(written, read_back) is expected


LEDGER = [
    ("the-image-the-push-wrote-is-recognised", WRITTEN, ledger_hash(WRITTEN), True),
    ("key-order-and-number-spelling-do-not-matter", {"rate": "12.5", "phone": None, "email": "billing@acme.test",
                                                      "name": "Acme"}, ledger_hash(WRITTEN), True),
    ("a-payload-read-since-is-not-the-image", {**WRITTEN, "id": 7}, ledger_hash(WRITTEN), False),
    ("no-write-ledger-nothing-is-own", WRITTEN, None, False),
    ("a-non-object-is-never-an-image", ["Acme"], ledger_hash(WRITTEN), False),
]


@pytest.mark.parametrize(("image", "written_hash", "expected"), [c[1:] for c in LEDGER], ids=[c[0] for c in LEDGER])
def test_is_written(image: Any, written_hash: str | None, expected: bool) -> None:
    assert is_written(image, written_hash) is expected


def test_pending_creates_are_found_by_the_marker_they_leave() -> None:
    pending = {"hydra/invoice/7/v2": (7, 2), "hydra/invoice/8/v1": (8, 1)}
    found = pending_by_marker(pending, lambda key: "m:" + key.rsplit("/", 2)[1])
    assert found == {"m:7": (7, 2), "m:8": (8, 1)}
