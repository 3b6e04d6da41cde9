"""The Ledgerly sandbox: a tiny service on a real loopback socket (it imports nothing from the connector).

API (Bearer token): ``GET /v1/clients`` and ``GET /v1/invoices`` with ``page`` and ``per_page`` (at most 100)
answer ``{"items": [...], "next_page": n | null}`` with a ``Date`` header; a wrong token is 401, a spent
budget 429 with ``Retry-After``. Control surface under ``/_sandbox`` (no auth): the shared clock, faults,
rate limit and request log routes, plus ``POST /reset``, ``POST /seed {"seed","clients","invoices"}``,
``POST /corrupt`` (one invoice's ``total_cents`` becomes ``"12,3a"``; answers its kind and id) and
``GET /state`` / ``GET /state/counts`` (the truth).
"""

from __future__ import annotations

import json
import random
import threading
from datetime import date, timedelta
from typing import Any

from sandboxes._control import Controls, RateLimiter, SandboxClock, apply_fault, read_json
from sandboxes._lifecycle import CONTROL_PREFIX, SandboxApp
from sandboxes._server import Request, Response, Router, json_response

__all__ = ["SANDBOX", "LedgerlySandbox"]

TOKEN = "ledgerly-token-5e1f"


class _State:
    """The service's records, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clients: list[dict[str, Any]] = []
        self.invoices: list[dict[str, Any]] = []

    def seed(self, seed: int, clients: int, invoices: int) -> dict[str, int]:
        rng = random.Random(seed)
        made = [{"id": n, "name": f"Klant {n}", "email": f"klant{n}@example.test"} for n in range(1, clients + 1)]
        start = date(2026, 1, 1)
        bills = []
        for n in range(1, invoices + 1):
            subtotal = rng.randint(100, 500_000)
            tax = (subtotal * 21 + 50) // 100
            bills.append({
                "id": 1000 + n,
                "number": f"L-{n:04d}",
                "client_id": rng.randint(1, clients) if clients else None,
                "currency": "EUR",
                "status": rng.choice(["open", "paid"]),
                "issued_on": (start + timedelta(days=n % 300)).isoformat(),
                "subtotal_cents": subtotal,
                "tax_cents": tax,
                "total_cents": subtotal + tax,
                "lines": [{"description": f"Werk {n}", "quantity": 1, "unit_price_cents": subtotal, "vat_rate": 21,
                           "total_cents": subtotal, "tax_cents": tax}],
            })
        with self.lock:
            self.clients, self.invoices = made, bills
        return {"clients": clients, "invoices": invoices}


class _ServiceControls:
    """Ledgerly's own control routes next to the shared ones."""

    def __init__(self, app: LedgerlySandbox) -> None:
        self.app = app

    def register(self, router: Router, prefix: str = CONTROL_PREFIX) -> None:
        self.app.controls.register(router, prefix)
        router.add("POST", prefix + "/reset", lambda request: json_response(self.reset()))
        router.add("POST", prefix + "/seed", lambda request: json_response(self.seed(**read_json(request))))
        router.add("POST", prefix + "/corrupt", self._corrupt)
        router.add("POST", prefix + "/act/pay_and_add", self._pay_and_add)
        router.add("GET", prefix + "/state", lambda request: json_response(self._state()))
        router.add("GET", prefix + "/state/counts", lambda request: json_response(self._counts()))

    def reset(self) -> dict[str, bool]:
        self.app.state.seed(0, 0, 0)
        self.app.controls.reset()
        return {"reset": True}

    def seed(self, seed: int = 1, clients: int = 3, invoices: int = 5, **_: Any) -> dict[str, int]:
        return self.app.state.seed(int(seed), int(clients), int(invoices))

    def _corrupt(self, request: Request) -> Response:
        with self.app.state.lock:
            victim = self.app.state.invoices[0]
            victim["total_cents"] = "12,3a"
        return json_response({"kind": "invoice", "id": str(victim["id"])})

    def _pay_and_add(self, request: Request) -> Response:
        """A person marks the first open invoice paid and writes a new one (the next id, at the listing's end)."""
        with self.app.state.lock:
            invoices = self.app.state.invoices
            paid = next((i for i in invoices if i["status"] == "open"), None)
            if paid is not None:
                paid["status"] = "paid"
            new = {**invoices[-1], "id": invoices[-1]["id"] + 1, "number": f"L-{len(invoices) + 1:04d}",
                   "status": "open", "lines": [dict(line) for line in invoices[-1]["lines"]]}
            invoices.append(new)
        return json_response({"paid": paid["id"] if paid else None, "created": new["id"]})

    def _state(self) -> dict[str, Any]:
        with self.app.state.lock:
            return {"clients": list(self.app.state.clients), "invoices": list(self.app.state.invoices)}

    def _counts(self) -> dict[str, int]:
        with self.app.state.lock:
            return {"clients": len(self.app.state.clients), "invoices": len(self.app.state.invoices)}


class LedgerlySandbox(SandboxApp):
    """A running Ledgerly service."""

    api_prefix = "/v1"

    def __init__(self, port: int = 0, seed: int = 1, clients: int = 0, invoices: int = 0, token: str = TOKEN,
                 rate_limit: int | None = None) -> None:
        """Args: port: 0 for a free one. seed/clients/invoices: generated records. token: the Bearer token.
        rate_limit: requests per minute (None: unlimited)."""
        self.token = token
        self.clock = SandboxClock()
        self.controls = Controls(self.clock, RateLimiter(rate_limit, 60.0, nominal=600))
        self.state = _State()
        self.api = Router()
        self.api.add("GET", "/v1/clients", lambda request: self._list(request, self.state.clients))
        self.api.add("GET", "/v1/invoices", lambda request: self._list(request, self.state.invoices))
        self._mount(_ServiceControls(self), port)
        self.state.seed(seed, clients, invoices)

    @property
    def credentials(self) -> dict[str, Any]:
        """The Bearer token, as ``api_key``."""
        return {"api_key": self.token}

    def dispatch(self, request: Request) -> Response:
        """Control routes, else the API: auth, rate limit, faults, the handler; every API request is logged."""
        if request.raw_path.startswith(CONTROL_PREFIX):
            return self._control(request)
        now = self.clock.time()
        response = self._answer(request, now)
        self.controls.log.append(request.method, request.raw_path, request.raw_query,
                                 0 if response.drop else response.status, now)
        response.headers.append(("Date", self.clock.http_date()))
        return response

    def _answer(self, request: Request, now: float) -> Response:
        if request.header("Authorization") != f"Bearer {self.token}":
            return _error(401, "invalid token")
        decision = self.controls.limiter.hit(self.token, now)
        if not decision.allowed:
            response = _error(429, "too many requests")
            response.headers.append(("Retry-After", "1"))
            return response
        handler, allowed = self.api.resolve(request)
        if handler is None:
            return _error(405 if allowed else 404, "no such route")
        rule = self.controls.faults.take(request.method, request.raw_path)
        return apply_fault(rule, lambda: handler(request), _error, self.controls.sleep)

    def _list(self, request: Request, records: list[dict[str, Any]]) -> Response:
        try:
            page = int(request.arg("page") or 1)
            per_page = int(request.arg("per_page") or 25)
        except ValueError:
            return _error(400, "page and per_page are whole numbers")
        if page < 1 or not 1 <= per_page <= 100:
            return _error(400, "page >= 1, per_page 1..100")
        with self.state.lock:
            start = (page - 1) * per_page
            items = [dict(record) for record in records[start : start + per_page]]
            more = start + per_page < len(records)
        return Response(200, json.dumps({"items": items, "next_page": page + 1 if more else None}).encode())


def _error(status: int, message: str) -> Response:
    return Response(status, json.dumps({"error": message}).encode())


SANDBOX = LedgerlySandbox  # found by the connector's `connector sandbox` through the provider's package
