"""A client archived at one service is archived at FastFaktura too (its DELETE archives); a service that cannot
archive gets an `unsupported` row with the reason; the next cycle plans nothing."""

from __future__ import annotations

from sqlalchemy import select

from connector.store.tables import Outbox
from tests.fastfaktura.harness import FastFakturaHarness
from tests.support import FsSandbox, make_app


def test_a_client_archived_at_factuursturen_is_archived_at_fastfaktura(
    database_url: str, fs: FsSandbox, ff: FastFakturaHarness
) -> None:
    fs.act("create_client", company="Bakkerij De Korf", email="info@dekorf.nl")
    app = make_app(database_url, fs.connection("fs"), ff.connection("ff", receives=["client"]))
    app.sync("fs")
    app.push("ff")
    [client] = ff.state()["clients"]
    assert client["archived_at"] is None

    [fs_client] = fs.state()["clients"]
    fs.act("edit_client", clientnr=fs_client["clientnr"], changes={"active": "false"})
    app.sync("fs")
    [result] = app.push("ff")
    assert result.drain is not None and result.drain.done == 1, result.drain
    [client] = ff.state()["clients"]
    assert client["archived_at"] is not None, "archived there too (still readable)"

    app.sync("ff")  # reading the archived copy back changes nothing
    app.sync("fs")
    [again] = app.push("ff")
    assert again.planned == 0 and again.drain is not None and again.drain.requests == 0
    with app.engine.connect() as conn:
        ops = conn.execute(select(Outbox.operation, Outbox.status)).all()  # type: ignore[call-overload]
    assert ("archive", "done") in ops
