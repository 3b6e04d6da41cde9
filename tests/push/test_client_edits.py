"""A client's e-mail edited at FastFaktura reaches FactuurSturen and hydra and is not pushed back; edits at two
services between cycles give one conflict row with the policy's decision, and all three services converge."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from connector.app import App
from connector.store.tables import Conflict
from tests.fastfaktura.harness import FastFakturaHarness
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app

SERVICES = ("ff", "fs", "hy")



def _app(database_url: str, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness, policy: str) -> App:
    conflicts = {"client": policy}
    return make_app(
        database_url,
        ff.connection("ff", receives=["client"], source_of_truth=["client"], conflict_policy=conflicts),
        fs.connection("fs", receives=["client"], conflict_policy=conflicts),
        hy.connection("hy", receives=["client"], conflict_policy=conflicts),
    )


def _cycle(app: App) -> list[tuple[str, int]]:
    """Pull every service, then push; return (target, pushes planned) per target."""
    for name in SERVICES:
        app.sync(name)
    results = app.push()
    for result in results:
        assert result.drain is not None and result.drain.failed == 0, (result.target, result.drain.errors)
    return [(r.target, r.planned) for r in results]


def _emails(fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness) -> dict[str, set[str]]:
    return {
        "ff": {str(c["email"]) for c in ff.state()["clients"]},
        "fs": {str(c["email"]) for c in fs.state()["clients"]},
        "hy": {str(c["email"]) for c in hy.state()["customers"]},
    }


def _writes(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]


def test_an_email_edited_at_fastfaktura_reaches_the_others_and_is_not_pushed_back(
    database_url: str, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness
) -> None:
    client = ff.act("create_client", name="Fjord Design AS", email="post@fjord.no", phone="+4791234567")
    app = _app(database_url, fs, ff, hy, "source_of_truth")
    _cycle(app)
    assert _emails(fs, ff, hy) == {"ff": {"post@fjord.no"}, "fs": {"post@fjord.no"}, "hy": {"post@fjord.no"}}

    ff.act("edit_client", client_id=client["id"], changes={"email": "hei@fjord.no"})
    ff.clear_requests()
    assert sorted(_cycle(app)) == [("ff", 0), ("fs", 1), ("hy", 1)], "to the two others, not back to FastFaktura"
    assert _emails(fs, ff, hy) == {"ff": {"hei@fjord.no"}, "fs": {"hei@fjord.no"}, "hy": {"hei@fjord.no"}}
    assert not _writes(ff.requests()), "nothing was written back to where the edit came from"

    for _ in range(2):  # the echoes of the two pushes are recognised: no ping-pong
        assert sorted(_cycle(app)) == [("ff", 0), ("fs", 0), ("hy", 0)]
    assert not _writes(ff.requests())


@pytest.mark.parametrize(
    ("policy", "winner", "decided"),
    [("newest_wins", "hy", "info@fjord.no"), ("source_of_truth", "canonical", "hei@fjord.no")],
)
def test_edits_at_two_services_give_one_conflict_and_all_three_converge(
    database_url: str, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness, policy: str, winner: str, decided: str
) -> None:
    client = ff.act("create_client", name="Fjord Design AS", email="post@fjord.no")
    app = _app(database_url, fs, ff, hy, policy)
    _cycle(app)
    [customer] = hy.state()["customers"]

    # Between cycles a person edits the e-mail at FastFaktura (the source of truth) and at hydra.
    ff.act("edit_client", client_id=client["id"], changes={"email": "hei@fjord.no"})
    hy.act("edit_customer", id=customer["id"], changes={"email": "info@fjord.no"})
    _cycle(app)
    _cycle(app)

    with app.engine.connect() as conn:
        rows = conn.execute(select(Conflict.field, Conflict.policy, Conflict.decision)).all()  # type: ignore[call-overload]
    assert len(rows) == 1, rows
    field, applied, decision = rows[0]
    assert "email" in field and applied == policy and decision == winner
    assert _emails(fs, ff, hy) == {"ff": {decided}, "fs": {decided}, "hy": {decided}}
    assert sorted(_cycle(app)) == [("ff", 0), ("fs", 0), ("hy", 0)], "converged: nothing more moves"
