"""Copy rules as a table over plain rows: the origin speaks for an invoice, a copy only for payments made there,
and a payment's copy is an echo (`reconcile.copies`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connector.sync.reconcile.copies import is_copy, merge_invoice_row, moves_copy_state, payment_is_echo

from .rows import T, invoice

PAID = date(2026, 12, 1)

# (id naming the rule, connection read from, incoming row, stored row, expected changes over stored)
MERGE: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("origin-speaks-for-the-whole-invoice", "fs", invoice(number="F1b", due_on=PAID), invoice(),
     {"number": "F1b", "due_on": PAID}),
    ("first-reader-without-origin-becomes-the-origin", "fs", invoice(origin_connection="fs"),
     invoice(origin_connection=None), {"origin_connection": "fs"}),
    ("copy-number-and-due-date-stay-the-origins", "hydra", invoice(number="H18", due_on=PAID), invoice(), {}),
    ("copy-paid-in-full-there-marks-paid", "hydra", invoice(open_minor=0, status="paid", paid_on=PAID), invoice(),
     {"open_minor": 0, "status": "paid", "paid_on": PAID}),
    ("copy-partly-paid-there-marks-partially-paid", "hydra", invoice(open_minor=4000), invoice(),
     {"open_minor": 4000, "status": "partially_paid"}),
    ("copy-total-rounded-its-own-way-leaves-no-cent-open", "hydra", invoice(total_minor=10001, open_minor=0),
     invoice(), {"open_minor": 0, "status": "paid"}),
    ("copy-behind-the-origin-never-reopens", "hydra", invoice(open_minor=10000, status="sent"),
     invoice(open_minor=0, status="paid", paid_on=PAID), {}),
    ("copy-paid-less-than-the-store-knows-changes-nothing", "hydra", invoice(open_minor=6000),
     invoice(open_minor=4000, status="partially_paid"), {}),
    ("copy-status-alone-never-moves", "hydra", invoice(status="overdue"), invoice(), {}),
    ("copy-without-a-total-changes-no-payment-state", "hydra", invoice(total_minor=None, open_minor=0), invoice(),
     {}),
    ("copy-bookkeeping-times-are-the-newest", "hydra", invoice(updated_at=T[9], remote_deleted_at=T[8]),
     invoice(), {"updated_at": T[9], "remote_deleted_at": T[8]}),
    ("copy-paid-without-a-date-keeps-the-stored-date", "hydra", invoice(open_minor=0, paid_on=None),
     invoice(open_minor=5000, paid_on=PAID), {"open_minor": 0, "status": "paid"}),
]


@pytest.mark.parametrize(("connection", "incoming", "stored", "changes"), [c[1:] for c in MERGE],
                         ids=[c[0] for c in MERGE])
def test_merge_invoice_row(connection: str, incoming: dict[str, Any], stored: dict[str, Any],
                           changes: dict[str, Any]) -> None:
    merged = merge_invoice_row(incoming, stored, connection)
    if connection == (stored["origin_connection"] or connection):
        assert merged == {**incoming, **changes}
    else:
        assert merged == {**{k: stored[k] for k in incoming}, **{"updated_at": incoming["updated_at"],
                                                                   "remote_deleted_at": None}, **changes}


COPY = [
    ("issued-elsewhere-is-a-copy", invoice(origin_connection="fs"), "hydra", True),
    ("issued-here-is-not-a-copy", invoice(origin_connection="fs"), "fs", False),
    ("no-known-origin-is-not-a-copy", invoice(origin_connection=None), "hydra", False),
]


@pytest.mark.parametrize(("stored", "connection", "expected"), [c[1:] for c in COPY], ids=[c[0] for c in COPY])
def test_is_copy(stored: dict[str, Any], connection: str, expected: bool) -> None:
    assert is_copy(stored, connection) is expected


MOVES = [
    ("copy-that-changes-no-payment-state-is-dropped", invoice(number="H18"), invoice(), False),
    ("copy-that-pays-moves-the-state", invoice(open_minor=0, status="paid"), invoice(), True),
    ("copy-paid-date-alone-moves-the-state", invoice(paid_on=PAID), invoice(), True),
]


@pytest.mark.parametrize(("row", "stored", "expected"), [c[1:] for c in MOVES], ids=[c[0] for c in MOVES])
def test_moves_copy_state(row: dict[str, Any], stored: dict[str, Any], expected: bool) -> None:
    assert moves_copy_state(row, stored) is expected


ECHO = [
    ("payment-the-push-wrote-is-an-echo", "ledger-hash", False, True),
    ("payment-registered-there-is-news", None, False, False),
    ("payment-copy-deleted-there-is-news", "ledger-hash", True, False),
]


@pytest.mark.parametrize(("written", "deleted", "expected"), [c[1:] for c in ECHO], ids=[c[0] for c in ECHO])
def test_payment_is_echo(written: str | None, deleted: bool, expected: bool) -> None:
    assert payment_is_echo(written, deleted) is expected
