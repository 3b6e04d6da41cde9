"""The Facturalia test kit: a sandbox on a real HTTPS socket plus what tests and the contract suite need.

`FacturaliaHarness` implements `tests.contract.harness.ContractHarness`. Facturalia is push only
(``readable = False``): pulls raise Unsupported, and `corrupt_one` raises NotImplementedError, because
a service the connector never reads from has nothing that could land in quarantine on a pull. The
control surface shares the sandbox's HTTPS port and is verified against the run's CA bundle too.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from connector.settings import Connection
from sandboxes.facturalia import FacturaliaSandbox

__all__ = ["KEY_ENV", "FacturaliaHarness"]

KEY_ENV = "CONNECTOR_TEST_FACTURALIA_KEY"
WRONG_KEY_ENV = "CONNECTOR_TEST_FACTURALIA_WRONG_KEY"
API_KEY = "fac_live_harness_key_123"
SCOPED_KEY = "fac_live_harness_scoped_456"


class FacturaliaHarness:
    """A running Facturalia sandbox and a client for its control surface."""

    provider_id = "facturalia"
    rate_limit_status = 429
    readable = False
    page_size = 10  # nothing is paged: the service has no list endpoint

    def __init__(self, server: FacturaliaSandbox) -> None:
        """Wrap a started sandbox."""
        self.server = server
        self.tls = ssl.create_default_context(cafile=server.ca_bundle)
        self.control = httpx.Client(base_url=server.control_url, verify=self.tls, timeout=60)

    @classmethod
    def start(cls) -> FacturaliaHarness:
        """Start a sandbox on a free loopback port (rate limiting off until a test sets it)."""
        server = FacturaliaSandbox(port=0, api_key=API_KEY, scoped_key=SCOPED_KEY, rate_limit=None)
        return cls(server.start())

    def stop(self) -> None:
        """Stop the sandbox."""
        self.control.close()
        self.server.stop()

    # -- ContractHarness ------------------------------------------------------------------------------

    def reset(self) -> None:
        """No records, no faults, rate limiting off, clock back to real time, 48 h key retention."""
        self.post("/reset")
        self.post("/ratelimit", {"limit": None})
        self.post("/idempotency", {"retention_seconds": 48 * 3600})

    def quirks(self, values: Mapping[str, Any]) -> None:
        """Switch quirks (`sandboxes.facturalia.quirks`)."""
        self.post("/quirks", dict(values))

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox clock on."""
        self.post("/clock", {"advance_seconds": seconds})

    def seed(self, clients: int, invoices: int) -> None:
        """Generated customers and invoices (invoices go through the service's create path)."""
        self.post("/seed", {"seed": 7, "customers": clients, "invoices": invoices})

    def connection(self, name: str = "c", *, wrong_key: bool = False, **overrides: Any) -> Connection:
        """A connection over HTTPS verified with the run's CA bundle; the key comes from an env variable."""
        os.environ[KEY_ENV] = API_KEY
        os.environ[WRONG_KEY_ENV] = "fac_live_not_a_key"
        values: dict[str, Any] = {
            "name": name,
            "provider": "facturalia",
            "base_url": self.server.base_url,
            "api_key_env": WRONG_KEY_ENV if wrong_key else KEY_ENV,
            "ca_bundle": self.server.ca_bundle,
            "max_attempts": 3,
            "options": {"default_product_code": "CONSULT"},
        }
        values.update(overrides)
        return Connection(**values)

    def faults(self, rules: list[dict[str, Any]]) -> None:
        """Install fault rules (shared control format)."""
        self.post("/faults", {"rules": rules})

    def rate_limit(self, limit: int | None, window_seconds: float, phase_seconds: float = 0.0) -> None:
        """Set the sandbox's own rate limit (None: off). Windows start at epoch multiples plus `phase_seconds`."""
        self.post("/ratelimit", {"limit": limit, "window_seconds": window_seconds, "phase_seconds": phase_seconds})

    def corrupt_one(self) -> tuple[str, str]:
        """Not possible: nothing is ever pulled from a push-only service, so nothing can be quarantined."""
        raise NotImplementedError("Facturalia is push only: the connector never reads records from it")

    def request_statuses(self) -> list[int]:
        """The statuses of every API request answered since the last `reset` (0: dropped, no answer)."""
        return [int(entry["status"]) for entry in self.requests()]

    def invoice_count(self) -> int:
        """How many invoices the sandbox holds."""
        return int(self.get("/state/counts")["invoices"])

    def sample_invoice_payload(self) -> dict[str, Any]:
        """A valid create payload as the service takes it (money as Decimal, sent as exact JSON numbers)."""
        return {
            "invoice": {"date": "2025-09-26", "due_days": 30, "language": "nl"},
            "customer": {"name": "ABCD BV", "vat_number": "BE0123456749", "country": "BE"},
            "lines": [
                {"product_code": "CONSULT", "description": "Advies", "quantity": Decimal("1"),
                 "unit_price": Decimal("120.00"), "vat_rate": 21},
                {"product_code": "HOSTING", "description": "Hosting", "quantity": Decimal("3"),
                 "unit_price": Decimal("9.995"), "vat_rate": 6},
            ],
        }

    # -- extras for the Facturalia tests ---------------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The key without scopes."""
        return API_KEY

    @property
    def scoped_key(self) -> str:
        """A key with scopes on but without ``invoices:create``."""
        return SCOPED_KEY

    def post(self, path: str, body: Any = None) -> Any:
        """POST to the control surface and return the decoded answer."""
        response = self.control.post(path, json=body if body is not None else {})
        response.raise_for_status()
        return response.json()

    def get(self, path: str) -> Any:
        """GET from the control surface."""
        response = self.control.get(path)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        """The sandbox's truth: invoices (with request and answer), customers, products."""
        return dict(self.get("/state"))

    def requests(self) -> list[dict[str, Any]]:
        """The API request log."""
        return list(self.get("/requests"))


KIT = FacturaliaHarness  # found by tests/contract/harness.py:kits
