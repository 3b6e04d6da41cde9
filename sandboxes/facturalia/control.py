"""Facturalia's own control routes (test-only, JSON, no auth) next to the generic clock/faults/ratelimit/requests.

    POST /_sandbox/reset               no customers, invoices or keys; initial products; no faults, empty
                                       log, fresh rate counters, clock back to real time (limits stay)
    POST /_sandbox/seed                {"seed", "customers": n | [fields...], "invoices": n,
                                        "products": [code | {"code","name","unit_price","vat_rate"}]}
                                       replaces all data; invoices go through the create path -> counts
    GET  /_sandbox/state               {"invoices": [{id, number, external_id, idempotency_keys, customer_id,
                                        created_at, replays, request, response}], "customers", "products"}
    GET  /_sandbox/state/counts        {"invoices", "customers", "products", "keys", "replays"}
    POST /_sandbox/act/create_customer {fields} -> the customer (as invoice answers show it)
    POST /_sandbox/act/add_product     {"code", "name"?, "unit_price"?, "vat_rate"?} -> the product
    POST /_sandbox/act/create_key      {"key", "scopes": null | ["invoices:create", ...]} -> the key
    GET|POST /_sandbox/idempotency     {"retention_seconds": s} -> how long keys are remembered
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sandboxes._control import Controls, read_json
from sandboxes._server import Request, Response, Router, json_response
from sandboxes.facturalia.errors import ApiError
from sandboxes.facturalia.records import Product
from sandboxes.facturalia.seed import customer_fields, invoice_bodies
from sandboxes.facturalia.state import FacturaliaState
from sandboxes.facturalia.wire import encode

__all__ = ["ApiKeys", "ServiceControls", "product_from"]

ApiKeys = dict[str, frozenset[str] | None]
"""Bearer key -> its scopes (None: scopes switched off for that key, everything allowed)."""


def product_from(value: Any) -> Product:
    """A product from its code or its JSON object.

    Raises:
        ValueError: no code, or a bad price or VAT rate.
    """
    if isinstance(value, str):
        value = {"code": value}
    if not isinstance(value, dict) or not isinstance(value.get("code"), str) or not value["code"].strip():
        raise ValueError("a product needs a non-empty string `code`")
    price = value.get("unit_price")
    rate = value.get("vat_rate")
    return Product(value["code"].strip(), str(value.get("name") or ""),
                   None if price is None else Decimal(str(price)), None if rate is None else int(rate))


class ServiceControls:
    """Mounts the service-specific control routes."""

    def __init__(self, state: FacturaliaState, controls: Controls, keys: ApiKeys) -> None:
        """Args: state: the account. controls: clock, faults, log, rate limiter. keys: the API keys (shared)."""
        self.state = state
        self.controls = controls
        self.keys = keys
        self.initial_keys = dict(keys)
        self.acts: dict[str, Callable[[dict[str, Any]], Response]] = {
            "create_customer": self._create_customer, "add_product": self._add_product,
            "create_key": self._create_key,
        }

    def register(self, router: Router, prefix: str = "/_sandbox") -> None:
        """Add the generic routes and reset, seed, state, act and idempotency under `prefix`."""
        self.controls.register(router, prefix)
        router.add("POST", f"{prefix}/reset", self._guard(lambda r: self.reset()))
        router.add("POST", f"{prefix}/seed", self._guard(lambda r: json_response(self.seed(**read_json(r)))))
        router.add("GET", f"{prefix}/state", self._guard(lambda r: Response(200, self.truth())))
        router.add("GET", f"{prefix}/state/counts", self._guard(lambda r: json_response(self.state.counts())))
        router.add("POST", f"{prefix}/act/{{action}}", self._guard(self._act))
        for method in ("GET", "POST"):
            router.add(method, f"{prefix}/idempotency", self._guard(self._idempotency))

    def reset(self) -> Response:
        """Empty account, the initial API keys, fresh controls."""
        self.state.reset()
        self.keys.clear()
        self.keys.update(self.initial_keys)
        self.controls.reset()
        return json_response({"reset": True})

    def seed(self, seed: int = 42, customers: int | list[dict[str, Any]] = 0, invoices: int = 0,
             products: list[Any] | None = None) -> dict[str, int]:
        """Replace all data deterministically; returns the counts.

        Raises:
            ValueError: a bad product or customer; ApiError from an invoice the rules refuse.
        """
        rng = random.Random(seed)
        with self.state.lock:
            self.state.reset()
            if products is not None:
                self.state.products = {p.code: p for p in map(product_from, products)}
            if isinstance(customers, list):
                made = [self.state.add_customer(dict(fields), origin="seed") for fields in customers]
            else:
                count = int(customers) or (max(1, int(invoices) // 10) if invoices else 0)
                made = [self.state.add_customer(customer_fields(rng, n), origin="seed") for n in range(1, count + 1)]
            codes = sorted(self.state.products)
            if invoices and (not codes or not made):
                raise ValueError("seeding invoices needs at least one product and one customer")
            for body in invoice_bodies(rng, int(invoices), [c.id for c in made], codes,
                                       self.state.clock.today()):
                self.state.create_invoice(body, encode(body), None)
        return self.state.counts()

    def truth(self) -> bytes:
        """The whole account as JSON bytes (requests and answers exactly as sent)."""
        state = self.state
        with state.lock:
            invoices = b",".join(state.invoice_view(i) for i in state.invoices.values())
            customers = encode([{**c.wire(), "origin": c.origin} for c in state.customers.values()])
            products = encode([p.view() for p in state.products.values()])
        return b'{"invoices":[' + invoices + b'],"customers":' + customers + b',"products":' + products + b"}"

    @staticmethod
    def _guard(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            try:
                return handler(request)
            except ApiError as exc:
                return json_response({"error": exc.message, "details": exc.details}, 400)
            except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
                return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
        return run

    def _act(self, request: Request) -> Response:
        action = request.params["action"]
        if action not in self.acts:
            return json_response({"error": f"unknown action {action!r}; known: {sorted(self.acts)}"}, 404)
        return self.acts[action](read_json(request))

    def _create_customer(self, body: dict[str, Any]) -> Response:
        customer = self.state.add_customer(body)
        return Response(200, encode({**customer.wire(), "origin": customer.origin}))

    def _add_product(self, body: dict[str, Any]) -> Response:
        return Response(200, encode(self.state.add_product(product_from(body)).view()))

    def _create_key(self, body: dict[str, Any]) -> Response:
        key, scopes = body.get("key"), body.get("scopes")
        if not isinstance(key, str) or not key.strip():
            raise ValueError("`key` must be a non-empty string")
        if scopes is not None and (not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)):
            raise ValueError("`scopes` must be null or a list of strings")
        self.keys[key] = None if scopes is None else frozenset(scopes)
        return json_response({"key": key, "scopes": None if scopes is None else sorted(scopes)})

    def _idempotency(self, request: Request) -> Response:
        if request.method == "POST":
            seconds = float(read_json(request)["retention_seconds"])
            if seconds <= 0:
                raise ValueError("retention_seconds must be > 0")
            self.state.retention_seconds = seconds
        return json_response({"retention_seconds": self.state.retention_seconds})
