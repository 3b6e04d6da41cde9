"""FastFaktura's own control routes: reset, seed, the truth, and a person's actions in the web app.

    POST /_sandbox/reset                 empty state; no faults, log, rate counters; clock back to real time
    POST /_sandbox/seed                  {"seed","clients","invoices","lines_per_invoice","archived_share",
                                          "start_date","end_date"} -> counts (replaces all data)
    GET  /_sandbox/state                 {"business","clients","invoices","payments"}: every client (archived
                                         too) and every invoice as its detail (lines, events), creation order;
                                         payments = the paid events {"id","invoice_id","amount_cents",
                                         "paid_at","currency"}
    GET  /_sandbox/state/counts          {"clients","active_clients","archived_clients","invoices","payments",
                                          "<status>": n ...}
    POST /_sandbox/act/{action}          create_client {fields} | edit_client {"client_id","changes"}
                                         | archive_client {"client_id"} | create_invoice {"client_id",
                                         "currency"?, "lines"?, "due_date"?, "notes"?, "send"?: bool | [channels]}
                                         | send_invoice {"invoice_id","channels"?,"reminder"?}
                                         | open_invoice {"invoice_id"} | pay_invoice {"invoice_id","paid_at"?}
                                         | cancel_invoice {"invoice_id"} | corrupt_invoice {"invoice_id",
                                         "field"? (dotted, default lines.0.unit_price_cents), "value"? ("12,3a")}
                                         -> the record as the API shows it (an invoice as its detail)

The acts use the same rules as the API (a paid invoice cannot be cancelled, ...) and answer the API's
error bodies when they refuse.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sandboxes._control import Controls, read_json
from sandboxes._gc import paused_gc
from sandboxes._server import Request, Response, Router, json_response
from sandboxes.fastfaktura.errors import ApiError, Unprocessable
from sandboxes.fastfaktura.inputs import client_fields, new_invoice, send_command
from sandboxes.fastfaktura.records import STATUSES, Client, Invoice
from sandboxes.fastfaktura.seed import SeedSpec, generate
from sandboxes.fastfaktura.state import FastFakturaState
from sandboxes.fastfaktura.wire import business_dict, client_json, entry_json, invoice_json

__all__ = ["ServiceControls", "counts", "default_spec"]

_SEED_KEYS = frozenset({"seed", "clients", "invoices", "lines_per_invoice", "archived_share", "start_date",
                        "end_date"})


def default_spec(today: date, **values: Any) -> SeedSpec:
    """A seed spec; dates default to the three years before the sandbox's `today` (ending yesterday).

    Raises:
        ValueError: an unknown key or a bad value.
    """
    unknown = set(values) - _SEED_KEYS
    if unknown:
        raise ValueError(f"unknown seed keys {sorted(unknown)}; known: {sorted(_SEED_KEYS)}")
    end = date.fromisoformat(str(values["end_date"])) if values.get("end_date") else today - timedelta(days=1)
    start = date.fromisoformat(str(values["start_date"])) if values.get("start_date") \
        else end - timedelta(days=3 * 365)
    if start > end:
        raise ValueError("start_date is after end_date")
    spec = SeedSpec(start_date=start, end_date=end)
    for name in ("seed", "clients", "invoices", "lines_per_invoice"):
        if values.get(name) is not None:
            setattr(spec, name, int(values[name]))
    if values.get("archived_share") is not None:
        spec.archived_share = float(values["archived_share"])
    if values.get("clients") is None and spec.invoices:
        spec.clients = max(1, spec.invoices // 10)
    if min(spec.clients, spec.invoices, spec.lines_per_invoice) < 0 or not 0 <= spec.archived_share <= 1:
        raise ValueError("counts must be >= 0 and archived_share between 0 and 1")
    return spec


def counts(state: FastFakturaState) -> dict[str, int]:
    """How many records of each kind (invoices also by status)."""
    state.refresh_overdue()
    with state.lock:
        out = {"clients": len(state.clients), "active_clients": len(state.active),
               "archived_clients": len(state.archived), "invoices": len(state.order),
               "payments": sum(1 for i in state.order for e in i.events if e.type == "paid")}
        out.update({status: 0 for status in STATUSES})
        for invoice in state.order:
            out[invoice.status] += 1
        return out


class ServiceControls:
    """Mounts the service-specific control routes next to the generic ones."""

    def __init__(self, state: FastFakturaState, controls: Controls) -> None:
        """Args: state: the account. controls: clock, faults, log and rate limiter of this sandbox."""
        self.state = state
        self.controls = controls
        self.acts: dict[str, Callable[[dict[str, Any]], Response]] = {
            "create_client": self._create_client, "edit_client": self._edit_client,
            "archive_client": self._archive_client, "create_invoice": self._create_invoice,
            "send_invoice": self._send_invoice,
            "open_invoice": lambda b: self._invoice(self.state.open_invoice(_id(b, "invoice_id"))),
            "pay_invoice": lambda b: self._invoice(self.state.pay_invoice(_id(b, "invoice_id"), b.get("paid_at"))),
            "cancel_invoice": lambda b: self._invoice(self.state.cancel_invoice(_id(b, "invoice_id"))),
            "corrupt_invoice": self._corrupt,
        }

    def register(self, router: Router, prefix: str = "/_sandbox") -> None:
        """Add reset, seed, state and act routes (and the generic ones) under `prefix`."""
        self.controls.register(router, prefix)
        router.add("POST", f"{prefix}/reset", self._guard(lambda r: self.reset()))
        router.add("POST", f"{prefix}/seed", self._guard(lambda r: json_response(self.seed(**read_json(r)))))
        router.add("GET", f"{prefix}/state", self._guard(lambda r: Response(200, self.truth())))
        router.add("GET", f"{prefix}/state/counts", self._guard(lambda r: json_response(counts(self.state))))
        router.add("POST", f"{prefix}/act/{{action}}", self._guard(self._act))

    def reset(self) -> Response:
        """Empty state and fresh controls (the rate-limit configuration stays)."""
        self.state.reset()
        self.controls.reset()
        return json_response({"reset": True})

    def seed(self, **values: Any) -> dict[str, int]:
        """Replace all data with a deterministic account; returns the counts.

        Every record is serialized once right away, so even the first read of a large account runs at
        cached speed.
        """
        self.state.load(generate(default_spec(self.state.clock.today(), **values)))
        self.state.refresh_overdue()
        with paused_gc(), self.state.lock:
            for client in self.state.clients.values():
                client_json(client)
            for invoice in self.state.order:
                entry_json(invoice)
                invoice_json(invoice)
        return counts(self.state)

    def truth(self) -> bytes:
        """The whole state as JSON bytes, records exactly as the API shows them (invoices as details)."""
        state = self.state
        state.refresh_overdue()
        with state.lock:
            parts = {
                "business": json.dumps(business_dict(state.business)).encode(),
                "clients": b"[" + b",".join(client_json(c) for c in state.clients.values()) + b"]",
                "invoices": b"[" + b",".join(invoice_json(i) for i in state.order) + b"]",
                "payments": json.dumps(state.payments()).encode(),
            }
        return b"{" + b",".join(b'"' + k.encode() + b'":' + v for k, v in parts.items()) + b"}"

    @staticmethod
    def _guard(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            try:
                return handler(request)
            except ApiError as exc:
                return exc.response()
            except (ValueError, TypeError, KeyError) as exc:
                return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
        return run

    def _act(self, request: Request) -> Response:
        action = request.params["action"]
        if action not in self.acts:
            return json_response({"error": f"unknown action {action!r}; known: {sorted(self.acts)}"}, 404)
        self.state.refresh_overdue()
        return self.acts[action](read_json(request))

    # -- a person in the web app ------------------------------------------------------------------------

    def _client(self, client: Client) -> Response:
        with self.state.lock:
            return Response(200, client_json(client), "application/json")

    def _invoice(self, invoice: Invoice) -> Response:
        with self.state.lock:
            return Response(200, invoice_json(invoice), "application/json")

    def _create_client(self, body: dict[str, Any]) -> Response:
        return self._client(self.state.create_client(client_fields(body, partial=False)))

    def _edit_client(self, body: dict[str, Any]) -> Response:
        changes = body.get("changes")
        if not isinstance(changes, dict):
            raise ValueError("changes must be an object")
        return self._client(self.state.update_client(_id(body, "client_id"), client_fields(changes, partial=True)))

    def _archive_client(self, body: dict[str, Any]) -> Response:
        return self._client(self.state.archive_client(_id(body, "client_id")))

    def _create_invoice(self, body: dict[str, Any]) -> Response:
        today = self.state.clock.today()
        values = {
            "currency": self.state.business.currency,
            "due_date": (today + timedelta(days=14)).isoformat(),
            "lines": [{"description": "Consulting", "quantity": 1, "unit_price_cents": 50000, "tax_rate": 25}],
            **body,
        }
        send = values.pop("send", False)
        invoice = self.state.create_invoice(new_invoice(values))
        if send:
            channels = send if isinstance(send, list) else self._default_channels(invoice)
            invoice = self.state.send_invoice(invoice.id, send_command({"channels": channels}))
        return self._invoice(invoice)

    def _default_channels(self, invoice: Invoice) -> list[str]:
        client = self.state.clients[invoice.client_id]
        return ["email"] if client.email else ["link"]

    def _send_invoice(self, body: dict[str, Any]) -> Response:
        invoice = self.state.get_invoice(_id(body, "invoice_id"))
        values = {"channels": body.get("channels") or self._default_channels(invoice),
                  "reminder": body.get("reminder", False)}
        return self._invoice(self.state.send_invoice(invoice.id, send_command(values)))

    def _corrupt(self, body: dict[str, Any]) -> Response:
        path = str(body.get("field") or "lines.0.unit_price_cents")
        if not path or any(not part for part in path.split(".")):
            raise Unprocessable("Bad field path", {"field": "must be a dotted path such as lines.0.quantity"})
        invoice = self.state.corrupt(_id(body, "invoice_id"), path, body.get("value", "12,3a"))
        return self._invoice(invoice)


def _id(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is required")
    return value
