"""A clean stop is not a failure (issue 15 item 4): Ctrl-C (SIGINT) in the middle of `connector sync` commits the
page in hand and exits 4; `connector status` then shows the stream interrupted and exits 0. (The daemon's SIGTERM
is tests/daemon/test_sigterm.py's.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from connector.store import runs
from connector.store.db import make_engine
from tests.daemon.harness import wait_for
from tests.support import REPO, FsSandbox, run_cli, seed_until_yesterday


def test_sigint_mid_sync_leaves_the_stream_interrupted_and_status_ok(tmp_path: Path, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=300, seed=12, clients=20, invoices=600)
    conf = fs.connections_toml(tmp_path / "c.toml", "fs", page_size=25)
    env = {"CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    fs.faults({"kind": "slow", "seconds": 0.2, "times": None, "method": "GET"})  # a sync long enough to stop
    engine = make_engine(env["CONNECTOR_DATABASE_URL"])
    try:
        sync = subprocess.Popen([sys.executable, "-m", "connector", "sync", "--connection", "fs", "--stream",
                                 "invoices"], cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        wait_for(lambda: sync.poll() is None and runs.load_cursor(engine, "fs", "invoices").get("progress"), 60,
                 "the first committed page")
        sync.send_signal(signal.SIGINT)
        _out, err = sync.communicate(timeout=60)
    finally:
        fs.faults()
        engine.dispose()
    assert sync.returncode == 4, err
    assert "Traceback" not in err and "what was done so far is committed" in err, err

    status = run_cli("status", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "FAILING" not in status.stdout and re.search(r"invoices\s+interrupted", status.stdout), status.stdout
    listed = run_cli("runs", "--stream", "invoices", env=env)
    assert listed.returncode == 0 and " interrupted " in listed.stdout, listed.stdout
