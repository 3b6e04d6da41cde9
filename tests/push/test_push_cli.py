"""`connector push --dry-run`, `connector push`, `connector outbox` and `connector outbox retry` as a user runs them."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.facturalia.harness import FacturaliaHarness
from tests.support import FsSandbox, run_cli, seed_until_yesterday


def _env(tmp_path: Path, fs: FsSandbox, fac: FacturaliaHarness, database_url: str) -> dict[str, str]:
    path = fs.connections_toml(tmp_path / "c.toml")
    fa = fac.connection("fa", receives=["invoice"])
    path.write_text(
        path.read_text()
        + "\n[connections.fa]\nprovider = \"facturalia\"\n"
        + f'base_url = "{fa.base_url}"\napi_key_env = "{fa.api_key_env}"\nca_bundle = "{fa.ca_bundle}"\n'
        + 'receives = ["invoice"]\n[connections.fa.options]\ndefault_product_code = "CONSULT"\n'
    )
    return {"CONNECTOR_DATABASE_URL": database_url, "CONNECTOR_CONNECTIONS_FILE": str(path), **os.environ}


def test_dry_run_prints_the_plan_calls_nothing_then_push_and_outbox(
    sqlite_url: str, fs: FsSandbox, fac: FacturaliaHarness, tmp_path: Path
) -> None:
    seed_until_yesterday(fs, days=40, seed=5, clients=4, invoices=9)
    env = _env(tmp_path, fs, fac, sqlite_url)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("sync", "--connection", "fs", env=env).returncode == 0
    fs.clear_requests()

    dry = run_cli("push", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    header = re.search(r"^fa: (\d+) create(?:, (\d+) would fail)? \(dry run: no service was called\)$", dry.stdout,
                       re.M)
    assert header is not None, dry.stdout
    creates, would_fail = int(header.group(1)), int(header.group(2) or 0)
    assert creates + would_fail == 9  # a push that would fail is not counted as a create
    assert re.search(r"invoice\.number: None -> F\d+", dry.stdout), dry.stdout
    assert fac.requests() == [] and fs.requests() == []

    pushed = run_cli("push", env=env)
    done = int(re.search(r"done (\d+)", pushed.stdout).group(1))  # type: ignore[union-attr]
    failed = int(re.search(r"failed (\d+)", pushed.stdout).group(1))  # type: ignore[union-attr]
    assert done + failed == 9 and done == len(fac.state()["invoices"])
    assert failed >= would_fail and done <= creates, "the dry run's would-fail rows failed"
    assert pushed.returncode == (1 if failed else 0)

    listing = run_cli("outbox", env=env)
    assert listing.returncode == 0
    failed_rows = [line for line in listing.stdout.splitlines() if " failed " in line]
    assert len(failed_rows) == failed
    if failed_rows:
        row_id = failed_rows[0].split()[0]
        retried = run_cli("outbox", "retry", row_id, env=env)
        assert retried.returncode == 0 and f"outbox row {row_id} is pending again" in retried.stdout
        assert " pending " in run_cli("outbox", env=env).stdout
    assert run_cli("outbox", "retry", "999999", env=env).returncode == 1
