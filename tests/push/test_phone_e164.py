"""FactuurSturen clients with national phone numbers reach FastFaktura in E.164 (it refuses anything else); the
read-back is recognised as the connector's own write, and a number that cannot be made E.164 fails its row with
the reason, without a request, while the other clients go through."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from connector.app import App
from connector.store.tables import Client, Conflict, Outbox
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


def _fs_clients(fs: FsSandbox) -> list[tuple[str, str, str]]:
    return sorted((c["company"], c["email"], c["phone"]) for c in fs.state()["clients"])


def _korf_everywhere(database_url: str, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness) -> App:
    """One FactuurSturen client with a national phone, after a cycle has put it at FastFaktura and hydra."""
    fs.act("create_client", company="Bakkerij De Korf", email="info@dekorf.nl", phone="020 123 4567")
    app = _app(database_url, fs, ff, hy)
    _cycle(app)
    return app


def test_an_edit_at_fastfaktura_moves_the_edited_field_only_not_its_phone_spelling(
    database_url: str, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness
) -> None:
    app = _korf_everywhere(database_url, fs, ff, hy)
    [client] = ff.state()["clients"]
    assert client["phone"] == "+31201234567"

    ff.act("edit_client", client_id=client["id"], changes={"email": "bestel@dekorf.nl"})  # a person, at FastFaktura
    _cycle(app)

    assert [(name, phone) for name, phone, _ in _canonical(app)] == [("Bakkerij De Korf", "020 123 4567")]
    assert _fs_clients(fs) == [("Bakkerij De Korf", "bestel@dekorf.nl", "020 123 4567")]
    assert [(c["email"], c["phone"]) for c in hy.state()["customers"]] == [("bestel@dekorf.nl", "020 123 4567")]
    assert _cycle(app) == {"fs": (0, 0), "ff": (0, 0), "hy": (0, 0)}, "settled"


def test_a_field_changed_elsewhere_is_not_undone_by_an_edit_of_another_field(
    database_url: str, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness
) -> None:
    app = _korf_everywhere(database_url, fs, ff, hy)
    [fs_client], [ff_client] = fs.state()["clients"], ff.state()["clients"]

    # Between cycles: the e-mail is changed at FactuurSturen and, before FastFaktura has it, the name there.
    fs.act("edit_client", clientnr=fs_client["clientnr"], changes={"email": "bestel@dekorf.nl"})
    ff.act("edit_client", client_id=ff_client["id"], changes={"name": "De Korf B.V."})
    _cycle(app)
    _cycle(app)

    with app.engine.connect() as conn:
        conflicts = conn.execute(select(Conflict.field, Conflict.versions)).all()  # type: ignore[call-overload]
        assert conflicts == [], "different fields: nobody's change is contested"
        [(name, email)] = conn.execute(select(Client.name, Client.email)).all()  # type: ignore[call-overload]
    assert (name, email) == ("De Korf B.V.", "bestel@dekorf.nl")
    assert [(c["name"], c["email"]) for c in ff.state()["clients"]] == [("De Korf B.V.", "bestel@dekorf.nl")]
    assert _fs_clients(fs) == [("De Korf B.V.", "bestel@dekorf.nl", "020 123 4567")]
    assert _cycle(app) == {"fs": (0, 0), "ff": (0, 0), "hy": (0, 0)}, "settled"
