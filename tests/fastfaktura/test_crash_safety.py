"""SIGKILL a running `connector sync --connection ff` at random moments of its pull, rerun, check the store.

The moment is a random number of API requests into the run (read off the sandbox's request log), so
every kill lands while the pull is working, whatever the interpreter's start-up time.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import SQLModel

from connector.store.db import make_engine, upgrade
from tests.fastfaktura.harness import FastFakturaHarness
from tests.fastfaktura.truth import assert_store_matches
from tests.support import REPO, make_app

TRIALS = 10


def _kill_after_requests(ff: FastFakturaHarness, env: dict[str, str], requests: int) -> bool:
    """Start a sync and SIGKILL it once the sandbox has seen `requests` API requests; True if killed."""
    log = ff.server.controls.log
    log.clear()
    # Every answer a few milliseconds late: the poll below sees the count reached while the next request is
    # still in flight, even on a loaded machine (without it a short rerun could end between two polls).
    ff.faults([{"kind": "slow", "seconds": 0.005, "times": None}])
    try:
        return _run_and_kill(ff, env, requests)
    finally:
        ff.faults([])


def _run_and_kill(ff: FastFakturaHarness, env: dict[str, str], requests: int) -> bool:
    log = ff.server.controls.log
    proc = subprocess.Popen([sys.executable, "-m", "connector", "sync", "--connection", "ff"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while proc.poll() is None and len(log.describe()) < requests and time.monotonic() < deadline:
        time.sleep(0.002)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _empty_store(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.mark.slow
def test_sigkill_at_random_moments_then_rerun_converges(
    database_url: str, ff: FastFakturaHarness, tmp_path: Path
) -> None:
    rng = random.Random(20261121)
    ff.seed(clients=80, invoices=300)
    engine = make_engine(database_url)
    upgrade(engine)
    conf = ff.connections_toml(tmp_path / "connections.toml", "ff")
    env = {**os.environ, "CONNECTOR_DATABASE_URL": database_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    app = make_app(database_url, ff.connection("ff"), migrate=False)
    killed = 0
    for trial in range(TRIALS):
        # A person keeps working between the crashes.
        state = ff.state()
        active = [c for c in state["clients"] if not c["archived_at"]]
        client = rng.choice(active)
        ff.act("edit_client", client_id=client["id"], changes={"email": f"t{trial}@example.no"})
        ff.act("create_invoice", client_id=client["id"], send=True)
        payable = [i for i in state["invoices"] if i["status"] in ("sent", "opened", "overdue")]
        ff.act("pay_invoice", invoice_id=rng.choice(payable)["id"])
        if trial == 4:
            ff.act("archive_client", client_id=rng.choice(active)["id"])

        initial = trial % 2 == 1  # half the trials crash an initial load of everything, half a rerun
        if initial:
            _empty_store(engine)
        killed += _kill_after_requests(ff, env, rng.randint(1, 300 if initial else 20))

        app.sync("ff")
        assert_store_matches(engine, "ff", ff.state())
    assert killed >= TRIALS - 2, f"only {killed} of {TRIALS} runs were killed mid-sync"
    engine.dispose()
