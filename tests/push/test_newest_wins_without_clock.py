"""`newest_wins` when a side keeps no modification time (FactuurSturen clients: absent, or a date alone, PROVIDERS.md
decision 23): the change the connector saw later wins, whichever service it came from; before, the side without a
time lost every conflict."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connector.app import App
from connector.store.tables import Conflict
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, make_app


def _edit(fs: FsSandbox, hy: HydraHarness, side: str, clientnr: str, customer_id: str, email: str) -> None:
    if side == "fs":
        fs.act("edit_client", clientnr=clientnr, changes={"email": email})
    else:
        hy.act("edit_customer", id=customer_id, changes={"email": email})


@pytest.mark.parametrize("stamp", ["absent", "date", "datetime"])
@pytest.mark.parametrize("later", ["fs", "hy"])
def test_the_change_seen_later_wins_everywhere(
    database_url: str, fs: FsSandbox, hy: HydraHarness, stamp: str, later: str
) -> None:
    fs.post("/quirks", {"client_timestamp": stamp})
    hy.act("create_customer", name="Klok Loos BV", email="start@klokloos.nl")
    policy = {"client": "newest_wins"}
    app: App = make_app(
        database_url,
        fs.connection("fs", receives=["client"], conflict_policy=policy),
        hy.connection("hy", receives=["client"], conflict_policy=policy),
    )
    app.sync("hy")  # the canonical client carries hydra's modification time
    app.push("fs")
    app.sync("fs")
    [customer] = hy.state()["customers"]
    [created] = fs.state()["clients"]

    earlier = "hy" if later == "fs" else "fs"
    _edit(fs, hy, earlier, created["clientnr"], customer["id"], f"{earlier}@klokloos.nl")
    app.sync(earlier)  # the connector sees the first edit ...
    _edit(fs, hy, later, created["clientnr"], customer["id"], f"{later}@klokloos.nl")
    app.sync(later)  # ... and the other one later: a conflict, decided for the change seen later
    app.push()
    app.sync("fs")
    app.sync("hy")

    expected = f"{later}@klokloos.nl"
    [fs_client] = fs.state()["clients"]
    [customer] = hy.state()["customers"]
    assert (fs_client["email"], customer["email"]) == (expected, expected)
    with app.engine.connect() as conn:
        decisions = conn.execute(select(Conflict.decision)).scalars().all()  # type: ignore[call-overload]
    assert decisions == [later]
    assert [r.planned for r in app.push()] == [0, 0], "nothing more moves"
