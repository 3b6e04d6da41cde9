"""The Ledgerly test kit (`tests.contract.harness.ContractHarness`) over its sandbox on a real socket."""

from __future__ import annotations

import os
from typing import Any

import httpx

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

    def rate_limit(self, limit: int | None, window_seconds: float) -> None:
        """Set the sandbox's own rate limit (None: off)."""
        self._post("/ratelimit", {"limit": limit, "window_seconds": window_seconds})

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
