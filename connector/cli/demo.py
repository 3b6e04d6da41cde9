"""`connector demo`: the four sandboxes seeded on loopback, full syncs of the three readable ones into a
fresh SQLite file, a person's edits at FactuurSturen, an incremental sync, and summaries that check the
store against each sandbox's own truth. (Facturalia only receives: pushes come with two-way sync.)"""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from connector.app import App
from connector.cli.sandboxes import start_sandbox
from connector.settings import Connection, Settings
from connector.store.db import upgrade
from connector.store.tables import Client, Invoice, InvoiceLine, Link, Payment, Quarantine

__all__ = ["run_demo"]

_KEY_ENV = "CONNECTOR_DEMO_FACTUURSTUREN_KEY"
_READ_ONLY_HERE = ("fastfaktura", "hydra")  # pulled by the demo besides FactuurSturen
_KINDS = (("client", "clients"), ("invoice", "invoices"), ("payment", "payments"))
# Each sandbox names its own records in its counts (hydra: customers and invoice-transactions).
_REFUSALS = (  # why Facturalia (Belgian, EUR, no line discounts) refuses some invoices of the other services
    ("vat_rate", "with a VAT rate Belgium does not have"),
    ("discount_percent", "with a line discount"),
    ("currency", "not in EUR"),
    ("-> 422", "refused by the service"),
)
_COUNT_NAMES = {"hydra": {"clients": "customers", "payments": "transactions"}}


def _counts(app: App) -> dict[str, int]:
    with app.engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in (
                ("clients", Client),
                ("invoices", Invoice),
                ("lines", InvoiceLine),
                ("payments", Payment),
                ("quarantine", Quarantine),
            )
        }


def _truth(control: httpx.Client) -> dict[str, Any]:
    state = control.get("/state").raise_for_status().json()
    total = sum(Decimal(str(i["totalintax"])) for i in state["invoices"])
    return {
        "clients": len(state["clients"]),
        "invoices": len(state["invoices"]),
        "payments": len(state["payments"]),
        "total": total,
    }


def run_demo(database: str, *, clients: int, invoices: int) -> int:
    """Run the demo; return 0 when the store matches the sandbox after both syncs."""
    logging.getLogger("connector").setLevel(logging.ERROR)  # the demo prints its own summary of every step
    path = Path(database)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    sandbox = start_sandbox("factuursturen", 0, clients, invoices, 42)
    others: dict[str, Any] = {}
    try:
        for service in (*_READ_ONLY_HERE, "facturalia"):
            others[service] = start_sandbox(service, 0, max(clients // 3, 1), max(invoices // 4, 1), 42)
        os.environ[_KEY_ENV] = str(sandbox.credentials["api_key"])
        conn = Connection(
            name="factuursturen_demo",
            provider="factuursturen",
            base_url=sandbox.base_url,
            username=str(sandbox.credentials["username"]),
            api_key_env=_KEY_ENV,
            sandbox=True,
            safety_lag_seconds=0,
        )
        app = App(Settings(database_url=f"sqlite:///{path}"), connections=[conn])
        upgrade(app.engine)
        control = httpx.Client(base_url=sandbox.control_url, timeout=60)
        print(f"sandbox factuursturen at {sandbox.base_url}; database {path}")

        first = app.sync(conn.name)
        t = first.totals
        print(f"full sync: {t.created} created, {t.quarantined} quarantined, {first.requests} requests")
        ok = _report(app, _truth(control))

        invoice_list = control.get("/state").raise_for_status().json()["invoices"]
        open_old = next(i for i in invoice_list if Decimal(str(i["open"])) > 0)
        some_client = invoice_list[0]["clientnr"]
        control.post("/act/edit_client", json={"clientnr": some_client, "changes": {"email": "demo-edit@example.nl"}})
        control.post(
            "/act/create_invoice",
            json={
                "clientnr": some_client,
                "lines": [{"amount": 2, "description": "Demo consultancy", "tax_rate": 21, "price": "95.50"}],
            },
        )
        control.post("/act/register_payment", json={"invoice": open_old["id"], "amount": "10.00"})
        print(f"as a person: edited client {some_client}, sent a new invoice, paid 10.00 on {open_old['invoicenr']}")

        second = app.sync(conn.name)
        t = second.totals
        print(
            f"incremental sync: {t.created} created, {t.updated} updated, {t.unchanged} unchanged, "
            f"{second.requests} requests"
        )
        third = app.sync(conn.name)
        print(f"no-change sync: {third.totals.created + third.totals.updated} written, {third.requests} requests")
        ok = _report(app, _truth(control)) and ok and third.totals.created + third.totals.updated == 0
        for service in _READ_ONLY_HERE:
            ok = _pull_other(path, service, others[service]) and ok
        ok = _push_to_facturalia(path, others["facturalia"]) and ok
        print("demo: store matches the sandboxes" if ok else "demo: MISMATCH between store and sandboxes")
        return 0 if ok else 1
    finally:
        sandbox.stop()
        for other in others.values():
            other.stop()


def _push_to_facturalia(path: Path, sandbox: Any) -> bool:
    """Push every canonical invoice to Facturalia (invoices only); a second push must send nothing."""
    os.environ["CONNECTOR_DEMO_FACTURALIA_KEY"] = str(sandbox.credentials["api_key"])
    conn = Connection(
        name="facturalia_demo",
        provider="facturalia",
        base_url=sandbox.base_url,
        api_key_env="CONNECTOR_DEMO_FACTURALIA_KEY",
        ca_bundle=sandbox.ca_bundle,
        receives=["invoice"],
        rate_limit=1_000_000,
        options={"default_product_code": "CONSULT"},
    )
    control = httpx.Client(base_url=sandbox.control_url, verify=sandbox.ca_bundle, timeout=60)
    control.post("/ratelimit", json={"limit": 1_000_000, "window_seconds": 60}).raise_for_status()
    before = int(control.get("/state/counts").raise_for_status().json()["invoices"])
    app = App(Settings(database_url=f"sqlite:///{path}"), connections=[conn])
    print(f"sandbox facturalia at {sandbox.base_url} (push only)")
    [first] = app.push(conn.name)
    [again] = app.push(conn.name)
    d, d2 = first.drain, again.drain
    assert d is not None and d2 is not None
    reasons: dict[str, int] = {}
    for error in d.errors:
        reason = next((label for key, label in _REFUSALS if key in error), "other")
        reasons[reason] = reasons.get(reason, 0) + 1
    refused = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
    print(f"  push: {d.done} invoices created, {d.failed} refused ({refused or 'none'}); see `connector outbox`")
    print(f"  second push: {d2.done} sent, {d2.requests} requests")
    after = int(control.get("/state/counts").raise_for_status().json()["invoices"])
    print(f"  sandbox: {after - before} invoices received")
    return after - before == d.done and d2.done == 0 and d2.requests == 0


def _pull_other(path: Path, service: str, sandbox: Any) -> bool:
    """Full sync of one more service into the same store, a no-change rerun, and a check against its truth."""
    env = f"CONNECTOR_DEMO_{service.upper()}_KEY"
    os.environ[env] = str(sandbox.credentials["api_key"])
    control = httpx.Client(base_url=sandbox.control_url, timeout=60)
    # A limit far above what the demo needs (a sandbox with its limit off still advertises a nominal one,
    # which the pacer would honour): the demo should take seconds.
    control.post("/ratelimit", json={"limit": 1_000_000, "window_seconds": 60}).raise_for_status()
    conn = Connection(
        name=f"{service}_demo",
        provider=service,
        base_url=sandbox.base_url,
        api_key_env=env,
        sandbox=True,
        safety_lag_seconds=0,
        rate_limit=1_000_000,
    )
    app = App(Settings(database_url=f"sqlite:///{path}"), connections=[conn])
    print(f"sandbox {service} at {sandbox.base_url}")
    first = app.sync(conn.name)
    rerun = app.sync(conn.name)
    truth = control.get("/state/counts").raise_for_status().json()
    link = Link.__table__.c  # type: ignore[attr-defined]
    with app.engine.connect() as db:
        rows = db.execute(
            select(link.entity_kind, func.count())
            .where(link.connection == conn.name, link.remote_deleted_at.is_(None))
            .group_by(link.entity_kind)
        ).all()
    stored: dict[str, int] = {str(kind): int(n) for kind, n in rows}
    t = first.totals
    print(f"  full sync: {t.created} created, {t.quarantined} quarantined, {first.requests} requests; "
          f"no-change sync: {rerun.totals.created + rerun.totals.updated} written, {rerun.requests} requests")
    print("  store:   " + ", ".join(f"{stored.get(kind, 0)} {name}" for kind, name in _KINDS))
    names = _COUNT_NAMES.get(service, {})
    expected = {kind: int(truth.get(names.get(name, name), 0)) for kind, name in _KINDS}
    print("  sandbox: " + ", ".join(f"{expected[kind]} {name}" for kind, name in _KINDS))
    return all(stored.get(kind, 0) == expected[kind] for kind, _ in _KINDS) and (
        rerun.totals.created + rerun.totals.updated == 0
    )


def _report(app: App, truth: dict[str, Any]) -> bool:
    counts = _counts(app)
    with app.engine.connect() as conn:
        total_minor = conn.execute(select(func.coalesce(func.sum(Invoice.total_minor), 0))).scalar_one()
    stored_total = Decimal(total_minor) / 100
    print(
        f"  store:   {counts['clients']} clients, {counts['invoices']} invoices, {counts['lines']} lines, "
        f"{counts['payments']} payments, total {stored_total:.2f} EUR, quarantine {counts['quarantine']}"
    )
    print(
        f"  sandbox: {truth['clients']} clients, {truth['invoices']} invoices, {truth['payments']} payments, "
        f"total {truth['total']:.2f} EUR"
    )
    return (counts["clients"], counts["invoices"], counts["payments"], stored_total) == (
        truth["clients"],
        truth["invoices"],
        truth["payments"],
        truth["total"],
    )
