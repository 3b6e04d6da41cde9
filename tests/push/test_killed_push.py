"""A push killed while the service is making the record does not make it twice.

Found by the replica test: a replica SIGKILLed after hydra had made an invoice but before the push committed
its link left the outbox row pending as if nothing had been sent, and the replica that took over created the
invoice again. A create at a service without idempotency keys is now marked in flight before it is sent, so
whoever drains the row next looks for the record by the connector's marker first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from connector.store.tables import Outbox
from tests.daemon.harness import combine_toml, wait_for
from tests.hydra.harness import HydraHarness
from tests.support import REPO, FsSandbox, make_app


def test_a_push_killed_while_hydra_makes_the_invoice_does_not_make_it_twice(
    database_url: str, fs: FsSandbox, hy: HydraHarness, tmp_path: Path
) -> None:
    client = fs.act("create_client", company="Bakkerij De Korf", email="info@dekorf.nl")
    fs.act("create_invoice", clientnr=client["clientnr"],
           lines=[{"amount": 2, "description": "Advies", "price": "95.00", "tax_rate": 21}])
    conf = combine_toml(tmp_path / "c.toml", fs.connections_toml(tmp_path / "fs.toml", "fs"),
                        hy.connections_toml(tmp_path / "hy.toml", "hy", receives=["client", "invoice"]))
    app = make_app(database_url, fs.connection("fs"), hy.connection("hy", receives=["client", "invoice"]))
    app.sync("fs")
    # hydra makes the invoice only once the test lets go of it (clearing the faults): the push is killed while
    # it waits for the answer, however slowly the machine runs.
    hy.faults([{"kind": "slow", "seconds": 600, "times": 1, "method": "POST", "path_prefix": "/api/invoices"}])
    push = subprocess.Popen(
        [sys.executable, "-m", "connector", "push", "--connection", "hy"], cwd=REPO,
        env={**os.environ, "CONNECTOR_DATABASE_URL": database_url, "CONNECTOR_CONNECTIONS_FILE": str(conf)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        def invoice_held() -> bool:
            assert push.poll() is None, "the push ended before it was killed"
            return any(rule["fired"] for rule in hy.get("/faults")["rules"])

        wait_for(invoice_held, 30, "the sandbox to hold the invoice's POST", every=0.01)
        push.send_signal(signal.SIGKILL)
        push.wait()
    finally:
        if push.poll() is None:
            push.kill()
        hy.control.delete("/faults").raise_for_status()
    wait_for(lambda: [i for i in hy.state()["invoices"] if not i["deleted"]], 10, "hydra to make the invoice")

    [result] = app.push("hy")

    assert result.drain is not None and result.drain.failed == 0, result.drain
    assert len(hy.state()["invoices"]) == 1, "the retry found the invoice the killed push had made"
    [invoice] = hy.state()["invoices"]
    assert len(invoice["rows"]) == 1, "and finished it"
    with app.engine.connect() as conn:
        statuses = conn.execute(select(Outbox.status)).scalars().all()  # type: ignore[call-overload]
    assert sorted(statuses) == ["done", "done"]
