"""Quarantined records are read again by id after an incremental run, so they heal without `--full`.

The FactuurSturen sandbox serves an old, paid invoice broken (a non-numeric total) during the first load: it and
its payments are quarantined. The invoice window of later runs (by sent date) and the open-invoice refresh never
list it again, so before the re-read only `--full` brought it back. Real sockets, SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from connector.app import App
from connector.clock import SystemClock
from connector.settings import Settings
from connector.store import runs
from connector.store.tables import Invoice, Link, Payment, Quarantine, SyncRun
from tests.support import FsSandbox, make_app, seed_until_yesterday


def _old_paid(fs: FsSandbox, n: int = 1) -> list[dict[str, Any]]:
    cutoff = (date.today() - timedelta(days=20)).isoformat()
    found = [i for i in fs.state()["invoices"] if i["open"] == "0.00" and i["sent"] < cutoff and i["history"]]
    assert len(found) >= n
    return found[:n]


def _count(app: Any, table: Any, *where: Any) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _open_rows(app: Any) -> list[tuple[str, str, str]]:
    q = Quarantine
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(q.entity_kind, q.remote_id, q.error).where(q.resolved_at.is_(None))  # type: ignore[union-attr]
        ).all()
    return [(str(k), str(r), str(e)) for k, r, e in rows]


def test_an_invoice_served_broken_once_heals_on_the_next_incremental_run(database_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=60, seed=3, clients=10, invoices=40)
    victim = _old_paid(fs)[0]
    fs.act("corrupt_invoice", invoice=victim["id"], field="totalintax", value="12,3a")
    app = make_app(database_url, fs.connection())

    app.sync("fs")
    rows = _open_rows(app)
    assert ("invoice", victim["id"]) in {(k, r) for k, r, _ in rows}
    assert {k for k, _, _ in rows} <= {"invoice", "payment"}
    assert len({(k, r) for k, r, _ in rows}) == len(rows), "one open row per record"
    assert _count(app, Invoice) == 39

    fs.act("corrupt_invoice", invoice=victim["id"], field="totalintax", value=victim["totalintax"])  # readable again
    fs.clear_requests()
    report = app.sync("fs")  # incremental, no --full

    assert _open_rows(app) == []
    assert _count(app, Invoice) == 40
    assert _count(app, Link, Link.entity_kind == "invoice", Link.remote_id == victim["id"]) == 1  # type: ignore[arg-type]
    assert _count(app, Payment) == len(fs.state()["payments"])
    assert report.refetched is not None and report.refetched.resolved == len(rows)
    gets = [r for r in fs.requests() if r["method"] == "GET" and r["path"].endswith(f"/invoices/{victim['id']}")]
    assert len(gets) == 1, "the invoice and its payments cost one request"
    with app.engine.connect() as conn:
        modes = set(conn.execute(select(SyncRun.mode)).scalars())  # type: ignore[call-overload]
    assert "full" not in modes and "refetch" in modes

    fs.clear_requests()
    app.sync("fs")  # nothing open any more: nothing read by id
    assert not [r for r in fs.requests() if r["path"].endswith(f"/invoices/{victim['id']}")]


def test_a_quarantined_invoice_deleted_at_the_service_is_closed_even_when_answered_with_the_whole_list(
    database_url: str, fs: FsSandbox
) -> None:
    seed_until_yesterday(fs, days=60, seed=4, clients=8, invoices=20)
    victim = _old_paid(fs)[0]
    fs.act("corrupt_invoice", invoice=victim["id"], field="totalintax", value="12,3a")
    app = make_app(database_url, fs.connection())
    app.sync("fs")
    assert ("invoice", victim["id"]) in {(k, r) for k, r, _ in _open_rows(app)}

    fs.act("delete_invoice", invoice=victim["id"])
    # The service's quirk (PROVIDERS.md 21): a single GET of an id it does not hold answers 200 with the list.
    path = f"/api/v1/invoices/{victim['id']}"
    fs.faults({"kind": "html", "status": 200, "body": "[]", "path_prefix": path, "times": None, "method": "GET"})
    report = app.sync("fs")

    assert all(s.status == "ok" for s in report.streams)
    assert _open_rows(app) == []
    assert report.refetched is not None and report.refetched.vanished.get("invoice") == [victim["id"]]
    with app.engine.connect() as conn:
        error = conn.execute(
            select(Quarantine.error).where(Quarantine.remote_id == victim["id"])  # type: ignore[arg-type]
        ).scalar_one()
    assert "no longer holds" in error and "12,3a" in error


def test_the_reread_is_bounded_per_run_takes_turns_and_rests_after_a_fruitless_cycle(
    sqlite_url: str, fs: FsSandbox
) -> None:
    seed_until_yesterday(fs, days=60, seed=5, clients=8, invoices=30)
    victims = _old_paid(fs, 3)
    for victim in victims:
        fs.act("corrupt_invoice", invoice=victim["id"], field="totalintax", value="12,3a")
    app = make_app(sqlite_url, fs.connection(refetch_per_run=1))
    fs.clear_requests()
    app.sync("fs")
    open_invoices = sorted(r for k, r, _ in _open_rows(app) if k == "invoice")
    assert open_invoices == sorted(v["id"] for v in victims)
    assert not [r for r in fs.requests() if "/invoices/" in r["path"]], "not again in the run that just read them"

    def reread() -> list[str]:
        fs.clear_requests()
        app.sync("fs")
        return [r["path"].rsplit("/", 1)[1] for r in fs.requests() if "/invoices/" in r["path"]]

    rows = len(_open_rows(app))  # the invoices and their payments
    read = [reread() for _ in range(rows)]  # still broken: one row a run, the next run the next one
    # each invoice is read once; its payments wait for it (reading them would read the invoice again)
    assert sorted(i for ids in read for i in ids) == open_invoices
    assert reread() == [] and reread() == [], "a whole cycle healed nothing: the next one waits (an hour)"
    assert len([k for k, _, _ in _open_rows(app) if k == "invoice"]) == 3


class ShiftedClock(SystemClock):
    """The system clock moved on by what a test adds."""

    def __init__(self) -> None:
        """Start at real time."""
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """Real time plus the offset."""
        return super().now() + self.offset


def test_fruitless_cycles_rest_longer_each_time_until_a_record_heals(sqlite_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=60, seed=6, clients=6, invoices=15)
    victim = _old_paid(fs)[0]
    fs.act("corrupt_invoice", invoice=victim["id"], field="totalintax", value="12,3a")
    make_app(sqlite_url)  # migrates
    clock = ShiftedClock()
    app = App(Settings(database_url=sqlite_url), clock=clock, connections=[fs.connection()])
    app.sync("fs")

    def reads_after(hours: float) -> bool:
        clock.offset += timedelta(hours=hours)
        fs.clear_requests()
        app.sync("fs")
        return any(r["path"].endswith(f"/invoices/{victim['id']}") for r in fs.requests())

    assert reads_after(0)  # the first cycle: still broken, so the next one waits an hour
    assert not reads_after(0.9)
    assert reads_after(0.2)  # then two hours
    assert not reads_after(1.9)
    assert reads_after(0.2)  # then four
    assert not reads_after(3.9)
    fs.act("corrupt_invoice", invoice=victim["id"], field="totalintax", value=victim["totalintax"])
    assert reads_after(0.2)
    assert _open_rows(app) == []
    assert "rest_until" not in runs.load_cursor(app.engine, "fs", "refetch")
