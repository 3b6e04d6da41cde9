"""SIGKILL a running `connector sync --connection hy` at random moments, rerun it: nothing lost or doubled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import SQLModel

from connector.store.db import make_engine, upgrade
from tests.hydra.harness import HydraHarness
from tests.hydra.truth import assert_store_matches
from tests.support import REPO, make_app

TRIALS = 10


def _kill_after(env: dict[str, str], delay: float) -> int:
    """Start a sync, SIGKILL it after `delay` seconds (if still running); return its exit status."""
    proc = subprocess.Popen([sys.executable, "-m", "connector", "sync", "--connection", "hy"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return proc.returncode


def _empty_store(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.mark.slow
def test_sigkill_at_random_moments_then_rerun_converges(database_url: str, hy: HydraHarness, tmp_path: Path) -> None:
    rng = random.Random(20261121)
    hy.seed(clients=100, invoices=800)
    engine = make_engine(database_url)
    upgrade(engine)
    conf = hy.connections_toml(tmp_path / "connections.toml", page_size=20)
    app = make_app(database_url, hy.connection("hy", page_size=20), migrate=False)
    env = {**os.environ, "CONNECTOR_DATABASE_URL": database_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    killed = 0
    for trial in range(TRIALS):
        # A person keeps working between the crashes.
        state = hy.state()
        live = [i for i in state["invoices"] if not i["deleted"] and i["status"] not in ("draft", "cancelled")]
        customer = rng.choice([c for c in state["customers"] if not c["deleted"]])
        hy.act("edit_customer", id=customer["id"], changes={"email": f"t{trial}@example.nl"})
        hy.act("create_invoice", customer=customer["id"], rows=[
            {"productName": f"trial {trial}", "quantity": 1, "netPrice": "10.01", "vatRate": "21.00"}])
        target = rng.choice(live)
        hy.act("edit_row", id=target["rows"][0]["id"], changes={"quantity": trial + 1})
        hy.act("add_transaction", invoice=rng.choice(live)["id"], amount="2.50")
        paid = [i for i in live if i["transactions"]]
        hy.act("delete_transaction", id=rng.choice(paid)["transactions"][0]["id"])

        full = bool(trial % 2)  # half the trials crash an initial load of everything, half an incremental run
        if full:
            _empty_store(engine)
        # Each answer takes 12 ms more, so a load lasts a few seconds past the interpreter's start-up and
        # the kill lands inside it (an incremental run stays short: some of those finish first).
        hy.faults([{"kind": "slow", "seconds": 0.012, "times": None}])
        status = _kill_after(env, rng.uniform(1.0, 2.8) if full else rng.uniform(0.7, 1.4))
        killed += status == -signal.SIGKILL
        hy.faults([])

        # The rerun (in this process: quicker) also sweeps, for the deleted payment.
        report = app.sync("hy", streams=["customers", "invoices", "sweep"])
        assert report.totals.quarantined == 0
        assert_store_matches(engine, "hy", hy.state())
    assert killed >= TRIALS // 2 - 1, f"only {killed} of {TRIALS} runs were actually killed mid-sync"
    engine.dispose()
    app.engine.dispose()
