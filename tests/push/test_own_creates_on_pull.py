"""A create whose answer was lost, then a pull of that service before the push looks again: the record the
service made carries the connector's marker, so the pull links it to its entity instead of taking it for a new
one; the push then finds it, and nothing is doubled anywhere (canonically or at any service)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from connector.app import App
from connector.store.tables import Client, Invoice, Outbox
from tests.fastfaktura.harness import FastFakturaHarness
from tests.hydra.harness import HydraHarness
from tests.push.conftest import SteppedClock
from tests.push.drops import stepped_app
from tests.support import FsSandbox

INVOICES = 4


def _cycles_with_pulls_between(app: App, clock: SteppedClock, target: str) -> None:
    """Push, then pull the target, until nothing is pending: the pull sees each dropped create first."""
    for _ in range(40):
        app.push(target)
        app.sync(target)
        clock.offset += timedelta(minutes=5)
        with app.engine.connect() as conn:
            pending = conn.execute(select(func.count()).where(Outbox.status == "pending")).scalar_one()  # type: ignore[arg-type]
        if not pending:
            return
    raise AssertionError("pushes still pending after 40 cycles")


def _canonical(app: App) -> tuple[int, int]:
    with app.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(Client)).scalar_one(),
            conn.execute(select(func.count()).select_from(Invoice)).scalar_one(),
        )


def _source(fs_source: FsSandbox) -> None:
    for n in range(2):  # no phone numbers: FastFaktura wants E.164
        client = fs_source.act("create_client", company=f"Studio {n}", email=f"studio{n}@example.nl")
        for k in range(INVOICES // 2):
            fs_source.act("create_invoice", clientnr=client["clientnr"],
                          lines=[{"amount": 1, "description": f"Werk {k}", "tax_rate": 21, "price": "80.00"}])


@pytest.mark.parametrize("service", ["factuursturen", "fastfaktura", "hydra"])
def test_a_pull_between_a_dropped_create_and_its_retry_doubles_nothing(
    database_url: str, service: str, fs: FsSandbox, fs_source: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness
) -> None:
    _source(fs_source)
    target = {"factuursturen": fs.connection("dst", receives=["client", "invoice"], max_attempts=1),
              "fastfaktura": ff.connection("dst", receives=["client", "invoice"], max_attempts=1),
              "hydra": hy.connection("dst", receives=["client", "invoice"], max_attempts=1)}[service]
    app, clock = stepped_app(database_url, fs_source.connection("src"), target)
    app.sync("src")
    before = _canonical(app)
    rules = [{"kind": "drop_after_commit", "method": "POST", "path_prefix": f"{prefix}/{path}", "times": 2}
             for prefix, path in {"factuursturen": [("/api/v1", "clients"), ("/api/v1", "invoices")],
                                  "fastfaktura": [("/api/v1", "clients"), ("/api/v1", "invoices")],
                                  "hydra": [("/api", "customers"), ("/api", "invoices")]}[service]]
    if service == "factuursturen":
        fs.faults(*rules)
    elif service == "fastfaktura":
        ff.faults(rules)
    else:
        hy.faults(rules)

    _cycles_with_pulls_between(app, clock, "dst")

    assert _canonical(app) == before, "the pulls took none of the connector's own creates for new records"
    state = {"factuursturen": fs.state, "fastfaktura": ff.state, "hydra": hy.state}[service]()
    assert len(state["customers" if service == "hydra" else "clients"]) == 2
    assert len(state["invoices"]) == INVOICES
    with app.engine.connect() as conn:
        statuses = dict(conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())  # type: ignore[call-overload]
    assert statuses == {"done": 2 + INVOICES}
