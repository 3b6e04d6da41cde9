"""`connector remap`: a user override maps FactuurSturen's invoice reference (a custom field) into `extra`; remapping
the stored payloads changes exactly the invoices that have one, without a request to any sandbox; the next push
carries the reference to hydra; a second remap changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.cli import main
from connector.settings import Settings
from connector.store.tables import Invoice, Link
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app, seed_until_yesterday

OVERRIDE = """\
provider: factuursturen
version: 1
invoice:
  extra:
    fields:
      reference: { from: reference.line1, transform: empty_to_none, readonly: true }
"""


def _versions(app: object, connection: str) -> dict[str, tuple[int, dict[str, object]]]:
    with app.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            select(Link.remote_id, Invoice.version, Invoice.extra)  # type: ignore[call-overload]
            .join(Invoice, Invoice.id == Link.entity_id)
            .where(Link.connection == connection, Link.entity_kind == "invoice")
        ).all()
    return {remote_id: (version, dict(extra or {})) for remote_id, version, extra in rows}


def test_remap_applies_a_user_override_to_stored_payloads_without_a_request(
    database_url: str, fs: FsSandbox, hy: HydraHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed_until_yesterday(fs, days=30, seed=13, clients=6, invoices=20)
    clientnr = fs.state()["clients"][0]["clientnr"]
    line = {"description": "Advies", "amount": 2, "price": "45.50", "tax_rate": 21}
    for n in (1, 2, 3):  # a person makes three invoices with the customer's order number as the reference
        reference = {"line1": f"PO-{n}", "line2": "", "line3": ""}
        fs.act("create_invoice", clientnr=clientnr, lines=[line], reference=reference)
    references = {
        str(i["id"]): i["reference"]["line1"] for i in fs.state()["invoices"] if (i.get("reference") or {}).get("line1")
    }
    assert len(references) == 3
    fs_conn, hy_conn = fs.connection("fs"), hy.connection("hy", receives=["client", "invoice"])
    app = make_app(database_url, fs_conn, hy_conn)
    app.sync("fs")
    [first] = app.push("hy")
    assert first.drain is not None and first.drain.failed == 0
    before = _versions(app, "fs")
    assert not any(extra.get("reference") for _, extra in before.values())

    overrides = tmp_path / "mappings"
    overrides.mkdir()
    (overrides / "factuursturen.yaml").write_text(OVERRIDE, encoding="utf-8")
    app.settings = Settings(database_url=database_url, mappings_dir=overrides)
    fs.clear_requests()
    hy.clear_requests()

    # The dry run, through the command line: what would change, per record, and nothing written.
    connections = fs.connections_toml(tmp_path / "fs.toml", "fs")
    monkeypatch.setattr("connector.cli.commands.configure_logging", lambda *args: None)
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", database_url)
    monkeypatch.setenv("CONNECTOR_CONNECTIONS_FILE", str(connections))
    monkeypatch.setenv("CONNECTOR_MAPPINGS_DIR", str(overrides))
    assert main(["remap", "--connection", "fs", "--kind", "invoice", "--dry-run", "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert {c["remote_id"]: c["fields"]["extra"][1]["reference"] for c in planned["changed"]} == references
    assert all(set(c["fields"]) == {"extra"} for c in planned["changed"])
    assert _versions(app, "fs") == before, "a dry run writes nothing"

    report = app.remap("fs")
    assert {c.remote_id for c in report.changes} == set(references)
    after = _versions(app, "fs")
    for remote_id, (version, extra) in after.items():
        if remote_id in references:
            assert (version, extra.get("reference")) == (before[remote_id][0] + 1, references[remote_id])
        else:
            assert (version, extra) == before[remote_id], "an invoice without a reference is not touched"
    assert fs.requests() == [] and hy.requests() == [], "remap asks no service"

    [second] = app.push("hy")
    assert second.drain is not None and second.drain.failed == 0 and second.planned == len(references)
    with app.engine.connect() as conn:
        at_hydra = dict(
            conn.execute(
                select(Link.entity_id, Link.remote_id).where(Link.connection == "hy", Link.entity_kind == "invoice")
            ).all()
        )
        by_fs = dict(
            conn.execute(
                select(Link.remote_id, Link.entity_id).where(Link.connection == "fs", Link.entity_kind == "invoice")
            ).all()
        )
    hydra = {str(i["id"]): i for i in hy.state()["invoices"]}
    for remote_id, reference in references.items():
        assert hydra[at_hydra[by_fs[remote_id]]]["reference"] == reference

    again = app.remap("fs")
    assert again.changes == [] and again.read == report.read
    assert _versions(app, "fs") == after


CLIENT_OVERRIDE = """\
provider: factuursturen
version: 1
client:
  extra:
    fields:
      reference: { from: reference.line1, transform: empty_to_none, readonly: true }
"""


def test_remap_reaches_clients_through_their_merge(
    database_url: str, fs: FsSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("connector.sync.replay._BATCH", 7)  # 40 clients: six batches, each its own transaction
    seed_until_yesterday(fs, days=10, seed=21, clients=40, invoices=5)
    references = {
        str(c["clientnr"]): c["reference"]["line1"] for c in fs.state()["clients"] if c["reference"]["line1"]
    }
    assert 0 < len(references) < 40
    app = make_app(database_url, fs.connection("fs"))
    app.sync("fs")
    overrides = tmp_path / "mappings"
    overrides.mkdir()
    (overrides / "factuursturen.yaml").write_text(CLIENT_OVERRIDE, encoding="utf-8")
    app.settings = Settings(database_url=database_url, mappings_dir=overrides)
    fs.clear_requests()

    report = app.remap("fs", kind="client")
    assert report.read == 40
    assert {c.remote_id: c.fields["extra"][1]["reference"] for c in report.changes} == references
    assert fs.requests() == []
    assert app.remap("fs", kind="client").changes == []
