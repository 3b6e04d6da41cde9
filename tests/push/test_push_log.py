"""`connector push` logs one summary event per target with its counts; the per-row lines are DEBUG; with JSON logs
every stderr line is a JSON object."""

from __future__ import annotations

import json
from pathlib import Path

from tests.facturalia.harness import FacturaliaHarness
from tests.push.test_push_cli import _env
from tests.support import FsSandbox, run_cli, seed_until_yesterday


def test_a_push_logs_one_summary_event_and_its_rows_only_at_debug(
    sqlite_url: str, fs: FsSandbox, fac: FacturaliaHarness, tmp_path: Path
) -> None:
    seed_until_yesterday(fs, days=40, seed=5, clients=4, invoices=9)
    env = {**_env(tmp_path, fs, fac, sqlite_url), "CONNECTOR_LOG_FORMAT": "json", "CONNECTOR_LOG_LEVEL": "DEBUG"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("sync", "--connection", "fs", env=env).returncode == 0

    pushed = run_cli("push", env=env)
    assert pushed.returncode in (0, 1), pushed.stderr
    events = [json.loads(line) for line in pushed.stderr.splitlines()]  # every line, or this raises
    (summary,) = [e for e in events if e["event"] == "push"]
    assert summary["target"] == "fa" and summary["planned"] == summary["queued"] == 9
    assert summary["done"] + summary["failed"] == 9 and summary["level"] == ("warning" if summary["failed"] else "info")
    assert isinstance(summary["seconds"], float) and isinstance(summary["requests"], int)
    rows = [e for e in events if e["event"] in ("pushed", "push failed")]
    assert len(rows) == 9 and {e["level"] for e in rows} == {"debug"}
    assert all(e["target"] == "fa" for e in rows)
