"""FactuurSturen's own control routes: reset, seed, the truth (state), and a person's actions in the web app.

    POST /_sandbox/reset                 empty state; no faults, log, rate counters; clock back to real time
    POST /_sandbox/seed                  {"seed","clients","invoices","lines_per_invoice","products",
                                          "start_date","end_date"} -> counts (replaces all data)
    GET  /_sandbox/state                 {"clients","invoices","products","saved","repeated","payments",
                                          "deleted_invoices","deleted_clients"} (API-shaped records)
    GET  /_sandbox/state/counts          {"clients": n, "invoices": n, "payments": n, ...}
    POST /_sandbox/act/{action}          edit_client {"clientnr","changes"} | create_client {fields}
                                         | delete_client {"clientnr"} | create_invoice {"clientnr","lines",
                                         "sent"?, "sendmethod"?, ...} | register_payment {"invoice","amount",
                                         "date"?} | delete_invoice {"invoice"} | send_reminder {"invoice",
                                         "date"?} | mark_uncollectible {"invoice","date"?}
                                         | corrupt_invoice {"invoice","field","value"} -> the record (JSON)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sandboxes._control import Controls, read_json
from sandboxes._gc import paused_gc
from sandboxes._server import Request, Response, Router, json_response
from sandboxes.factuursturen.commands import Payment, client_changes, new_invoice, payment
from sandboxes.factuursturen.errors import BadRequest, FsError
from sandboxes.factuursturen.fastjson import record_json
from sandboxes.factuursturen.inputs import to_date
from sandboxes.factuursturen.records import Client, Draft, Invoice, Product
from sandboxes.factuursturen.seed import SeedSpec, generate
from sandboxes.factuursturen.state import FactuurSturenState

__all__ = ["ServiceControls", "counts", "default_spec", "payments"]


def default_spec(today: date, **values: Any) -> SeedSpec:
    """A seed spec; dates default to the three years before the sandbox's `today` (ending yesterday).

    Raises:
        ValueError: an unknown key or a bad value.
    """
    known = {"seed", "clients", "invoices", "lines_per_invoice", "products", "start_date", "end_date"}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown seed keys {sorted(unknown)}; known: {sorted(known)}")
    end = date.fromisoformat(str(values["end_date"])) if values.get("end_date") else today - timedelta(days=1)
    start = date.fromisoformat(str(values["start_date"])) if values.get("start_date") \
        else end - timedelta(days=3 * 365)
    if start > end:
        raise ValueError("start_date is after end_date")
    spec = SeedSpec(start_date=start, end_date=end)
    for name in ("seed", "clients", "invoices", "lines_per_invoice", "products"):
        if values.get(name) is not None:
            setattr(spec, name, int(values[name]))
    if "clients" not in values and spec.invoices:
        spec.clients = max(1, spec.invoices // 10)
    return spec


def payments(state: FactuurSturenState) -> list[dict[str, str]]:
    """Every payment event of every live invoice, in invoice then history order."""
    with state.lock:
        return [{"invoice_id": str(i.id), "invoicenr": i.invoicenr, "date": h.date, "time": h.time,
                 "amount": f"{h.amount:.2f}"} for i in state.order for h in i.history if h.amount is not None]


def counts(state: FactuurSturenState) -> dict[str, int]:
    """How many records of each kind."""
    with state.lock:
        return {"clients": len(state.clients), "invoices": len(state.invoices), "products": len(state.products),
                "saved": len(state.drafts["saved"]), "repeated": len(state.drafts["repeated"]),
                "payments": sum(1 for i in state.order for h in i.history if h.amount is not None),
                "deleted_invoices": len(state.deleted_invoices), "deleted_clients": len(state.deleted_clients)}


def _record(record: Client | Invoice | Product | Draft, state: FactuurSturenState) -> Response:
    with state.lock:
        return Response(200, record_json(record), "application/json")


class ServiceControls:
    """Mounts the service-specific control routes next to the generic ones."""

    def __init__(self, state: FactuurSturenState, controls: Controls) -> None:
        """Args: state: the account. controls: clock, faults, log and rate limiter of this sandbox."""
        self.state = state
        self.controls = controls
        self.acts: dict[str, Callable[[dict[str, Any]], Response]] = {
            "create_client": self._create_client, "edit_client": self._edit_client,
            "delete_client": self._delete_client, "create_invoice": self._create_invoice,
            "register_payment": self._register_payment, "delete_invoice": self._delete_invoice,
            "send_reminder": lambda b: self._annotate(b, "reminder"),
            "mark_uncollectible": lambda b: self._annotate(b, "uncollectible"),
            "corrupt_invoice": self._corrupt,
        }

    def register(self, router: Router, prefix: str = "/_sandbox") -> None:
        """Add reset, seed, state and act routes under `prefix`."""
        self.controls.register(router, prefix)
        router.add("POST", f"{prefix}/reset", self._guard(lambda r: self.reset()))
        router.add("POST", f"{prefix}/seed", self._guard(lambda r: json_response(self.seed(**read_json(r)))))
        router.add("GET", f"{prefix}/state", self._guard(lambda r: Response(200, self.truth())))
        router.add("GET", f"{prefix}/state/counts", self._guard(lambda r: json_response(counts(self.state))))
        router.add("POST", f"{prefix}/act/{{action}}", self._guard(self._act))

    def reset(self) -> Response:
        """Empty state and fresh controls."""
        self.state.reset()
        self.controls.reset()
        return json_response({"reset": True})

    def seed(self, **values: Any) -> dict[str, int]:
        """Replace all data with a deterministic account; returns the counts.

        Every record is serialized once right away (about 15 us per invoice), so the first read of a
        large account is as fast as the later ones.
        """
        self.state.load(generate(default_spec(self.state.clock.today(), **values)))
        # hundreds of thousands of short-lived lists; collections would only cost time
        with paused_gc(), self.state.lock:
            for records in (self.state.order, self.state.client_page(0, None)):
                for record in records:
                    record_json(record)
        return counts(self.state)

    def truth(self) -> bytes:
        """The whole state as JSON bytes, records exactly as the API shows them."""
        state = self.state
        with state.lock:
            def listed(records: list[Any]) -> bytes:
                return b"[" + b",".join(record_json(r) for r in records) + b"]"
            parts = {
                "clients": listed(state.client_page(0, None)),
                "invoices": listed(state.order),
                "products": listed(state.product_page(0, None)),
                "saved": listed(state.draft_page("saved", 0, None)),
                "repeated": listed(state.draft_page("repeated", 0, None)),
                "payments": json.dumps(payments(state)).encode(),
                "deleted_invoices": json.dumps([str(i) for i in state.deleted_invoices]).encode(),
                "deleted_clients": json.dumps([str(c) for c in state.deleted_clients]).encode(),
            }
        return b"{" + b",".join(b'"' + k.encode() + b'":' + v for k, v in parts.items()) + b"}"

    @staticmethod
    def _guard(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            try:
                return handler(request)
            except FsError as exc:
                return json_response({"error": exc.message}, exc.status)
            except (ValueError, TypeError, KeyError) as exc:
                return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
        return run

    def _act(self, request: Request) -> Response:
        action = request.params["action"]
        if action not in self.acts:
            return json_response({"error": f"unknown action {action!r}; known: {sorted(self.acts)}"}, 404)
        return self.acts[action](read_json(request))

    # -- a person in the web app ------------------------------------------------------------------------

    def _create_client(self, body: dict[str, Any]) -> Response:
        return _record(self.state.create_client(client_changes(body)), self.state)

    def _edit_client(self, body: dict[str, Any]) -> Response:
        changes = body.get("changes")
        if not isinstance(changes, dict):
            raise BadRequest("changes must be an object")
        return _record(self.state.update_client(body["clientnr"], client_changes(changes)), self.state)

    def _delete_client(self, body: dict[str, Any]) -> Response:
        with self.state.lock:
            client = self.state.get_client(body["clientnr"])
            response = _record(client, self.state)
            self.state.delete_client(client.clientnr)
        return response

    def _create_invoice(self, body: dict[str, Any]) -> Response:
        client = self.state.get_client(body.get("clientnr", ""))
        method = body.get("sendmethod") or client.sendmethod
        if method == "email" and not client.email:
            method = "mail"
        cmd = new_invoice({**body, "action": "send", "sendmethod": method})
        if body.get("sent"):
            cmd.sent = to_date(body["sent"], "sent")
        return _record(self.state.create_invoice(cmd), self.state)

    def _register_payment(self, body: dict[str, Any]) -> Response:
        values = {"date": self.state.clock.today().isoformat(), **body}
        paid: Payment = payment(values)
        return _record(self.state.pay(body["invoice"], paid), self.state)

    def _delete_invoice(self, body: dict[str, Any]) -> Response:
        with self.state.lock:
            invoice = self.state.get_invoice(body["invoice"])
            response = _record(invoice, self.state)
            self.state.delete_invoice(invoice.id)
        return response

    def _annotate(self, body: dict[str, Any], event: str) -> Response:
        on = to_date(body["date"], "date") if body.get("date") else None
        return _record(self.state.annotate(body["invoice"], event, on), self.state)

    def _corrupt(self, body: dict[str, Any]) -> Response:
        return _record(self.state.corrupt(body["invoice"], str(body["field"]), str(body["value"])), self.state)
