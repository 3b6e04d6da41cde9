"""The FactuurSturen kit for the provider contract suite (tests/contract/harness.py)."""

from __future__ import annotations

from typing import Any

from connector.settings import Connection
from tests.support import FsSandbox


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

    def rate_limit(self, limit: int | None, window_seconds: float) -> None:
        """Set the sandbox's own limit (403 with Remaining 0 past it)."""
        self.sandbox.post("/ratelimit", {"limit": limit, "window_seconds": window_seconds})

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


KIT = FactuurSturenHarness  # found by tests/contract/harness.py:kits
