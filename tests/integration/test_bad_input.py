"""Bad input: unreadable records go to quarantine, bad credentials and garbage answers fail clearly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from connector.errors import AuthFailed, ProtocolError
from connector.store.tables import Client, Invoice, Quarantine
from tests.support import FsSandbox, make_app, run_cli


def _count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize(("field", "value"), [("totalintax", "12,3a"), ("sent", "2024-13-45")])
def test_unreadable_record_is_quarantined_and_the_page_goes_on(
    database_url: str, fs: FsSandbox, field: str, value: str
) -> None:
    fs.seed(seed=5, clients=20, invoices=120)
    victim = fs.state()["invoices"][10]["id"]
    fs.act("corrupt_invoice", invoice=victim, field=field, value=value)
    app = make_app(database_url, fs.connection())

    report = app.sync("fs")

    assert report.totals.quarantined >= 1
    with app.engine.connect() as conn:
        rows = conn.execute(select(Quarantine.remote_id, Quarantine.error, Quarantine.entity_kind)).all()
    assert ("invoice" in {r.entity_kind for r in rows}) and victim in {r.remote_id for r in rows}
    error = next(r.error for r in rows if r.remote_id == victim)
    assert value in error and "invoice." in error
    assert _count(app.engine, Invoice) == 119  # every other invoice of the page was stored

    # A second run does not add the same quarantine row again.
    app.sync("fs")
    assert _count(app.engine, Quarantine) == len(rows)


def test_wrong_credentials_fail_clearly_and_write_nothing(sqlite_url: str, fs: FsSandbox, tmp_path: Path) -> None:
    fs.seed(seed=5, clients=5, invoices=10)
    app = make_app(sqlite_url, fs.connection())
    os.environ["CONNECTOR_TEST_BAD_KEY"] = "not-the-key"
    bad = fs.connection(api_key_env="CONNECTOR_TEST_BAD_KEY")
    app = make_app(sqlite_url, bad)
    with pytest.raises(AuthFailed) as caught:
        app.sync("fs")
    assert "fs" in str(caught.value) and "not-the-key" not in str(caught.value)
    assert _count(app.engine, Client) == 0

    conf = fs.connections_toml(tmp_path / "c.toml", api_key_env="CONNECTOR_TEST_BAD_KEY")
    result = run_cli(
        "sync",
        "--connection",
        "fs",
        env={"CONNECTOR_DATABASE_URL": sqlite_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)},
    )
    assert result.returncode == 1
    assert "[fs]" in result.stderr and "not-the-key" not in result.stderr + result.stdout
    assert _count(app.engine, Client) == 0


@pytest.mark.parametrize("kind", ["html", "truncated_json"])
def test_garbage_answers_are_typed_protocol_errors(sqlite_url: str, fs: FsSandbox, kind: str) -> None:
    fs.seed(seed=5, clients=5, invoices=10)
    app = make_app(sqlite_url, fs.connection())
    fs.faults({"kind": kind, "times": 10, "path_prefix": "/api/v1/clients"})
    with pytest.raises(ProtocolError):
        app.sync("fs")


@pytest.mark.parametrize(
    ("field", "value", "names"),
    [
        ("open", "12345678901234567890123456.00", "invoice.open_minor"),  # 26 digits: past a BIGINT
        ("totalintax", "1e999", "1e999 is beyond 60 digits"),  # read first by the status
        ("open", "1e9999", "1e9999 is beyond 60 digits"),  # past Python's 4,300-digit int limit once in minor units
        ("clientnr", "", "invoice.client_remote_id"),  # an invoice needs its client
    ],
)
def test_a_value_the_store_cannot_take_is_quarantined_not_a_crash(
    database_url: str, fs: FsSandbox, field: str, value: str, names: str
) -> None:
    """Before: OverflowError (SQLite) / DataError or ValueError (PostgreSQL), nothing of the page stored, every
    rerun the same; an invoice without a client was stored without one."""
    fs.seed(seed=5, clients=20, invoices=120)
    victim = fs.state()["invoices"][10]["id"]
    fs.act("corrupt_invoice", invoice=victim, field=field, value=value)
    app = make_app(database_url, fs.connection())

    report = app.sync("fs")

    assert report.totals.quarantined >= 1  # the invoice, and its payments with it
    with app.engine.connect() as conn:
        rows = conn.execute(select(Quarantine.remote_id, Quarantine.error, Quarantine.entity_kind)).all()
    [(remote_id, error, _)] = [r for r in rows if r.entity_kind == "invoice"]
    assert remote_id == victim and names in error
    assert _count(app.engine, Invoice) == 119  # the rest of the page is stored
    app.sync("fs")
    with app.engine.connect() as conn:
        again = conn.execute(select(Quarantine.stream, Quarantine.entity_kind, Quarantine.remote_id)).all()
    assert len(again) == len(set(again)) and _count(app.engine, Invoice) == 119  # nothing quarantined twice


def test_the_cli_stores_the_page_and_exits_0_past_a_value_the_store_cannot_take(
    sqlite_url: str, fs: FsSandbox, tmp_path: Path
) -> None:
    """Before: exit 1 with an OverflowError traceback, on every rerun, nothing of the page stored."""
    fs.seed(seed=5, clients=5, invoices=30)
    victim = fs.state()["invoices"][3]["id"]
    fs.act("corrupt_invoice", invoice=victim, field="open", value="12345678901234567890123456.00")
    conf = fs.connections_toml(tmp_path / "c.toml")
    env = {"CONNECTOR_DATABASE_URL": sqlite_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    assert run_cli("db", "upgrade", env=env).returncode == 0

    for _ in range(2):
        result = run_cli("sync", "--connection", "fs", env=env)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    with create_engine(sqlite_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(Invoice)).scalar_one() == 29
        quarantined = conn.execute(select(Quarantine.remote_id).where(Quarantine.entity_kind == "invoice")).scalars()
        assert set(quarantined) == {victim}  # once per stream that read it (invoices, open_invoices)
