"""`connector demo`, the two-way part: the four sandboxes reseeded small, routed to one another, and four
cycles (pull every readable service, then push to every receiving one) into a fresh SQLite file.

Routing (each connection's `receives`): hydra takes clients, invoices and payments; Facturalia invoices;
FactuurSturen clients and payments; FastFaktura clients. Nothing goes back to where it came from.

1. The first cycle spreads what each service holds to the others; the table says what moved where, and each
   target's own count of records grew by exactly what the table says it created.
2. A person then works at the services: edits a client's e-mail at FastFaktura, books a payment at hydra on
   an invoice FactuurSturen issued, and marks a FastFaktura invoice paid. The next cycle carries the e-mail to
   FactuurSturen and hydra (not back to FastFaktura), the payment to FactuurSturen (whose own `open` for the
   invoice goes to 0.00) and the paid event to hydra; all of it checked against the sandboxes' truth.
3. A final cycle moves nothing anywhere: no echo of the pushes, no ping-pong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from connector.app import App
from connector.cli.demo_report import Move, moves_since, origins, outbox_marks, print_conflicts, print_moves, took
from connector.cli.sandboxes import sandbox_connection, sandbox_control
from connector.settings import Settings
from connector.store import reports
from connector.store.db import upgrade
from connector.sync.engine import ConnectionReport
from connector.sync.push.run import TargetPush

__all__ = ["ROUTES", "SIZES", "Acts", "Cycle", "TwoWayDemo", "run_two_way"]

READABLE = ("factuursturen", "fastfaktura", "hydra")
SIZES = {"factuursturen": (6, 12), "fastfaktura": (6, 12), "hydra": (6, 12)}  # seeded (clients, invoices)
SEEDED_DAYS = 120  # invoices of the last four months: some paid, some open
ROUTES: dict[str, list[str]] = {
    "factuursturen": ["client", "payment"],
    "fastfaktura": ["client"],
    "hydra": ["client", "invoice", "payment"],
    "facturalia": ["invoice"],
}
NEW_EMAIL = "billing.demo@example.no"
_FAST = {"rate_limit": 1_000_000}  # far above what the demo needs: seconds, not a paced hour
_OPTIONS: dict[str, dict[str, Any]] = {
    "factuursturen": {},  # keeps its real 250 requests per hour: the demo needs a fraction of it
    "facturalia": {**_FAST, "options": {"default_product_code": "CONSULT"}},
}
_COUNT_KEYS = {"hydra": {"client": "customers", "payment": "transactions"}}  # each sandbox's own names
_OPEN = ("sent", "overdue", "partially_paid")


@dataclass(slots=True)
class Cycle:
    """What one cycle did."""

    pulls: dict[str, ConnectionReport]
    pushes: list[TargetPush]
    moves: list[Move]
    received: bool  # every target's own counts grew by what the moves say it created


@dataclass(slots=True)
class Acts:
    """What the person did between the first and second cycle (remote ids per service)."""

    client: dict[str, str]  # the FastFaktura client whose e-mail changed, and its copies
    fs_invoice: str  # FactuurSturen's invoice paid at hydra
    fs_open: str  # its open amount before
    fs_payments: int  # FactuurSturen's payment count before
    ff_invoice: str  # hydra's copy of the FastFaktura invoice marked paid there
    ff_amount: Decimal


def run_two_way(sandboxes: dict[str, Any], path: Path) -> bool:
    """Run the two-way part on the four running sandboxes into a fresh SQLite file at `path`; True when every
    check held (a MISMATCH line says which did not)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    demo = TwoWayDemo(sandboxes, path)
    started = time.monotonic()
    demo.reseed()
    print(f"\ntwo-way sync: the four sandboxes reseeded small, database {path} ({took(started)})")
    for name, kinds in ROUTES.items():
        print(f"  {name:<14} receives {', '.join(kinds)}")

    first = demo.cycle(1, "what each service holds spreads to the services routed to receive it")
    acts = demo.act_as_a_person()
    second = demo.cycle(2, "what the person did moves on")
    ok = demo.check_acts(acts, second.moves)
    echo = demo.cycle(3, "the copies those pushes made are read back")
    final = demo.cycle(4, "final: nothing may move")
    checks = {
        "every target received what the tables say it created": all(c.received for c in (first, second, echo, final)),
        "reading the copies back writes nothing to any service": _requests(echo) == 0,
        "nothing moved anywhere in the final cycle (no echo, no ping-pong)": _quiet(final),
    }
    print("\n  two-way checks:")
    return _verdict(checks) and ok


class TwoWayDemo:
    """The sandboxes, their control surfaces and one App routing among them; `run_two_way` runs its steps."""

    def __init__(self, sandboxes: dict[str, Any], path: Path) -> None:
        """Args: sandboxes: the four running sandboxes by service name. path: a fresh SQLite file."""
        self.controls = {name: sandbox_control(sandbox) for name, sandbox in sandboxes.items()}
        connections = [
            sandbox_connection(name, sandboxes[name], name, receives=kinds, **_OPTIONS.get(name, _FAST))
            for name, kinds in ROUTES.items()
        ]
        self.app = App(Settings(database_url=f"sqlite:///{path}"), connections=connections)
        upgrade(self.app.engine)
        self.conflicts_seen = 0

    def reseed(self) -> None:
        """Empty every sandbox and seed the readable ones small (the same seed, so the same data each run)."""
        for name, control in self.controls.items():
            control.post("/reset").raise_for_status()
            if name != "factuursturen":
                control.post("/ratelimit", json={"limit": 1_000_000, "window_seconds": 60}).raise_for_status()
        end = date.today() - timedelta(days=1)
        span = {"start_date": (end - timedelta(days=SEEDED_DAYS)).isoformat(), "end_date": end.isoformat()}
        for name, (clients, invoices) in SIZES.items():
            body = {"seed": 42, "clients": clients, "invoices": invoices, **span}
            self.controls[name].post("/seed", json=body).raise_for_status()

    def cycle(self, number: int, title: str) -> Cycle:
        """Pull every readable service, push to every receiving one, print what moved where."""
        started = time.monotonic()
        pulls = {name: self.app.sync(name) for name in READABLE}
        said = ", ".join(
            f"{name} {r.totals.read} read/{r.totals.created} new/{r.totals.updated} changed"
            + (f"/{r.totals.conflicts} conflicts" if r.totals.conflicts else "")
            for name, r in pulls.items()
        )
        print(f"\n  cycle {number}, {title}\n    pull: {said} ({took(started)})")
        with self.app.engine.connect() as conn:
            self.conflicts_seen = print_conflicts(conn, self.conflicts_seen)
            marks, holders = outbox_marks(conn), origins(conn)
        before = self._counts()
        started = time.monotonic()
        pushes = self.app.push()
        with self.app.engine.connect() as conn:
            moves = moves_since(conn, marks, holders)
        cycle = Cycle(pulls, pushes, moves, self._received(before, self._counts(), moves))
        print(f"    push: {len(moves)} moves, {_requests(cycle)} requests ({took(started)})")
        print_moves(moves)
        return cycle

    def _counts(self) -> dict[str, dict[str, Any]]:
        return {name: control.get("/state/counts").raise_for_status().json() for name, control in self.controls.items()}

    def _received(self, before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], moves: list[Move]) -> bool:
        ok = True
        for target, kinds in ROUTES.items():
            for kind in kinds:
                key = _COUNT_KEYS.get(target, {}).get(kind, f"{kind}s")
                grew = int(after[target].get(key, 0)) - int(before[target].get(key, 0))
                told = sum(1 for m in moves if (m.target, m.kind, m.outcome) == (target, kind, "created"))
                if grew != told:
                    print(f"    MISMATCH: {target} holds {grew} more {key}, the table says {told} created")
                    ok = False
        return ok

    def act_as_a_person(self) -> Acts:
        """Edit a client's e-mail at FastFaktura, pay a FactuurSturen invoice at hydra, mark a FastFaktura
        invoice paid; print what was done."""
        fs, ff, hy = (self.controls[name] for name in READABLE)
        with self.app.engine.connect() as conn:
            client = _held_everywhere(conn)
            fs_id, fs_at_hy = _open_invoice(conn, "factuursturen", hy)
            ff_id, ff_at_hy = _open_invoice(conn, "fastfaktura", hy)
        fs_before = _one(fs.get("/state").json()["invoices"], "id", fs_id)
        fs_payments = int(fs.get("/state/counts").json()["payments"])
        ff_paid = ff.post("/act/pay_invoice", json={"invoice_id": ff_id}).raise_for_status().json()
        edited = ff.post("/act/edit_client", json={"client_id": client["fastfaktura"], "changes": {"email": NEW_EMAIL}})
        edited.raise_for_status()
        hy.post("/act/add_transaction", json={"invoice": int(fs_at_hy), "amount": fs_before["open"]}).raise_for_status()
        print(
            f"\n  a person at the services:\n    at FastFaktura: the e-mail of client {edited.json()['name']!r} "
            f"becomes {NEW_EMAIL}\n    at hydra: a payment of {fs_before['open']} on FactuurSturen's invoice "
            f"{fs_before['invoicenr']} (hydra's {fs_at_hy})\n    at FastFaktura: invoice {ff_paid['number']} paid "
            f"by card ({Decimal(int(ff_paid['total_cents'])) / 100} {ff_paid['currency']})"
        )
        return Acts(client, fs_id, str(fs_before["open"]), fs_payments, ff_at_hy,
                    Decimal(int(ff_paid["total_cents"])) / 100)

    def check_acts(self, acts: Acts, moves: list[Move]) -> bool:
        """The person's changes reached where the routing sends them, from the sandboxes' truth."""
        fs, hy = self.controls["factuursturen"], self.controls["hydra"]
        fs_state, hy_state = fs.get("/state").json(), hy.get("/state").json()
        fs_client = _one(fs_state["clients"], "clientnr", acts.client["factuursturen"])
        hy_client = _one(hy_state["customers"], "id", acts.client["hydra"])
        invoice = _one(fs_state["invoices"], "id", acts.fs_invoice)
        copy = _one(hy_state["invoices"], "id", acts.ff_invoice)
        paid_at_hy = sum(Decimal(str(t["amount"])) for t in copy["transactions"] if not t["deleted"])
        print("    checked against the sandboxes' truth:")
        print(f"      e-mail at factuursturen {fs_client['email']}, at hydra {hy_client['email']}")
        print(f"      factuursturen {invoice['invoicenr']}: open {acts.fs_open} -> {invoice['open']}, "
              f"payments {acts.fs_payments} -> {len(fs_state['payments'])}")
        print(f"      hydra {acts.ff_invoice} (FastFaktura's): paid {paid_at_hy:.2f}, open {copy['openAmount']}")
        checks = {
            "the e-mail reached FactuurSturen and hydra": fs_client["email"] == hy_client["email"] == NEW_EMAIL,
            "nothing went back to FastFaktura": not any(m.target == "fastfaktura" for m in moves),
            "FactuurSturen's invoice is paid": Decimal(str(invoice["open"])) == 0
            and len(fs_state["payments"]) == acts.fs_payments + 1,
            "the paid event reached hydra": paid_at_hy == acts.ff_amount,
        }
        return _verdict(checks)


def _requests(cycle: Cycle) -> int:
    return sum(p.drain.requests for p in cycle.pushes if p.drain is not None)


def _quiet(cycle: Cycle) -> bool:
    """Pulls stored nothing new or changed, pushes queued nothing and sent nothing."""
    pulled = sum(r.totals.created + r.totals.updated + r.totals.conflicts for r in cycle.pulls.values())
    return pulled == 0 and not cycle.moves and sum(p.queued for p in cycle.pushes) == 0 and _requests(cycle) == 0


def _verdict(checks: dict[str, bool]) -> bool:
    for what, held in checks.items():
        print(f"      {'ok' if held else 'MISMATCH'}: {what}")
    return all(checks.values())


def _one(records: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    return next(r for r in records if str(r[key]) == value)


def _held_everywhere(conn: Any) -> dict[str, str]:
    """Remote ids of the first client FastFaktura gave that FactuurSturen and hydra now hold too."""
    held: dict[int, dict[str, str]] = {}
    rows = reports.client_links(conn, READABLE)
    pulled_from_ff: set[int] = set()
    for entity_id, connection, remote_id, written in rows:
        held.setdefault(int(entity_id), {})[str(connection)] = str(remote_id)
        if connection == "fastfaktura" and written is None:
            pulled_from_ff.add(int(entity_id))
    return next(h for e, h in held.items() if e in pulled_from_ff and len(h) == len(READABLE))


def _open_invoice(conn: Any, origin: str, hydra: httpx.Client) -> tuple[str, str]:
    """(remote id at `origin`, remote id at hydra) of the first open invoice `origin` issued that hydra holds,
    preferring one in EUR whose open amount hydra agrees with."""
    copies = {str(i["id"]): i for i in hydra.get("/state").json()["invoices"]}

    def fit(row: Any) -> tuple[bool, bool]:
        agrees = int(Decimal(str(copies[str(row[1])]["openAmount"])) * 100) == int(row[2] or 0)
        return (row[3] != "EUR", not agrees)

    held = reports.open_invoices_held_at(conn, origin, "hydra", _OPEN)
    best = min(held, key=fit)  # min() keeps the first of equals: the oldest invoice
    return str(best[0]), str(best[1])
