"""`connector demo`: seeded sandboxes on loopback, a full sync into a fresh SQLite file, a person's edits,
an incremental sync, and a summary that checks the store against the sandbox's own truth."""

from __future__ import annotations

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
from connector.store.tables import Client, Invoice, InvoiceLine, Payment, Quarantine

__all__ = ["run_demo"]

_KEY_ENV = "CONNECTOR_DEMO_FACTUURSTUREN_KEY"


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
    path = Path(database)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    sandbox = start_sandbox("factuursturen", 0, clients, invoices, 42)
    try:
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
        print("demo: store matches the sandbox" if ok else "demo: MISMATCH between store and sandbox")
        return 0 if ok else 1
    finally:
        sandbox.stop()


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
