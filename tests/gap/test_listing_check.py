"""A run that listed every record but left the store short ends `repaired` (or `gap`), never plain `ok`.

A canonical row lost behind the connector's back while its link stays makes every later listing take the record
for unchanged (same payload hash; FastFaktura: same list stamp, so its detail is not even fetched), so neither an
incremental run nor `--full` brought it back. After such a listing the store's count falls short of the ids
listed: the gap audit reads the record back. Real sockets, SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from connector.store.tables import Invoice, SyncRun
from tests.fastfaktura.harness import FastFakturaHarness
from tests.support import FsSandbox, make_app, seed_until_yesterday


@pytest.fixture(scope="module")
def ff_kit() -> Iterator[FastFakturaHarness]:
    """A FastFaktura sandbox for this module."""
    harness = FastFakturaHarness.start()
    yield harness
    harness.stop()


def _invoices(app: Any) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Invoice)).scalar_one())


def _lose_an_unpaid_invoice_row(app: Any, connection: str) -> str:
    """Delete one payment-less invoice's canonical row and lines with plain SQL; its link stays. Returns its id."""
    with app.engine.begin() as conn:
        remote_id, entity_id = conn.execute(
            text("SELECT remote_id, entity_id FROM link WHERE connection = :c AND entity_kind = 'invoice' AND NOT "
                 "EXISTS (SELECT 1 FROM payment WHERE payment.invoice_id = link.entity_id) ORDER BY remote_id"),
            {"c": connection},
        ).first()
        conn.execute(text("DELETE FROM invoice_line WHERE invoice_id = :i"), {"i": entity_id})
        conn.execute(text("DELETE FROM invoice WHERE id = :i"), {"i": entity_id})
    return str(remote_id)


def _last_status(app: Any, stream: str) -> tuple[str, str | None]:
    with app.engine.connect() as conn:
        row = conn.execute(
            select(SyncRun.status, SyncRun.error).where(SyncRun.stream == stream)  # type: ignore[arg-type]
            .order_by(SyncRun.id.desc()).limit(1)  # type: ignore[union-attr]
        ).one()
    return str(row[0]), row[1]


def test_fastfaktura_listing_that_took_a_lost_invoice_for_unchanged_repairs_it(
    database_url: str, ff_kit: FastFakturaHarness
) -> None:
    ff_kit.reset()
    ff_kit.seed(clients=6, invoices=30)
    app = make_app(database_url, ff_kit.connection("ff"))
    app.sync("ff")
    assert _invoices(app) == 30
    lost = _lose_an_unpaid_invoice_row(app, "ff")

    report = app.sync("ff")  # FastFaktura lists every invoice each run

    assert _invoices(app) == 30
    invoices = next(s for s in report.streams if s.stream == "invoices")
    assert invoices.status == "repaired"
    status, error = _last_status(app, "invoices")
    assert status == "repaired" and error is not None and "1 missing" in error
    [audit] = report.audits
    assert [(g.kind, g.missing, g.remaining) for g in audit.kinds] == [("invoice", 1, 0)]
    assert lost
    assert app.sync("ff").audits == []  # whole again: the next run is a plain ok
    assert _last_status(app, "invoices")[0] == "ok"


def test_factuursturen_full_sync_no_longer_leaves_a_lost_invoice_lost(database_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=40, seed=12, clients=6, invoices=25)
    app = make_app(database_url, fs.connection(page_size=10))
    app.sync("fs")
    lost = _lose_an_unpaid_invoice_row(app, "fs")
    fs.clear_requests()

    report = app.sync("fs", full=True)

    assert _invoices(app) == 25
    assert next(s for s in report.streams if s.stream == "invoices").status == "repaired"
    singles = [r["path"] for r in fs.requests() if r["path"].startswith("/api/v1/invoices/")]
    assert singles == [f"/api/v1/invoices/{lost}"]


def test_sync_exits_1_while_a_short_listing_leaves_records_missing(tmp_path: Any, fs: FsSandbox) -> None:
    from tests.support import run_cli

    seed_until_yesterday(fs, days=40, seed=13, clients=5, invoices=12)
    url = f"sqlite:///{tmp_path / 's.db'}"
    conf = fs.connections_toml(tmp_path / "c.toml", audit_max_fetch=0)  # the audit may read nothing back
    env = {"CONNECTOR_DATABASE_URL": url, "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("sync", "--connection", "fs", env=env).returncode == 0
    app = make_app(url, fs.connection())
    _lose_an_unpaid_invoice_row(app, "fs")

    result = run_cli("sync", "--connection", "fs", "--full", env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "fs/invoices: gap" in result.stdout
    status = run_cli("status", env=env)
    assert status.returncode == 1 and "invoices       gap" in status.stdout
