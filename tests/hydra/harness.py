"""The Hydra test kit: a sandbox on a real socket plus what tests and the contract suite need.

`HydraHarness` implements `tests.contract.harness.ContractHarness` and adds the helpers this package's
tests use (acts, truth, flavour, request log, a connections file for CLI runs). The bearer token
reaches the connector through an environment variable, as in production.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from connector.settings import Connection
from sandboxes.hydra import HydraSandbox
from tests.hydra import truth

__all__ = ["KEY_ENV", "TOKEN", "WRONG_KEY_ENV", "WRONG_TOKEN", "HydraHarness"]

KEY_ENV = "CONNECTOR_TEST_HY_KEY"
WRONG_KEY_ENV = "CONNECTOR_TEST_HY_WRONG_KEY"
TOKEN = "hy-test-token-4b1d"
WRONG_TOKEN = "hy-not-the-token-77"


class HydraHarness:
    """A running Hydra sandbox and a client for its control surface."""

    provider_id = "hydra"
    rate_limit_status = 429
    readable = True
    page_size = 10  # itemsPerPage; seeding more than 10 records spans several pages

    def __init__(self, server: HydraSandbox) -> None:
        """Wrap a started sandbox."""
        self.server = server
        self.control = httpx.Client(base_url=server.control_url, timeout=120)

    @classmethod
    def start(cls, flavour: str = "3") -> HydraHarness:
        """Start a sandbox on a free loopback port (no rate limit, like the real app)."""
        return cls(HydraSandbox(port=0, token=TOKEN, flavour=flavour).start())

    def stop(self) -> None:
        """Stop the sandbox."""
        self.control.close()
        self.server.stop()

    @property
    def base_url(self) -> str:
        """The API root (``http://127.0.0.1:PORT/api``)."""
        return self.server.base_url

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``: IRIs and links are paths on it."""
        return self.base_url.removesuffix("/api")

    # -- ContractHarness ------------------------------------------------------------------------------

    def reset(self) -> None:
        """No records, no faults, no rate limit, real time, the default flavour."""
        self.post("/reset")
        self.post("/ratelimit", {"limit": None})

    def quirks(self, values: Mapping[str, Any]) -> None:
        """Switch quirks (`sandboxes.hydra.quirks`, the flavour among them)."""
        self.post("/quirks", dict(values))

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox clock on."""
        self.post("/clock", {"advance_seconds": seconds})

    def seed(self, clients: int, invoices: int, **spec: Any) -> dict[str, int]:
        """Generated customers and invoices over the year before yesterday; returns the counts.

        ``spec`` overrides the seed spec (seed, lines_per_invoice, start_date, end_date, payment_methods).
        """
        end = date.today() - timedelta(days=1)
        values = {"seed": 7, "customers": clients, "invoices": invoices, "start_date": (end - timedelta(days=365)),
                  "end_date": end, **spec}
        return dict(self.post("/seed", {k: str(v) if isinstance(v, date) else v for k, v in values.items()}))

    def connection(self, name: str = "c", *, wrong_key: bool = False, **overrides: Any) -> Connection:
        """A connection to the sandbox; the token comes from an environment variable."""
        os.environ[KEY_ENV] = TOKEN
        os.environ[WRONG_KEY_ENV] = WRONG_TOKEN
        values: dict[str, Any] = {
            "name": name,
            "provider": "hydra",
            "base_url": self.base_url,
            "api_key_env": WRONG_KEY_ENV if wrong_key else KEY_ENV,
            "sandbox": True,
            "safety_lag_seconds": 0,
            "max_attempts": 3,
            "page_size": 100,
        }
        values.update(overrides)
        return Connection(**values)

    def faults(self, rules: list[dict[str, Any]]) -> None:
        """Install fault rules (sandboxes/_control.py format)."""
        self.post("/faults", {"rules": rules})

    def rate_limit(self, limit: int | None, window_seconds: float, phase_seconds: float = 0.0) -> None:
        """Set the sandbox's own rate limit (None: off). Windows start at epoch multiples plus `phase_seconds`."""
        self.post("/ratelimit", {"limit": limit, "window_seconds": window_seconds, "phase_seconds": phase_seconds})

    def corrupt_one(self) -> tuple[str, str]:
        """Give the first row of one invoice an unreadable ``netPrice`` ("12,3a")."""
        victim = next(i for i in self.state()["invoices"] if not i["deleted"] and i["rows"])
        self.act("corrupt_invoice", id=victim["id"], row="first", field="netPrice", value="12,3a")
        return "invoice", str(victim["id"])

    def request_statuses(self) -> list[int]:
        """Statuses of the API requests logged so far (0: answered without a response)."""
        return [int(entry["status"]) for entry in self.requests()]

    def invoice_count(self) -> int:
        """How many live invoices the sandbox holds."""
        return int(self.get("/state/counts")["invoices"])

    def sample_invoice_payload(self) -> dict[str, Any]:
        """A valid POST /invoices body for a customer created for it."""
        customer = self.act("create_customer", name="Sample Klant B.V.", email="sample@example.nl")
        return {"customer": f"/api/customers/{customer['id']}", "date": date.today().isoformat()}

    # -- readable services (ContractHarness) ----------------------------------------------------------

    def seed_history(self) -> None:
        """230 invoices of 25 customers: three pages at the default 100 a page, more under a lower maximum."""
        self.seed(clients=25, invoices=230)

    def change_as_a_person(self) -> None:
        """Edit a customer's e-mail address, record a payment on an invoice."""
        state = self.state()
        live = [i for i in state["invoices"] if not i.get("deleted")]
        self.act("edit_customer", id=state["customers"][0]["id"], changes={"email": "nieuw@example.nl"})
        self.act("add_transaction", invoice=live[0]["id"], amount=5.25)

    def delete_behind_the_listing(self) -> int:
        """Delete an invoice: a soft delete takes it off every list, so only a sweep sees it gone."""
        live = [i for i in self.state()["invoices"] if not i.get("deleted")]
        self.act("delete_invoice", id=live[1]["id"])
        return 1

    def assert_store_matches(self, engine: Engine, connection: str) -> None:
        """Every customer, invoice, row and transaction once, amounts exact (`tests.hydra.truth`)."""
        truth.assert_store_matches(engine, connection, self.state())

    # -- helpers -------------------------------------------------------------------------------------

    def post(self, path: str, body: Any = None) -> Any:
        """POST to the control surface and return the decoded answer (raises on an error status)."""
        response = self.control.post(path, json=body if body is not None else {})
        response.raise_for_status()
        return json.loads(response.content, parse_float=Decimal) if response.content else None

    def get(self, path: str) -> Any:
        """GET from the control surface (numbers with a fraction as Decimal)."""
        response = self.control.get(path)
        response.raise_for_status()
        return json.loads(response.content, parse_float=Decimal)

    def act(self, action: str, **params: Any) -> Any:
        """Act as a person in the web app would; returns the touched record (plain JSON)."""
        return self.post(f"/act/{action}", {k: str(v) if isinstance(v, Decimal) else v for k, v in params.items()})

    def state(self) -> dict[str, Any]:
        """The sandbox's truth (soft-deleted records included, marked ``deleted``)."""
        return dict(self.get("/state"))

    def flavour(self, flavour: str) -> None:
        """Switch the API Platform flavour ("3" or "4")."""
        self.post("/flavour", {"flavour": flavour})

    def clock(self, **body: Any) -> dict[str, Any]:
        """Read or move the sandbox clock."""
        return dict(self.post("/clock", body))

    def requests(self) -> list[dict[str, Any]]:
        """The API request log."""
        return list(self.get("/requests"))

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.control.delete("/requests").raise_for_status()

    def connections_toml(self, path: Path, name: str = "hy", **overrides: Any) -> Path:
        """Write a connections file for subprocess runs (`python -m connector ...`); defaults are left out."""
        conn = self.connection(name, **overrides)
        lines = [f"[connections.{name}]"]
        for key, value in conn.model_dump(mode="json", exclude={"name"}, exclude_defaults=True).items():
            lines.append(f"{key} = {_toml(value)}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def _toml(value: Any) -> str:
    """A TOML value (inline tables for dicts); JSON strings are valid TOML basic strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))


KIT = HydraHarness  # found by tests/contract/harness.py:kits
