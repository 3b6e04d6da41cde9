"""`connector demo`: the four sandboxes on loopback, then two parts, each step timed.

1. Pull: full syncs of the three readable services (FactuurSturen seeded at the given size, FastFaktura and
   hydra smaller) into a fresh SQLite file, a person's edits at FactuurSturen, an incremental sync and a
   no-change rerun, each checked against the sandbox's own truth.
2. Two-way (`demo_cycle`): the sandboxes reseeded small and routed to one another; cycles that print what
   moved where, a person's changes at three services carried to the others, and a final cycle that moves
   nothing.
Exit 0 only when every check held; a MISMATCH line names the one that did not.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from connector.app import App
from connector.cli.demo_cycle import run_two_way
from connector.cli.demo_report import took
from connector.cli.sandboxes import sandbox_connection, sandbox_control, start_sandbox
from connector.settings import Settings
from connector.store import reports
from connector.store.db import upgrade

__all__ = ["run_demo"]

_SERVICES = ("factuursturen", "fastfaktura", "facturalia", "hydra")  # the four the demo walks through
_READ_ONLY_HERE = ("fastfaktura", "hydra")  # pulled by the demo besides FactuurSturen
_KINDS = (("client", "clients"), ("invoice", "invoices"), ("payment", "payments"))
# Each sandbox names its own records in its counts (hydra: customers and invoice-transactions).
_COUNT_NAMES = {"hydra": {"clients": "customers", "payments": "transactions"}}


def _counts(app: App) -> dict[str, int]:
    with app.engine.connect() as conn:
        return reports.row_counts(conn)


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
    """Run the demo; return 0 when every check of both parts held, 1 otherwise."""
    logging.getLogger("connector").setLevel(logging.ERROR)  # the demo prints its own summary of every step
    started = time.monotonic()
    path = Path(database)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    sandboxes: dict[str, Any] = {}
    try:
        sizes = {"factuursturen": (clients, invoices), "facturalia": (0, 0)}  # Facturalia only receives
        for service in _SERVICES:
            size = sizes.get(service, (max(clients // 3, 1), max(invoices // 4, 1)))
            sandboxes[service] = start_sandbox(service, 0, *size, 42)
        print(f"four sandboxes on loopback ({took(started)})")
        print("\npull: the three readable services into one store, each checked against its sandbox's truth")
        ok = _pull_factuursturen(path, sandboxes["factuursturen"])
        for service in _READ_ONLY_HERE:
            ok = _pull_other(path, service, sandboxes[service]) and ok
        ok = run_two_way(sandboxes, path.with_name(f"{path.stem}-two-way{path.suffix}")) and ok
        verdict = "every check held" if ok else "MISMATCH: see the lines above"
        print(f"\ndemo: {verdict} ({took(started)} in all)")
        return 0 if ok else 1
    finally:
        for sandbox in sandboxes.values():
            sandbox.stop()


def _pull_factuursturen(path: Path, sandbox: Any) -> bool:
    """Full sync, a person's edits, an incremental sync and a no-change rerun, checked against the truth."""
    conn = sandbox_connection("factuursturen", sandbox, "factuursturen_demo")
    app = App(Settings(database_url=f"sqlite:///{path}"), connections=[conn])
    upgrade(app.engine)
    control = sandbox_control(sandbox)
    print(f"sandbox factuursturen at {sandbox.base_url}; database {path}")

    step = time.monotonic()
    first = app.sync(conn.name)
    t = first.totals
    print(f"full sync: {t.created} created, {t.quarantined} quarantined, {first.requests} requests ({took(step)})")
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

    step = time.monotonic()
    second = app.sync(conn.name)
    t = second.totals
    print(
        f"incremental sync: {t.created} created, {t.updated} updated, {t.unchanged} unchanged, "
        f"{second.requests} requests ({took(step)})"
    )
    step = time.monotonic()
    third = app.sync(conn.name)
    written = third.totals.created + third.totals.updated
    print(f"no-change sync: {written} written, {third.requests} requests ({took(step)})")
    return _report(app, _truth(control)) and ok and written == 0


def _pull_other(path: Path, service: str, sandbox: Any) -> bool:
    """Full sync of one more service into the same store, a no-change rerun, and a check against its truth."""
    control = sandbox_control(sandbox)
    # A limit far above what the demo needs (a sandbox with its limit off still advertises a nominal one,
    # which the pacer would honour): the demo should take seconds.
    control.post("/ratelimit", json={"limit": 1_000_000, "window_seconds": 60}).raise_for_status()
    conn = sandbox_connection(service, sandbox, f"{service}_demo", rate_limit=1_000_000)
    app = App(Settings(database_url=f"sqlite:///{path}"), connections=[conn])
    print(f"sandbox {service} at {sandbox.base_url}")
    step = time.monotonic()
    first = app.sync(conn.name)
    full_took = took(step)
    step = time.monotonic()
    rerun = app.sync(conn.name)
    truth = control.get("/state/counts").raise_for_status().json()
    with app.engine.connect() as db:
        stored = reports.live_links_by_kind(db, conn.name)
    t = first.totals
    print(f"  full sync: {t.created} created, {t.quarantined} quarantined, {first.requests} requests ({full_took}); "
          f"no-change sync: {rerun.totals.created + rerun.totals.updated} written, {rerun.requests} requests "
          f"({took(step)})")
    print("  store:   " + ", ".join(f"{stored.get(kind, 0)} {name}" for kind, name in _KINDS))
    names = _COUNT_NAMES.get(service, {})
    expected = {kind: int(truth.get(names.get(name, name), 0)) for kind, name in _KINDS}
    print("  sandbox: " + ", ".join(f"{expected[kind]} {name}" for kind, name in _KINDS))
    matches = all(stored.get(kind, 0) == expected[kind] for kind, _ in _KINDS)
    if not matches:
        print("  MISMATCH: the store differs from the sandbox's truth")
    return matches and rerun.totals.created + rerun.totals.updated == 0


def _report(app: App, truth: dict[str, Any]) -> bool:
    counts = _counts(app)
    with app.engine.connect() as conn:
        total_minor = reports.invoice_total_minor(conn)
    stored_total = Decimal(total_minor) / 100
    print(
        f"  store:   {counts['clients']} clients, {counts['invoices']} invoices, {counts['lines']} lines, "
        f"{counts['payments']} payments, total {stored_total:.2f} EUR, quarantine {counts['quarantine']}"
    )
    print(
        f"  sandbox: {truth['clients']} clients, {truth['invoices']} invoices, {truth['payments']} payments, "
        f"total {truth['total']:.2f} EUR"
    )
    matches = (counts["clients"], counts["invoices"], counts["payments"], stored_total) == (
        truth["clients"],
        truth["invoices"],
        truth["payments"],
        truth["total"],
    )
    if not matches:
        print("  MISMATCH: the store differs from the sandbox's truth")
    return matches
