"""`connector quarantine retry`: a FactuurSturen invoice quarantined for a due date the mapping cannot read
("31-12-2026") is mapped again from its stored payload once a user override reads that spelling: stored, the
quarantine empty, no request to the service. An override that still cannot read it records the new reason."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector.cli import main
from connector.store.tables import Invoice, Link
from tests.support import FsSandbox, make_app, seed_until_yesterday

OVERRIDE = """\
provider: factuursturen
version: 1
invoice:
  fields:
    due_on: {{ from: duedate, transform: {{ name: date, format: "{pattern}" }}, readonly: true }}
"""


def _quarantine(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    """`connector quarantine --json ARGS` in this process: its exit code and its decoded output."""
    code = main(["quarantine", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_a_quarantined_record_is_stored_from_its_payload_once_an_override_reads_it(
    database_url: str, fs: FsSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed_until_yesterday(fs, days=20, seed=5, clients=4, invoices=10)
    victim = fs.state()["invoices"][3]
    fs.act("corrupt_invoice", invoice=victim["id"], field="duedate", value="31-12-2026")
    app = make_app(database_url, fs.connection("fs"))
    report = app.sync("fs")
    assert report.totals.quarantined == 1

    overrides = tmp_path / "mappings"
    overrides.mkdir()
    monkeypatch.setattr("connector.cli.commands.configure_logging", lambda *args: None)
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", database_url)
    monkeypatch.setenv("CONNECTOR_CONNECTIONS_FILE", str(fs.connections_toml(tmp_path / "fs.toml", "fs")))
    monkeypatch.setenv("CONNECTOR_MAPPINGS_DIR", str(overrides))
    code, rows = _quarantine(capsys=capsys)
    assert code == 0 and [(r["kind"], r["remote_id"]) for r in rows] == [("invoice", str(victim["id"]))]
    assert "31-12-2026" in rows[0]["error"]
    fs.clear_requests()

    (overrides / "factuursturen.yaml").write_text(OVERRIDE.format(pattern="%m-%d-%Y"), encoding="utf-8")
    code, out = _quarantine("retry", "--all", capsys=capsys)
    assert code == 1 and out["stored"] == 0
    [still] = out["results"]
    assert "%m-%d-%Y" in still["error"], "the new reason is recorded"
    code, rows = _quarantine("list", capsys=capsys)
    assert [r["error"] for r in rows] == [still["error"]]

    (overrides / "factuursturen.yaml").write_text(OVERRIDE.format(pattern="%d-%m-%Y"), encoding="utf-8")
    code, out = _quarantine("retry", "--all", capsys=capsys)
    assert code == 0 and out["stored"] == 1 and out["still_quarantined"] == 0
    code, rows = _quarantine(capsys=capsys)
    assert rows == []
    assert fs.requests() == [], "the replay asks the service nothing"

    with app.engine.connect() as conn:
        due_on = conn.execute(
            select(Invoice.due_on)  # type: ignore[call-overload]
            .join(Link, Link.entity_id == Invoice.id)
            .where(Link.connection == "fs", Link.entity_kind == "invoice", Link.remote_id == str(victim["id"]))
        ).scalar_one()
        invoices = conn.execute(
            select(Link.remote_id).where(Link.connection == "fs", Link.entity_kind == "invoice")
        ).scalars().all()
    assert due_on == date(2026, 12, 31)
    assert len(invoices) == 10


def test_retry_by_id_drop_and_an_unknown_id(
    database_url: str, fs: FsSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed_until_yesterday(fs, days=20, seed=6, clients=3, invoices=6)
    unpaid = [i for i in fs.state()["invoices"] if i["open"] == i["totalintax"]]  # no payments to wait for them
    victims = [str(i["id"]) for i in unpaid[:2]]
    assert len(victims) == 2
    for victim in victims:
        fs.act("corrupt_invoice", invoice=victim, field="duedate", value="31-12-2026")
    app = make_app(database_url, fs.connection("fs"))
    assert app.sync("fs").totals.quarantined == 2
    overrides = tmp_path / "mappings"
    overrides.mkdir()
    (overrides / "factuursturen.yaml").write_text(OVERRIDE.format(pattern="%d-%m-%Y"), encoding="utf-8")
    monkeypatch.setattr("connector.cli.commands.configure_logging", lambda *args: None)
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", database_url)
    monkeypatch.setenv("CONNECTOR_CONNECTIONS_FILE", str(fs.connections_toml(tmp_path / "fs.toml", "fs")))
    monkeypatch.setenv("CONNECTOR_MAPPINGS_DIR", str(overrides))
    _, rows = _quarantine(capsys=capsys)
    ids = {row["remote_id"]: row["id"] for row in rows}
    assert set(ids) == set(victims)

    assert main(["quarantine", "retry", "999999"]) == 2
    assert "no quarantine row with this id" in capsys.readouterr().err
    code, out = _quarantine("retry", str(ids[victims[0]]), capsys=capsys)
    assert code == 0 and [(r["remote_id"], r["stored"]) for r in out["results"]] == [(victims[0], True)]
    code, out = _quarantine("drop", str(ids[victims[1]]), capsys=capsys)
    assert code == 0 and out == {"dropped": ids[victims[1]]}
    code, rows = _quarantine(capsys=capsys)
    assert rows == []
    code, out = _quarantine("retry", str(ids[victims[1]]), capsys=capsys)
    assert code == 1 and out["results"][0]["error"].startswith("not in quarantine")
    with app.engine.connect() as conn:
        held = set(conn.execute(select(Link.remote_id).where(Link.connection == "fs", Link.entity_kind == "invoice"))
                   .scalars())
    assert victims[0] in held and victims[1] not in held, "the dropped record is not stored"
