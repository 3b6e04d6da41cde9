"""Start/count listings that stay exact across stops and shifts (FactuurSturen, over real sockets).

- A first load stopped after two invoice pages (a failed request, or SIGKILL while the third is in flight)
  resumes at its stored offset; invoices deleted before that offset while no process ran move everything
  up, and the resumed listing notices it by the last key its checkpoint kept, rewinds, and stores every
  invoice.
- A listing shifted by one record while being paged rewinds without the false "the service ignores the
  offset" diagnosis.
- A page longer than `count` (the service repeated records on it) neither skips records nor counts as a
  complete listing: no deletion sweep and the cursor stays, so the next run reads it again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from connector.errors import ConnectorError
from connector.providers.base import NoStamps
from connector.store import runs
from connector.store.tables import Link
from connector.sync.backfill import slice_windows
from tests.backfill.harness import backfill_of, midnight, seed_three_years
from tests.daemon.harness import wait_for
from tests.integration.proxy import listing_proxy
from tests.support import REPO, FsSandbox, make_app, run_cli, seed_until_yesterday
from tests.truth import assert_store_matches


def _linked_invoices(app: Any) -> set[str]:
    with app.engine.connect() as conn:
        ids = select(Link.remote_id).where(Link.connection == "fs", Link.entity_kind == "invoice")  # type: ignore[call-overload]
        return {str(r) for r in conn.execute(ids).scalars()}


def test_a_stopped_first_load_resumes_over_deletions_before_its_offset(database_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=365, seed=8, clients=20, invoices=450)
    app = make_app(database_url, fs.connection(page_size=100, max_attempts=1))
    # The third invoice page fails: pages at 0 and 99 are committed, the checkpoint says resume at 199.
    fs.faults({"kind": "status", "status": 500, "times": 1, "after": 2, "path_prefix": "/api/v1/invoices"})
    try:
        app.sync("fs")
        raise AssertionError("the first load should have stopped")
    except ConnectorError:
        pass
    progress = runs.load_cursor(app.engine, "fs", "invoices")["progress"]
    assert progress["start"] == 199
    # While no process runs, a person deletes three invoices listed before the offset.
    listing = sorted(fs.state()["invoices"], key=lambda i: int(i["id"]))
    for invoice in listing[10:13]:
        fs.act("delete_invoice", invoice=invoice["id"])

    resumed = app.sync("fs")

    invoices = next(s for s in resumed.streams if s.stream == "invoices")
    assert invoices.status == "ok"
    truth = fs.state()
    assert _linked_invoices(app) >= {str(i["id"]) for i in truth["invoices"]}, "every invoice is stored"
    app.sync("fs", streams=["sweep"])  # the three deleted ones go by the sweep; then the store is the truth
    assert_store_matches(app.engine, "fs", truth)


def test_a_listing_shifted_by_one_while_paged_is_read_whole(database_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=365, seed=9, clients=20, invoices=450)
    first_id = min(int(i["id"]) for i in fs.state()["invoices"])

    deleted: list[int] = []

    def before(path: str, query: dict[str, str], n: int) -> None:
        if path == "invoices" and query.get("start") == "297" and not deleted:  # after three pages
            fs.act("delete_invoice", invoice=first_id)  # the first invoice goes: all the rest move up one
            deleted.append(first_id)

    with listing_proxy(fs.base_url, before=before) as proxy:
        app = make_app(database_url, fs.connection(page_size=100, base_url=proxy.url))
        report = app.sync("fs")
        invoices = next(s for s in report.streams if s.stream == "invoices")
        assert invoices.status == "ok", invoices.error
        truth = fs.state()
        assert _linked_invoices(app) >= {str(i["id"]) for i in truth["invoices"]}, "every invoice is stored"
        app.sync("fs", streams=["sweep"])  # the deleted first invoice had been listed before it went
    assert_store_matches(app.engine, "fs", truth)


def test_a_page_longer_than_count_skips_nothing_and_is_read_again(database_url: str, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=365, seed=10, clients=20, invoices=450)

    def repeat(path: str, query: dict[str, str], items: list[Any]) -> list[Any]:
        if path == "invoices" and query.get("start") == "99" and "filter" not in query:
            return items + items[10:18]  # 8 records of the page come twice: 108 for count=100
        return items

    with listing_proxy(fs.base_url, rewrite=repeat) as proxy:
        app = make_app(database_url, fs.connection(page_size=100, base_url=proxy.url))
        report = app.sync("fs")
        invoices = next(s for s in report.streams if s.stream == "invoices")
        assert invoices.status == "ok" and invoices.untrusted and not invoices.complete_listing
        assert runs.load_cursor(app.engine, "fs", "invoices").get("high_water") is None, "the cursor stays"
        assert_store_matches(app.engine, "fs", fs.state())

        again = app.sync("fs")  # re-read whole (still repeating): nothing lost, nothing soft-deleted
        assert again.totals.deleted == 0
    assert len(_linked_invoices(app)) == 450
    assert_store_matches(app.engine, "fs", fs.state())


def test_a_service_capping_count_is_listed_whole_and_nothing_is_swept(database_url: str, fs: FsSandbox) -> None:
    # Issue 12: asked for 500 a page, the service serves 100. A short first page is not the end of the list.
    seed_until_yesterday(fs, days=365, seed=11, clients=20, invoices=450)
    app = make_app(database_url, fs.connection())  # page_size 500
    app.sync("fs")
    assert len(_linked_invoices(app)) == 450

    def cap(path: str, query: dict[str, str], items: list[Any]) -> list[Any]:
        return items[:100]

    with listing_proxy(fs.base_url, rewrite=cap) as proxy:
        capped = make_app(database_url, fs.connection(base_url=proxy.url))
        report = capped.sync("fs", full=True)  # a complete listing, which sweeps what it did not list

    assert report.totals.deleted == 0
    invoices = next(s for s in report.streams if s.stream == "invoices")
    assert invoices.complete_listing and invoices.counts.read >= 450
    assert_store_matches(app.engine, "fs", fs.state())


def test_a_first_load_killed_mid_listing_resumes_over_deletions_before_its_offset(
    database_url: str, fs: FsSandbox, tmp_path: Path
) -> None:
    seed_until_yesterday(fs, days=365, seed=13, clients=20, invoices=450)
    conf = fs.connections_toml(tmp_path / "connections.toml", page_size=100)
    env = {**os.environ, "CONNECTOR_DATABASE_URL": database_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    # The third invoice page is held at the service: by then pages 0 and 99 are committed.
    fs.faults({"kind": "slow", "seconds": 30, "times": 1, "after": 2, "path_prefix": "/api/v1/invoices"})
    sync = subprocess.Popen([sys.executable, "-m", "connector", "sync", "--connection", "fs"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def third_page_held() -> bool:
            assert sync.poll() is None, "the sync ended before it was killed"
            return any(rule["fired"] for rule in fs.control.get("/faults").json()["rules"])

        wait_for(third_page_held, 60, "the sandbox to hold the third invoice page", every=0.01)
        sync.send_signal(signal.SIGKILL)
        sync.wait()
    finally:
        if sync.poll() is None:
            sync.kill()
    fs.release_held()  # its answer is logged now, not in a later test
    listing = sorted(fs.state()["invoices"], key=lambda i: int(i["id"]))
    for invoice in listing[20:24]:  # while no process runs, four invoices before the offset go
        fs.act("delete_invoice", invoice=invoice["id"])

    resumed = run_cli("sync", "--connection", "fs", env=env)

    assert resumed.returncode == 0, resumed.stderr
    app = make_app(database_url, fs.connection(page_size=100))
    truth = fs.state()
    assert _linked_invoices(app) >= {str(i["id"]) for i in truth["invoices"]}, "every invoice is stored"
    app.sync("fs", streams=["sweep"])
    assert_store_matches(app.engine, "fs", truth)


@pytest.mark.parametrize("times", [1, None], ids=["once", "always"])
def test_a_backfill_window_read_untrusted_is_read_again_and_never_passed(
    database_url: str, fs: FsSandbox, times: int | None
) -> None:
    first, today = seed_three_years(fs, invoices=300)
    since, until = midnight(first), midnight(today)
    windows = slice_windows(since, until, timedelta(days=30))
    third = windows[2].since.astimezone(ZoneInfo("Europe/Amsterdam")).date().isoformat()  # type: ignore[union-attr]
    repeated: list[int] = []

    def repeat(path: str, query: dict[str, str], items: list[Any]) -> list[Any]:
        more = times is None or len(repeated) < times
        if path == "invoices" and query.get("since") == third and len(items) == 5 and more:
            repeated.append(1)
            return items + items[:2]  # 7 records for count=5
        return items

    with listing_proxy(fs.base_url, rewrite=repeat) as proxy:
        app = make_app(database_url, fs.connection(page_size=5, base_url=proxy.url))
        app.sync("fs", streams=["clients"])
        with backfill_of(app, "fs", since, until) as job:
            if times is None:
                with pytest.raises(ConnectorError, match="moved in 3 reads"):
                    job.run()
            else:
                job.run()

    state = runs.load_cursor(app.engine, "fs", "backfill:invoices")
    if times is None:  # never trusted: the backfill stops before the window, and its rerun starts there
        assert len(repeated) == 3
        assert state["high_water"] == windows[1].until.isoformat()  # type: ignore[union-attr]
    else:  # read again at once, trusted the second time, and the backfill went on to the end
        assert len(repeated) == 1
        assert state["high_water"] == windows[-1].until.isoformat()  # type: ignore[union-attr]
        assert_store_matches(app.engine, "fs", fs.state())


def test_a_checkpoint_without_a_last_key_resumes_without_the_check(sqlite_url: str, fs: FsSandbox) -> None:
    # A checkpoint written after a page longer than asked knows no last key ("last": None): not a key to find.
    seed_until_yesterday(fs, days=365, seed=14, clients=5, invoices=450)
    app = make_app(sqlite_url, fs.connection(page_size=100))
    provider = app.provider(app.connection("fs"))
    try:
        pages = list(provider.pull("invoices", None, {"start": 199, "last": None, "untrusted": "earlier"}, {},
                                   NoStamps()))
    finally:
        provider.close()
    starts = [int(parse_qs(r["query"])["start"][0]) for r in fs.requests() if r["path"] == "/api/v1/invoices"]
    assert starts == [198, 297, 396], "no rewind"
    assert all(page.untrusted == "earlier" for page in pages), "an untrusted listing stays so across a resume"


def test_the_sandboxs_page_shift_twice_in_a_row_is_read_whole(database_url: str, fs: FsSandbox) -> None:
    # The service deletes the invoice just before the pages at start=198 and start=297 as they are asked: the
    # second shift is seen on the rewind, which serves at start=197 what start=198 served.
    seed_until_yesterday(fs, days=365, seed=15, clients=20, invoices=450)
    fs.faults({"kind": "page_shift", "path_prefix": "/api/v1/invoices", "after": 1, "times": 2})
    app = make_app(database_url, fs.connection(page_size=100))

    report = app.sync("fs")

    invoices = next(s for s in report.streams if s.stream == "invoices")
    assert invoices.status == "ok", invoices.error
    assert [r["fired"] for r in fs.control.get("/faults").json()["rules"]] == [2]
    truth = fs.state()
    assert len(truth["invoices"]) == 448
    assert _linked_invoices(app) >= {str(i["id"]) for i in truth["invoices"]}, "every invoice is stored"
    app.sync("fs", streams=["sweep"])
    assert_store_matches(app.engine, "fs", truth)
