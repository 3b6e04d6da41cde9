"""A window that ends in the service's current second must not hide a shifted page (chaos seed 705).

API Platform pages by page number and keeps whole seconds in ``updatedAt``. A window ending "now" (safety lag
0) still gains records while it is listed: one created in that same second is stamped with it. A deletion
before the page being read moves every later record a place forward, and the creation puts the total back
where it was, so the shrink check sees nothing and the first record of the next page is skipped for good
(its ``updatedAt`` is old, so no later window reads it again). The clock is frozen here, so "the same second"
is certain rather than likely.
"""

from __future__ import annotations

import threading

from tests.daemon.harness import wait_for
from tests.hydra.harness import HydraHarness
from tests.hydra.truth import assert_store_matches
from tests.support import make_app


def test_a_deletion_and_a_creation_in_the_window_s_last_second_lose_no_invoice(
    database_url: str, hy: HydraHarness
) -> None:
    hy.seed(clients=3, invoices=25, seed=5)
    hy.clock(frozen=True)
    app = make_app(database_url, hy.connection("hy", page_size=10))
    hy.faults([{"kind": "slow", "seconds": 1.0, "method": "GET", "path_prefix": "/api/invoices", "after": 1,
                "times": 1}])
    first = threading.Thread(target=app.sync, args=("hy",), kwargs={"streams": ["invoices"]})
    first.start()
    wait_for(lambda: hy.get("/faults")["rules"][0]["fired"] >= 1 or None, 60, "the second invoice page held")
    live = sorted(int(i["id"]) for i in hy.state()["invoices"] if not i["deleted"])
    hy.act("delete_invoice", id=live[2])  # on the first page, already read
    customer = hy.state()["customers"][0]["id"]
    hy.act("create_invoice", customer=customer, send=True,
           rows=[{"productName": "Werk", "quantity": 1, "netPrice": "10.00", "vatRate": "21.00", "unit": "uur"}])
    first.join(timeout=120)
    assert not first.is_alive()

    app.sync("hy")
    app.sync("hy", streams=["sweep"])

    assert_store_matches(app.engine, "hy", hy.state())
