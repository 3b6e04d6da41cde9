"""A fifth provider is a plug-in: Ledgerly (tests/ledgerly: provider, transforms, mapping, sandbox, test kit)
joins through its entry point alone, with zero edits under ``connector/``.

The entry point is installed the way pip installs one: a ``.dist-info`` directory (METADATA and
``entry_points.txt`` naming ``tests.ledgerly.provider:LedgerlyProvider`` in group ``connector.providers``)
in a directory put on ``PYTHONPATH`` of subprocesses. In them, the contract suite runs against Ledgerly's
kit, ``connector sandbox --service ledgerly`` serves its sandbox and ``connector sync`` pulls from it into
a fresh SQLite store. Without the entry point the connector does not know it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import REPO, run_cli

ENTRY_POINTS = "[connector.providers]\nledgerly = tests.ledgerly.provider:LedgerlyProvider\n"


def _install(into: Path) -> dict[str, str]:
    """Write Ledgerly's distribution metadata into `into`; the environment that puts it on the path."""
    info = into / "ledgerly_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ledgerly-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return {"PYTHONPATH": os.pathsep.join([str(into), str(REPO)])}


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """PYTHONPATH with Ledgerly's entry point installed."""
    return _install(tmp_path / "site")


def test_nothing_under_connector_names_the_fifth_provider() -> None:
    named = subprocess.run(["git", "grep", "-il", "ledgerly", "--", "connector", "pyproject.toml"],
                           cwd=REPO, capture_output=True, text=True, check=False)
    assert named.returncode == 1 and named.stdout == "", named.stdout  # 1: no match


def test_without_its_entry_point_the_connector_does_not_know_it() -> None:
    result = run_cli("sandbox", "--service", "ledgerly")
    assert result.returncode == 2 and "unknown service 'ledgerly'" in result.stderr, result.stderr


def test_the_contract_suite_runs_against_the_plugged_in_provider(plugin_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "tests/contract/test_contract.py",
         "-k", "ledgerly or every_installed"],
        cwd=REPO, env={**os.environ, **plugin_env}, capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = [line for line in result.stdout.splitlines() if line.startswith("PASSED") and "[ledgerly" in line]
    for check in ("capabilities", "pages_to_the_end", "wrong_key", "rate_limit_answer", "rate_limit_is_honoured",
                  "garbage", "quarantined"):
        assert any(check in line for line in passed), (check, result.stdout[-3000:])
    assert any("every_installed_provider_has_a_kit" in line for line in result.stdout.splitlines())


@pytest.fixture
def served(plugin_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """`connector sandbox --service ledgerly` running (with 4 clients and 23 invoices); its JSON line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", "sandbox", "--service", "ledgerly", "--json", "--clients", "4",
         "--invoices", "23"],
        cwd=REPO, env={**os.environ, **plugin_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_connector_sandbox_serves_it_and_connector_sync_pulls_from_it(
    tmp_path: Path, plugin_env: dict[str, str], served: dict[str, str]
) -> None:
    assert served["service"] == "ledgerly"
    conf = tmp_path / "c.toml"
    conf.write_text(
        f'[connections.led]\nprovider = "ledgerly"\nbase_url = "{served["base_url"]}"\n'
        'api_key_env = "CONNECTOR_TEST_LEDGERLY_CLI_KEY"\nsandbox = true\nsafety_lag_seconds = 0\npage_size = 5\n'
    )
    db = tmp_path / "s.db"
    env = {**plugin_env, "CONNECTOR_DATABASE_URL": f"sqlite:///{db}", "CONNECTOR_CONNECTIONS_FILE": str(conf),
           "CONNECTOR_TEST_LEDGERLY_CLI_KEY": served["api_key"]}
    checked = run_cli("config", "check", env=env)
    assert checked.returncode == 0 and "ok  led: ledgerly" in checked.stdout, checked.stderr
    assert "ledgerly" in run_cli("mappings", "check", env=env).stdout
    assert run_cli("db", "upgrade", env=env).returncode == 0
    result = run_cli("sync", "--connection", "led", env=env)
    assert result.returncode == 0, result.stderr
    assert "led/invoices: ok pages=5 read=23 created=23" in result.stdout, result.stdout
    truth = httpx.get(served["control_url"] + "/state").json()
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT number, total_minor FROM invoice").fetchall())
        clients = conn.execute("SELECT count(*) FROM client").fetchone()[0]
    assert stored == {i["number"]: i["total_cents"] for i in truth["invoices"]}  # through the plug-in's transform
    assert clients == len(truth["clients"]) == 4
    again = run_cli("sync", "--connection", "led", env=env)
    assert "led/invoices: ok pages=5 read=23 created=0 updated=0 unchanged=23" in again.stdout, again.stdout
