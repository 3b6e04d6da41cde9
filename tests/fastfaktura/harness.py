"""The FastFaktura test kit: a sandbox on a real socket plus what tests and the contract suite need.

`FastFakturaHarness` implements `tests.contract.harness.ContractHarness` and adds the helpers this
package's tests use (acts, truth, request log, a connections file for CLI runs). The API key reaches
the connector through an environment variable, as in production.
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
from sandboxes.fastfaktura import FastFakturaSandbox
from tests.fastfaktura import truth

__all__ = ["API_KEY", "KEY_ENV", "WRONG_KEY_ENV", "FastFakturaHarness"]

KEY_ENV = "CONNECTOR_TEST_FF_KEY"
WRONG_KEY_ENV = "CONNECTOR_TEST_FF_WRONG_KEY"
API_KEY = "ffk_test_harness_key_123"
WRONG_KEY = "ffk_not_the_key_987"


class FastFakturaHarness:
    """A running FastFaktura sandbox and a client for its control surface."""

    provider_id = "fastfaktura"
    rate_limit_status = 429
    readable = True
    page_size = 25  # fixed by the service; seeding more than 25 records spans several pages

    def __init__(self, server: FastFakturaSandbox) -> None:
        """Wrap a started sandbox."""
        self.server = server
        self.control = httpx.Client(base_url=server.control_url, timeout=60)

    @classmethod
    def start(cls) -> FastFakturaHarness:
        """Start a sandbox on a free loopback port (rate limiting off until a test sets it)."""
        return cls(FastFakturaSandbox(port=0, api_key=API_KEY, rate_limit=None).start())

    def stop(self) -> None:
        """Stop the sandbox."""
        self.control.close()
        self.server.stop()

    @property
    def base_url(self) -> str:
        """The API root."""
        return self.server.base_url

    @property
    def api_key(self) -> str:
        """The sandbox account's key."""
        return API_KEY

    # -- ContractHarness ------------------------------------------------------------------------------

    def reset(self) -> None:
        """No records, no faults, rate limiting off, clock back to real time, quirks as started."""
        self.post("/reset")
        self.post("/ratelimit", {"limit": None})

    def quirks(self, values: Mapping[str, Any]) -> None:
        """Switch quirks (`sandboxes.fastfaktura.quirks`)."""
        self.post("/quirks", dict(values))

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox clock on."""
        self.post("/clock", {"advance_seconds": seconds})

    def seed(self, clients: int, invoices: int, **spec: Any) -> dict[str, int]:
        """Generated clients and invoices made over the last year, events up to yesterday; returns counts.

        ``spec`` overrides the seed spec (seed, lines_per_invoice, start_date, end_date, archived_share).
        """
        start = (date.today() - timedelta(days=366)).isoformat()
        return dict(self.post("/seed", {"seed": 7, "clients": clients, "invoices": invoices, "start_date": start,
                                        **spec}))

    def connection(self, name: str = "c", *, wrong_key: bool = False, **overrides: Any) -> Connection:
        """A connection to the sandbox; the key comes from an environment variable."""
        os.environ[KEY_ENV] = API_KEY
        os.environ[WRONG_KEY_ENV] = WRONG_KEY
        values: dict[str, Any] = {
            "name": name,
            "provider": "fastfaktura",
            "base_url": self.base_url,
            "api_key_env": WRONG_KEY_ENV if wrong_key else KEY_ENV,
            "sandbox": True,
            "safety_lag_seconds": 0,
            "max_attempts": 3,
            "rate_limit": 1_000_000,  # the sandbox's limit is off unless a test sets one (and this with it)
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
        """Give one invoice a non-numeric ``unit_price_cents`` on its first line (detail only)."""
        victim = self.state()["invoices"][0]["id"]
        self.act("corrupt_invoice", invoice_id=victim, field="lines.0.unit_price_cents", value="12,3a")
        return "invoice", victim

    def request_statuses(self) -> list[int]:
        """The statuses of every API request the sandbox answered since the last `reset` (0: dropped)."""
        return [int(r["status"]) for r in self.requests()]

    def invoice_count(self) -> int:
        """How many invoices the sandbox holds."""
        return int(self.get("/state/counts")["invoices"])

    def sample_invoice_payload(self) -> dict[str, Any]:
        """A valid POST /invoices body for a client created for it."""
        client = self.act("create_client", name="Sample Client AS", email="sample@example.no")
        return {"client_id": client["id"], "currency": "NOK",
                "due_date": (date.today() + timedelta(days=14)).isoformat(), "notes": None,
                "lines": [{"description": "Consulting", "quantity": 2, "unit_price_cents": 95000, "tax_rate": 25}]}

    # -- helpers -------------------------------------------------------------------------------------

    def post(self, path: str, body: Any = None) -> Any:
        """POST to the control surface and return the decoded answer (raises on an error status)."""
        response = self.control.post(path, json=body if body is not None else {})
        response.raise_for_status()
        return response.json() if response.content else None

    def get(self, path: str) -> Any:
        """GET from the control surface (numbers with a fraction as Decimal)."""
        response = self.control.get(path)
        response.raise_for_status()
        return json.loads(response.content, parse_float=Decimal)

    def act(self, action: str, **params: Any) -> Any:
        """Act as a person in the web app would."""
        return self.post(f"/act/{action}", params)

    def state(self) -> dict[str, Any]:
        """The sandbox's truth."""
        return dict(self.get("/state"))

    # -- readable services (ContractHarness) ----------------------------------------------------------

    def seed_history(self) -> None:
        """70 invoices of 12 clients: three pages at the default 25 a page, more under a smaller one."""
        self.seed(clients=12, invoices=70)

    def change_as_a_person(self) -> None:
        """Edit a client, pay a sent invoice, invoice the client anew (and send it)."""
        state = self.state()
        client = next(c for c in state["clients"] if not c.get("archived_at"))
        self.act("edit_client", client_id=client["id"], changes={"email": "nieuw@example.nl"})
        sent = next(i for i in state["invoices"] if i["status"] in ("sent", "opened", "overdue"))
        self.act("pay_invoice", invoice_id=sent["id"])
        self.act("create_invoice", client_id=client["id"], send=True)

    def delete_behind_the_listing(self) -> int:
        """None: FastFaktura deletes nothing (clients are archived, and stay listed)."""
        return 0

    def assert_store_matches(self, engine: Engine, connection: str) -> None:
        """Every client, invoice, line and payment once, amounts exact (`tests.fastfaktura.truth`)."""
        truth.assert_store_matches(engine, connection, self.state())

    def requests(self) -> list[dict[str, Any]]:
        """The API request log."""
        return list(self.get("/requests"))

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.control.delete("/requests").raise_for_status()

    def connections_toml(self, path: Path, name: str = "ff", **overrides: Any) -> Path:
        """Write a connections file for subprocess runs of the CLI (only the settings given, nested as tables)."""
        conn = self.connection(name, **overrides)
        head, tables = [f"[connections.{name}]"], []
        for key, value in conn.model_dump(mode="json", exclude={"name"}, exclude_unset=True).items():
            if isinstance(value, dict):
                tables.append(f"[connections.{name}.{key}]")
                tables += [f"{k} = {json.dumps(v)}" for k, v in value.items()]
            else:
                head.append(f"{key} = {json.dumps(value)}")
        path.write_text("\n".join(head + tables) + "\n", encoding="utf-8")
        return path


KIT = FastFakturaHarness  # found by tests/contract/harness.py:kits
