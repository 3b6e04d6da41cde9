"""The Ledgerly test kit (`tests.contract.harness.ContractHarness`) over its sandbox on a real socket."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

from connector.settings import Connection
from tests.ledgerly.sandbox import LedgerlySandbox

__all__ = ["KIT", "LedgerlyHarness"]

KEY_ENV = "CONNECTOR_TEST_LEDGERLY_KEY"
WRONG_KEY_ENV = "CONNECTOR_TEST_LEDGERLY_WRONG_KEY"


class LedgerlyHarness:
    """A running Ledgerly sandbox and a client for its control surface."""

    provider_id = "ledgerly"
    rate_limit_status = 429
    readable = True
    page_size = 1  # one record per page: even the smallest seed of the suite needs more requests than a window

    def __init__(self, server: LedgerlySandbox) -> None:
        """Wrap a started sandbox."""
        self.server = server
        self.control = httpx.Client(base_url=server.control_url, timeout=60)

    @classmethod
    def start(cls) -> LedgerlyHarness:
        """Start a sandbox on a free loopback port."""
        return cls(LedgerlySandbox(port=0).start())

    def stop(self) -> None:
        """Stop the sandbox."""
        self.control.close()
        self.server.stop()

    def reset(self) -> None:
        """No records, faults or rate limit; real time."""
        self._post("/reset")
        self._post("/ratelimit", {"limit": None})

    def seed(self, clients: int, invoices: int) -> None:
        """Generated clients and invoices."""
        self._post("/seed", {"seed": 7, "clients": clients, "invoices": invoices})

    def connection(self, name: str = "c", *, wrong_key: bool = False, **overrides: Any) -> Connection:
        """A connection to the sandbox; the token comes from an environment variable."""
        os.environ[KEY_ENV] = str(self.server.credentials["api_key"])
        os.environ[WRONG_KEY_ENV] = "not-the-token"
        values: dict[str, Any] = {
            "name": name,
            "provider": "ledgerly",
            "base_url": self.server.base_url,
            "api_key_env": WRONG_KEY_ENV if wrong_key else KEY_ENV,
            "sandbox": True,
            "safety_lag_seconds": 0,
            "max_attempts": 3,
            **overrides,
        }
        return Connection(**values)

    def faults(self, rules: list[dict[str, Any]]) -> None:
        """Install fault rules (sandboxes/_control.py format)."""
        self._post("/faults", {"rules": rules})

    def rate_limit(self, limit: int | None, window_seconds: float, phase_seconds: float = 0.0) -> None:
        """Set the sandbox's own rate limit (None: off). Windows start at epoch multiples plus `phase_seconds`."""
        self._post("/ratelimit", {"limit": limit, "window_seconds": window_seconds, "phase_seconds": phase_seconds})

    def quirks(self, values: Mapping[str, Any]) -> None:
        """Ledgerly's sandbox has no quirk switches: only the defaults are asked for."""
        if values:
            raise ValueError(f"ledgerly has no quirks: {dict(values)}")

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox clock on."""
        self._post("/clock", {"advance_seconds": seconds})

    # -- readable services (ContractHarness) ----------------------------------------------------------

    def seed_history(self) -> None:
        """Three clients and twelve invoices: twelve pages at one record a page."""
        self.seed(clients=3, invoices=12)

    def change_as_a_person(self) -> None:
        """Mark an open invoice paid and write a new one."""
        self._post("/act/pay_and_add")

    def delete_behind_the_listing(self) -> int:
        """Ledgerly deletes nothing: no sweep has anything to find."""
        return 0

    def assert_store_matches(self, engine: Engine, connection: str) -> None:
        """The store's live invoices are the sandbox's, by id, with their totals and status (plain SQL)."""
        truth = {str(i["id"]): (int(i["total_cents"]), "paid" if i["status"] == "paid" else "sent")
                 for i in self.control.get("/state").json()["invoices"]}
        query = text("SELECT l.remote_id, i.total_minor, i.status FROM link l JOIN invoice i ON i.id = l.entity_id "
                     "WHERE l.connection = :c AND l.entity_kind = 'invoice' AND l.remote_deleted_at IS NULL")
        with engine.connect() as conn:
            stored = {str(r): (int(t), str(s)) for r, t, s in conn.execute(query, {"c": connection})}
        assert stored == truth

    def corrupt_one(self) -> tuple[str, str]:
        """One invoice's ``total_cents`` becomes unreadable."""
        answer = self._post("/corrupt")
        return str(answer["kind"]), str(answer["id"])

    def request_statuses(self) -> list[int]:
        """Statuses of the API requests logged since the last reset (0: dropped)."""
        return [int(entry["status"]) for entry in self.control.get("/requests").json()]

    def invoice_count(self) -> int:
        """How many invoices the sandbox holds."""
        return int(self.control.get("/state/counts").json()["invoices"])

    def sample_invoice_payload(self) -> dict[str, Any]:
        """Not needed: Ledgerly is readable."""
        raise NotImplementedError("Ledgerly is readable: the suite pulls instead of writing")

    def _post(self, path: str, body: Any = None) -> Any:
        response = self.control.post(path, json=body if body is not None else {})
        response.raise_for_status()
        return response.json()


KIT = LedgerlyHarness  # found by tests/contract/harness.py:kits through the provider's package
