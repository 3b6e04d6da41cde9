"""SIGKILL a running `connector sync` at random moments, rerun it, and check nothing is lost or doubled."""

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
from tests.support import REPO, FsSandbox, run_cli, seed_until_yesterday
from tests.truth import assert_store_matches

TRIALS = 10


def _env(tmp_path: Path, fs: FsSandbox, database_url: str) -> dict[str, str]:
    conf = fs.connections_toml(tmp_path / "connections.toml", page_size=100)
    return {**os.environ, "CONNECTOR_DATABASE_URL": database_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)}


def _kill_after(env: dict[str, str], delay: float) -> int:
    """Start a sync, SIGKILL it after `delay` seconds (if still running); return its exit status."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", "sync", "--connection", "fs"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
def test_sigkill_at_random_moments_then_rerun_converges(database_url: str, fs: FsSandbox, tmp_path: Path) -> None:
    rng = random.Random(20261121)
    seed_until_yesterday(fs, days=700, seed=3, clients=400, invoices=3000)
    engine = make_engine(database_url)
    upgrade(engine)
    env = _env(tmp_path, fs, database_url)
    killed = 0
    for trial in range(TRIALS):
        # A person keeps working between the crashes.
        state = fs.state()
        client = rng.choice(state["clients"])
        fs.act("edit_client", clientnr=client["clientnr"], changes={"email": f"t{trial}@example.nl"})
        fs.act(
            "create_invoice",
            clientnr=client["clientnr"],
            lines=[{"amount": 1, "description": f"trial {trial}", "tax_rate": 21, "price": "10.005"}],
        )
        open_invoice = next(i for i in state["invoices"][rng.randrange(0, 500) :] if float(i["open"]) > 0)
        fs.act("register_payment", invoice=open_invoice["id"], amount="2.50")

        if trial % 2:  # half the trials crash an initial load of everything, half an incremental run
            _empty_store(engine)
        status = _kill_after(env, rng.uniform(0.5, 1.5))
        killed += status == -signal.SIGKILL

        done = run_cli("sync", "--connection", "fs", env=env)
        assert done.returncode == 0, done.stderr
        assert_store_matches(engine, "fs", fs.state())
    assert killed >= TRIALS // 2 - 1, f"only {killed} of {TRIALS} runs were actually killed mid-sync"
    engine.dispose()
