"""FactuurSturen clients with national phone numbers reach FastFaktura in E.164 (it refuses anything else); the
read-back is recognised as the connector's own write, and a number that cannot be made E.164 fails its row with
the reason, without a request, while the other clients go through."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from connector.app import App
from connector.store.tables import Client, Outbox
from tests.fastfaktura.harness import FastFakturaHarness
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app

SERVICES = ("fs", "ff", "hy")


def _app(database_url: str, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness) -> App:
    return make_app(
        database_url,
        fs.connection("fs", receives=["client"]),
        ff.connection("ff", receives=["client"]),
        hy.connection("hy", receives=["client"]),
    )


def _cycle(app: App) -> dict[str, tuple[int, int]]:
    """Pull every service, then push; (planned, requests) per target."""
    for name in SERVICES:
        app.sync(name)
    return {r.target: (r.planned, r.drain.requests if r.drain else 0) for r in app.push()}


def _writes(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]


def _canonical(app: App) -> list[tuple[Any, ...]]:
    with app.engine.connect() as conn:
        return list(conn.execute(select(Client.name, Client.phone, Client.version).order_by(Client.id)).all())  # type: ignore[call-overload]


def test_a_national_number_arrives_in_e164_and_its_read_back_changes_nothing(
    database_url: str, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness
) -> None:
    fs.act("create_client", company="Bakkerij De Korf", email="info@dekorf.nl", phone="020 123 4567")
    fs.act("create_client", company="Kapsalon Knip", email="knip@kapsalon.nl", phone="06 36097402")
    app = _app(database_url, fs, ff, hy)
    first = _cycle(app)
    assert first["ff"] == (2, 2) and first["hy"][0] == 2 and first["fs"] == (0, 0), first
    assert sorted(c["phone"] for c in ff.state()["clients"]) == ["+31201234567", "+31636097402"]
    before = _canonical(app)
    assert sorted(phone for _, phone, _ in before) == ["020 123 4567", "06 36097402"]

    for service in (fs, ff, hy):
        service.clear_requests()
    for _ in range(2):  # FastFaktura's +31... is the connector's own write: no edit, nothing moves anywhere
        assert _cycle(app) == {"fs": (0, 0), "ff": (0, 0), "hy": (0, 0)}
    assert _canonical(app) == before, "no canonical change, not even a version"
    assert not _writes(fs.requests()) and not _writes(ff.requests()) and not _writes(hy.requests())
    assert [c["phone"] for c in fs.state()["clients"]] == ["020 123 4567", "06 36097402"]


def test_a_number_that_cannot_be_made_e164_fails_its_row_with_the_reason_and_sends_nothing(
    database_url: str, fs: FsSandbox, ff: FastFakturaHarness
) -> None:
    fs.act("create_client", company="Bakkerij De Korf", phone="020 123 4567")
    fs.act("create_client", company="Sakura KK", country="Japan", phone="03-1234-5678")  # no calling code known
    fs.act("create_client", company="Garage Piet", phone="020-1234567 na 17u")
    app = make_app(database_url, fs.connection("fs"), ff.connection("ff", receives=["client"]))
    app.sync("fs")
    [result] = app.push("ff")
    assert result.drain is not None and (result.drain.done, result.drain.failed) == (1, 2), result.drain

    posted = _writes(ff.requests())
    assert len(posted) == 1, "only the client that could be written was sent"
    assert [(c["name"], c["phone"]) for c in ff.state()["clients"]] == [("Bakkerij De Korf", "+31201234567")]
    with app.engine.connect() as conn:
        reasons = sorted(
            conn.execute(select(Outbox.last_error).where(Outbox.status == "failed")).scalars().all()  # type: ignore[call-overload]
        )
    assert reasons == [
        "client.phone: '020-1234567 na 17u' cannot be written in E.164: it contains letters ('nau')",
        "client.phone: '03-1234-5678' cannot be written in E.164: no calling code known for country 'JP'",
    ]

    ff.clear_requests()
    app.sync("fs")
    app.push("ff")
    assert not _writes(ff.requests()), "a refused client is not tried again until it changes"
