"""A 3-year backfill in 30-day windows, SIGKILLed midway, resumes at the window (and page) it was in and ends
equal to the sandbox's truth, with no window run twice, no page read twice and no record stored twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from connector.store.db import make_engine
from connector.sync.backfill import slice_windows
from tests.backfill.harness import backfill_runs, cursor, midnight, seed_three_years, utc
from tests.daemon.harness import wait_for
from tests.support import REPO, FsSandbox, make_app, run_cli
from tests.truth import assert_store_matches

INVOICES = "/api/v1/invoices"


def _invoice_queries(fs: FsSandbox) -> list[dict[str, list[str]]]:
    """The invoice list requests in order, a request repeated at once (a retry on a loaded machine) counted once."""
    queries: list[dict[str, list[str]]] = []
    for r in fs.requests():
        query = parse_qs(r["query"])
        if r["path"] == INVOICES and (not queries or queries[-1] != query):
            queries.append(query)
    return queries


def _env(tmp_path: Path, fs: FsSandbox, database_url: str) -> dict[str, str]:
    conf = fs.connections_toml(tmp_path / "connections.toml", page_size=20)
    return {**os.environ, "CONNECTOR_DATABASE_URL": database_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)}


@pytest.mark.slow
def test_a_three_year_backfill_sigkilled_midway_resumes_in_its_window_and_ends_equal_to_the_truth(
    database_url: str, fs: FsSandbox, tmp_path: Path
) -> None:
    # Given three years of invoices (about 60 per 30-day window, 20 per page) and the clients already pulled.
    first, today = seed_three_years(fs, invoices=2200, clients=200)
    command = ["backfill", "--connection", "fs", "--since", first.isoformat(), "--until", today.isoformat()]
    windows = slice_windows(midnight(first), midnight(today), timedelta(days=30))
    assert len(windows) == 37
    env = _env(tmp_path, fs, database_url)
    make_app(database_url, fs.connection()).sync("fs", streams=["clients"])  # migrates the store first

    # A reference run into a scratch database shows the request sequence (data and plan are deterministic):
    # pick a request in the middle of the plan that is not its window's first page.
    scratch_url = f"sqlite:///{tmp_path / 'scratch.db'}"
    make_app(scratch_url)  # migrated
    scratch = {**env, "CONNECTOR_DATABASE_URL": scratch_url}
    fs.clear_requests()
    reference = run_cli(*command, env=scratch)
    assert reference.returncode == 0, reference.stderr
    planned = _invoice_queries(fs)
    middle = windows[len(windows) // 2]
    in_middle = [i for i, q in enumerate(planned) if q["since"] == [middle.since.date().isoformat()]]  # type: ignore[union-attr]
    assert len(in_middle) >= 3, "the middle window should span several pages"
    target = in_middle[1]  # its second page: the first one is committed by then

    # When the backfill is SIGKILLed while that request is in flight (the sandbox holds it):
    fs.faults({"kind": "slow", "seconds": 20, "path_prefix": INVOICES, "after": target, "times": 1})
    fs.clear_requests()
    engine = make_engine(database_url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", *command], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        def held() -> bool:
            assert proc.poll() is None, f"the backfill ended ({proc.returncode}) before it was held"
            return bool(fs.control.get("/faults").json()["rules"][0]["fired"])

        wait_for(held, 120, "the backfill to reach the held request")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    fs.release_held()  # its answer is logged now, not in a later test

    # Then the store holds the windows before it and the middle window's first page, with its checkpoint.
    number = windows.index(middle) + 1
    state = cursor(engine, "fs", "backfill:invoices")
    assert state["window"] == [middle.since.isoformat(), middle.until.isoformat()]  # type: ignore[union-attr]
    assert state["progress"], "the first page of the window was committed with its checkpoint"
    assert state["high_water"] == windows[number - 2].until.isoformat()  # type: ignore[union-attr]
    killed = backfill_runs(engine, "fs")
    assert [r["status"] for r in killed] == ["ok"] * (number - 1) + ["running"]  # its row never finished

    # When the same command runs again:
    fs.clear_requests()
    resumed = run_cli(*command, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed invoices at window {number} from its last committed page" in resumed.stdout
    assert f"backfill fs: ok, {len(windows)} of {len(windows)} windows done" in resumed.stdout

    # It started with the very request it was killed in, and read each remaining page once.
    after = _invoice_queries(fs)
    assert after[0] == planned[target]
    assert after == planned[target:], "no page read twice, none skipped"

    # Every window completed exactly once; the killed run's row is marked interrupted, then its window ran.
    rows = backfill_runs(engine, "fs")
    assert [utc(r["window_start"]) for r in rows if r["status"] == "ok"] == [w.since for w in windows]
    assert [r["status"] for r in rows[number - 1 : number + 1]] == ["interrupted", "ok"]
    assert utc(rows[number]["window_start"]) == middle.since
    assert {r["mode"] for r in rows} == {"backfill"}

    # And the store equals the sandbox's truth: every invoice, line and payment once, amounts exact.
    assert_store_matches(engine, "fs", fs.state())
    assert cursor(engine, "fs", "invoices") == {}, "the incremental cursor never moved"
    status = run_cli("status", env=env)
    assert status.returncode == 0 and "backfill:invoices ok" in status.stdout
    engine.dispose()
