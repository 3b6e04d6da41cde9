"""The app's own control routes: reset, seed, the truth (state), the flavour, and a person's actions.

    POST /_sandbox/reset            empty state; no faults, log, rate counters; real time; default flavour
    POST /_sandbox/seed             {"seed","customers" (or "clients"),"invoices","lines_per_invoice",
                                     "payment_methods","start_date","end_date"} -> counts (replaces all data)
    GET  /_sandbox/state            {"customers": [...], "invoices": [{..., "rows": [...], "transactions":
                                     [...]}], "payment_methods": [...]}: plain-JSON records with
                                     "deleted"/"deletedAt" always shown; soft-deleted records included
    GET  /_sandbox/state/counts     {"customers", "invoices", "rows", "transactions", "deleted_...": n}
    GET|POST /_sandbox/flavour      {"flavour": "3" | "4"}
    POST /_sandbox/act/{action}     see `acts.PersonActs` (edit_customer, create_invoice, add_row, ...)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sandboxes._control import Controls, read_json
from sandboxes._gc import paused_gc
from sandboxes._server import Request, Response, Router, json_response
from sandboxes.hydra.acts import PersonActs
from sandboxes.hydra.errors import HydraError
from sandboxes.hydra.seed import SeedSpec, generate
from sandboxes.hydra.wire import body, truth_json

if TYPE_CHECKING:
    from sandboxes.hydra.app import HydraSandbox

__all__ = ["ServiceControls", "counts", "default_spec"]


def default_spec(today: date, **values: Any) -> SeedSpec:
    """A seed spec; dates default to the three years before `today` (ending yesterday).

    Raises:
        ValueError: an unknown key or a bad value.
    """
    if "clients" in values:
        values["customers"] = values.pop("clients")
    known = {"seed", "customers", "invoices", "lines_per_invoice", "payment_methods", "start_date", "end_date"}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown seed keys {sorted(unknown)}; known: {sorted(known)} (or clients)")
    end = date.fromisoformat(str(values["end_date"])) if values.get("end_date") else today - timedelta(days=1)
    start = date.fromisoformat(str(values["start_date"])) if values.get("start_date") \
        else end - timedelta(days=3 * 365)
    if start > end:
        raise ValueError("start_date is after end_date")
    spec = SeedSpec(start_date=start, end_date=end)
    for name in ("seed", "customers", "invoices", "lines_per_invoice", "payment_methods"):
        if values.get(name) is not None:
            setattr(spec, name, int(values[name]))
    if values.get("customers") is None and spec.invoices:
        spec.customers = max(1, spec.invoices // 10)
    return spec


def counts(sandbox: HydraSandbox) -> dict[str, int]:
    """How many records of each kind, live and soft-deleted."""
    state = sandbox.state
    with state.lock:
        result: dict[str, int] = {}
        for name, table in (("customers", state.customers), ("invoices", state.invoices), ("rows", state.rows),
                            ("transactions", state.transactions), ("payment_methods", state.payment_methods)):
            live = sum(1 for r in table.values() if r.deleted_at is None)
            result[name], result[f"deleted_{name}"] = live, len(table) - live
        return result


class ServiceControls:
    """Mounts the service-specific control routes next to the generic ones."""

    def __init__(self, sandbox: HydraSandbox, controls: Controls) -> None:
        """Args: sandbox: the sandbox (state, flavour). controls: clock, faults, log and rate limiter."""
        self.sandbox = sandbox
        self.controls = controls
        self.acts = PersonActs(sandbox.state)

    def register(self, router: Router, prefix: str = "/_sandbox") -> None:
        """Add reset, seed, state, flavour and act routes under `prefix`."""
        self.controls.register(router, prefix)
        router.add("POST", f"{prefix}/reset", self._guard(lambda r: self._reset()))
        router.add("POST", f"{prefix}/seed", self._guard(lambda r: json_response(self.seed(**read_json(r)))))
        router.add("GET", f"{prefix}/state", self._guard(lambda r: Response(200, self.truth())))
        router.add("GET", f"{prefix}/state/counts", self._guard(lambda r: json_response(counts(self.sandbox))))
        router.add("GET", f"{prefix}/flavour", self._guard(lambda r: json_response({"flavour": self.sandbox.flavour})))
        router.add("POST", f"{prefix}/flavour", self._guard(self._flavour))
        router.add("POST", f"{prefix}/act/{{action}}", self._guard(self._act))

    def reset(self) -> None:
        """Empty state, fresh controls, the constructor's flavour (a quirk: the controls reset it)."""
        self.sandbox.state.reset()
        self.controls.reset()

    def _reset(self) -> Response:
        self.reset()
        return json_response({"reset": True})

    def seed(self, **values: Any) -> dict[str, int]:
        """Replace all data with a deterministic account and serialize every record once; returns the counts."""
        state = self.sandbox.state
        state.load(generate(default_spec(state.today(), **values)))
        with paused_gc(), state.lock:
            for table in state.tables.values():
                for record in table.values():
                    body(record)
        return counts(self.sandbox)

    def truth(self) -> bytes:
        """The whole state as JSON bytes (records as the plain-JSON API shows them, deletions marked)."""
        state = self.sandbox.state
        with state.lock:
            invoices = []
            for invoice in state.invoices.values():
                rows = ",".join(truth_json(r) for r in state.rows_of(invoice))
                txs = ",".join(truth_json(t) for t in state.transactions_of(invoice, live_only=False))
                invoices.append(truth_json(invoice)[:-1] + f',"rows":[{rows}],"transactions":[{txs}]}}')
            customers = ",".join(truth_json(c) for c in state.customers.values())
            methods = ",".join(truth_json(m) for m in state.payment_methods.values())
        text = f'{{"customers":[{customers}],"invoices":[{",".join(invoices)}],"payment_methods":[{methods}]}}'
        return text.encode()

    def _flavour(self, request: Request) -> Response:
        flavour = str(read_json(request).get("flavour", ""))
        if flavour not in ("3", "4"):
            raise ValueError("flavour must be \"3\" or \"4\"")
        self.sandbox.flavour = flavour
        return json_response({"flavour": flavour})

    def _act(self, request: Request) -> Response:
        action = request.params["action"]
        if action not in self.acts.names:
            return json_response({"error": f"unknown action {action!r}; known: {sorted(self.acts.names)}"}, 404)
        with self.sandbox.state.lock:
            record = self.acts.run(action, read_json(request))
            return Response(200, truth_json(record).encode())

    @staticmethod
    def _guard(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            try:
                return handler(request)
            except HydraError as exc:
                return json_response({"error": exc.message}, exc.status)
            except (ValueError, TypeError, KeyError) as exc:
                return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
        return run
