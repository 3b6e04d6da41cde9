"""Both sides changed a client between cycles: one conflict row with the policy's decision, and convergence."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from connector.app import App
from connector.store.tables import Conflict
from tests.fastfaktura.harness import FastFakturaHarness
from tests.support import FsSandbox, make_app, run_cli


def _cycle(app: App) -> None:
    for name in ("ff", "fs"):
        app.sync(name)
    app.push()


# FastFaktura is pulled first in a cycle, so the conflict shows when FactuurSturen's edit arrives: newest_wins
# takes FactuurSturen's (it has a modification time, FastFaktura has none); source_of_truth keeps the canonical
# value, which is FastFaktura's (the source of truth for clients).
@pytest.mark.parametrize(("policy", "winner", "decided"), [
    ("newest_wins", "fs", "info@fjord.no"),
    ("source_of_truth", "canonical", "hei@fjord.no"),
])
def test_one_conflict_row_and_every_service_converges(
    sqlite_url: str, fs: FsSandbox, ff: FastFakturaHarness, policy: str, winner: str, decided: str
) -> None:
    client = ff.act("create_client", name="Fjord Design AS", email="post@fjord.no", phone="+4791234567")
    conflict_policy = {"client": policy}
    app = make_app(
        sqlite_url,
        ff.connection("ff", receives=["client"], source_of_truth=["client"], conflict_policy=conflict_policy),
        fs.connection("fs", receives=["client"], conflict_policy=conflict_policy),
    )
    _cycle(app)
    [fs_client] = fs.state()["clients"]
    assert fs_client["email"] == "post@fjord.no"

    # Between cycles a person edits the e-mail at both services.
    ff.act("edit_client", client_id=client["id"], changes={"email": "hei@fjord.no"})
    fs.act("edit_client", clientnr=fs_client["clientnr"], changes={"email": "info@fjord.no"})
    _cycle(app)
    _cycle(app)

    with app.engine.connect() as conn:
        rows = conn.execute(select(Conflict.field, Conflict.policy, Conflict.decision, Conflict.versions)).all()  # type: ignore[call-overload]
    assert len(rows) == 1, rows
    field, applied, decision, versions = rows[0]
    assert "email" in field and applied == policy and decision == winner
    assert {versions["canonical"]["email"], versions["fs"]["email"]} == {"hei@fjord.no", "info@fjord.no"}
    [ff_client] = [c for c in ff.state()["clients"] if c["id"] == client["id"]]
    [fs_client] = fs.state()["clients"]
    assert ff_client["email"] == decided and fs_client["email"] == decided
    _cycle(app)  # a further cycle moves nothing more
    assert [(r.target, r.planned) for r in app.push()] == [("ff", 0), ("fs", 0)]
    listing = run_cli("conflicts", env={"CONNECTOR_DATABASE_URL": sqlite_url})
    assert listing.returncode == 0 and "1 conflict(s)" in listing.stdout and f"decision={winner}" in listing.stdout
    assert re.search(r" at \d{4}-\d\d-\d\dT[\d:.]+\+00:00$", listing.stdout.splitlines()[1]), listing.stdout
    [row] = json.loads(run_cli("conflicts", "--json", env={"CONNECTOR_DATABASE_URL": sqlite_url}).stdout)
    assert row["decision"] == winner and row["policy"] == policy and "email" in row["field"]
    assert row["versions"] == versions and datetime.fromisoformat(row["created_at"]).utcoffset() == timedelta(0)
