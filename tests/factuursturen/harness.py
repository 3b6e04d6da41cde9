"""The FactuurSturen kit for the provider contract suite (tests/contract/harness.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from connector.settings import Connection
from tests import truth
from tests.support import FsSandbox, seed_until_yesterday


class FactuurSturenHarness:
    """`ContractHarness` over the FactuurSturen sandbox."""

    provider_id = "factuursturen"
    rate_limit_status = 403  # a spent budget is answered 403 with X-RateLimit-Remaining: 0
    readable = True
    page_size = 20

    def __init__(self, sandbox: FsSandbox) -> None:
        """Wrap a started sandbox."""
        self.sandbox = sandbox

    @classmethod
    def start(cls) -> FactuurSturenHarness:
        """Start a sandbox on a free port."""
        return cls(FsSandbox.start())

    def stop(self) -> None:
        """Stop the sandbox."""
        self.sandbox.stop()

    def reset(self) -> None:
        """Empty, no faults, no rate limit, real time."""
        self.sandbox.reset()
        self.sandbox.clear_requests()

    def quirks(self, values: Mapping[str, Any]) -> None:
        """Switch quirks (`sandboxes.factuursturen.quirks`)."""
        self.sandbox.post("/quirks", dict(values))

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox clock on."""
        self.sandbox.post("/clock", {"advance_seconds": seconds})

    def seed(self, clients: int, invoices: int) -> None:
        """Seeded clients and invoices (with lines and payments)."""
        self.sandbox.seed(seed=11, clients=clients, invoices=invoices)

    def connection(self, name: str = "c", *, wrong_key: bool = False, **overrides: Any) -> Connection:
        """A connection to the sandbox; `wrong_key` keeps the user name but spoils the key."""
        conn = self.sandbox.connection(name, **overrides)
        if wrong_key:
            import os

            os.environ["CONNECTOR_TEST_FS_WRONG_KEY"] = "not-the-key"
            conn = conn.model_copy(update={"api_key_env": "CONNECTOR_TEST_FS_WRONG_KEY"})
        return conn

    def faults(self, rules: list[dict[str, Any]]) -> None:
        """Install fault rules."""
        self.sandbox.faults(*rules)

    def rate_limit(self, limit: int | None, window_seconds: float, phase_seconds: float = 0.0) -> None:
        """Set the sandbox's own limit (403 with Remaining 0 past it), windows from epoch multiples + phase."""
        body = {"limit": limit, "window_seconds": window_seconds, "phase_seconds": phase_seconds}
        self.sandbox.post("/ratelimit", body)

    def corrupt_one(self) -> tuple[str, str]:
        """Give the first invoice a non-numeric total."""
        first = self.sandbox.state()["invoices"][0]
        invoice_id = str(first["id"])
        self.sandbox.act("corrupt_invoice", invoice=invoice_id, field="totalintax", value="12,3a")
        return "invoice", invoice_id

    def request_statuses(self) -> list[int]:
        """Statuses of the API requests answered since the last reset."""
        return [int(r["status"]) for r in self.sandbox.requests()]

    def invoice_count(self) -> int:
        """Invoices at the sandbox now."""
        return len(self.sandbox.state()["invoices"])

    def sample_invoice_payload(self) -> dict[str, Any]:
        """A minimal invoice to create (FactuurSturen is readable, so the suite does not need it)."""
        return {"clientnr": "1", "action": "save", "savename": "contract", "lines": [{"amount": 1, "price": 10}]}

    # -- readable services ------------------------------------------------------------------------------

    def seed_history(self) -> None:
        """1,100 invoices of 30 clients over 400 days: three pages at the default 500, more under a count cap."""
        seed_until_yesterday(self.sandbox, days=400, seed=21, clients=30, invoices=1100)

    def change_as_a_person(self) -> None:
        """Pay off one open invoice (it leaves the open set), delete another, edit a client, invoice it anew."""
        state = self.sandbox.state()
        by_sent = sorted(state["invoices"], key=lambda i: i["sent"])
        open_old = [i for i in by_sent if float(i["open"]) > 0][:2]
        self.sandbox.act("register_payment", invoice=open_old[0]["id"], amount=str(open_old[0]["open"]))
        self.sandbox.act("delete_invoice", invoice=open_old[1]["id"])
        client = state["clients"][0]
        self.sandbox.act("edit_client", clientnr=client["clientnr"], changes={"city": "Harlingen"})
        self.sandbox.act("create_invoice", clientnr=client["clientnr"],
                         lines=[{"amount": 2, "description": "Advies", "tax_rate": 21, "price": "75.00"}])

    def delete_behind_the_listing(self) -> int:
        """Delete a paid invoice: it was in no open set, and nothing lists what is gone."""
        paid = next(i for i in self.sandbox.state()["invoices"] if float(i["open"]) == 0)
        self.sandbox.act("delete_invoice", invoice=paid["id"])
        return 1

    def assert_store_matches(self, engine: Engine, connection: str) -> None:
        """Every client, invoice, line and payment once, amounts exact (`tests.truth`)."""
        truth.assert_store_matches(engine, connection, self.sandbox.state())
KIT = FactuurSturenHarness  # found by tests/contract/harness.py:kits
