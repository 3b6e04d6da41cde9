"""Ambiguous creates at Facturalia: the service commits, then the connection drops. Its Idempotency-Key makes the
push's retry a replay of the same invoice, never a second one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connector.store.tables import Link, Outbox
from tests.facturalia.harness import FacturaliaHarness
from tests.push.drops import push_until_settled, stepped_app
from tests.support import FsSandbox, seed_until_yesterday

TRIALS = 20
LINK, OUTBOX = Link.__table__, Outbox.__table__  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "replay", [{}, {"replay_status": "200", "replay_header": False}], ids=["replay-201", "replay-200-no-header"]
)
def test_dropped_creates_at_facturalia_are_replayed_not_duplicated(
    database_url: str, fs: FsSandbox, fac: FacturaliaHarness, replay: dict[str, object]
) -> None:
    fac.post("/quirks", replay)  # however the service answers a replay (decision 13 is a guess)
    seed_until_yesterday(fs, days=60, seed=13, clients=6, invoices=50)
    target = fac.connection("fa", receives=["invoice"], max_attempts=1)
    app, clock = stepped_app(database_url, fs.connection("fs"), target)
    app.sync("fs")
    # Every other invoice POST is committed at the service and then loses its answer, 20 times over: so the
    # first 20 creates each drop once, and each retry (the same key) comes through.
    fac.faults([{"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/v1/invoices", "every": 2,
                 "times": TRIALS}])
    push_until_settled(app, clock, "fa", rounds=3 * TRIALS)

    assert sum(1 for r in fac.requests() if r["status"] == 0) == TRIALS, "every fault fired"
    with app.engine.connect() as conn:
        rows = conn.execute(select(OUTBOX.c.status, OUTBOX.c.remote_id, OUTBOX.c.last_error)).all()
        linked = conn.execute(
            select(LINK.c.entity_id, LINK.c.remote_id).where(LINK.c.connection == "fa", LINK.c.entity_kind == "invoice")
        ).all()
    done = [remote_id for status, remote_id, _ in rows if status == "done"]
    refused = [str(error) for status, _, error in rows if status != "done"]
    assert {status for status, _, _ in rows} <= {"done", "failed"}
    assert len(done) > TRIALS, "the dropped creates were recognised, not lost, and the rest went through"
    # Refused for what they hold (a VAT rate or a discount the mapping cannot send, a 422), never for a drop.
    assert [e for e in refused if not any(why in e for why in ("vat_rate", "discount_percent", "-> 422"))] == []
    invoices = fac.state()["invoices"]
    assert len(invoices) == len(done), "one invoice per canonical invoice"
    assert sorted(str(i["id"]) for i in invoices) == sorted(done) == sorted(remote for _, remote in linked)
    assert all(len(i["idempotency_keys"]) == 1 for i in invoices), "each made under its own key, once"
    assert sum(i["replays"] for i in invoices) == TRIALS, "each dropped create came back as a replay"
