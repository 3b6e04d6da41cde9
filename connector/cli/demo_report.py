"""What `connector demo` prints about a push cycle: what moved where (origin service -> target, per kind and
outcome), the reasons of refusals in a few words, and how long each step took.

A move is an outbox row that reached an outcome during the cycle: created or updated at the target, refused
(`failed`, with the service's or the mapping's reason), `unsupported`, or still `pending` after a transient
failure. Its origin is the service the pushed version came from: among the entity's links at other services,
the one holding the entity's current canonical version (a pull that brought the change in), else the most
recently changed one. The origins are read before the push, since each push makes its target a holder too.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Connection

from connector.domain import KIND_ORDER, OutboxStatus, PushOperation
from connector.store import reports
from connector.store.conflicts import latest_conflicts

__all__ = ["OUTCOMES", "Move", "moves_since", "origins", "outbox_marks", "print_conflicts", "print_moves", "took"]

OUTCOMES = ("created", "updated", OutboxStatus.UNSUPPORTED, OutboxStatus.FAILED, OutboxStatus.PENDING)
# Reasons in a few words, by a fragment of the error text (the first match wins).
_REASONS = (
    ("vat_rate", "a VAT rate Belgium does not have"),
    ("discount_percent", "a line discount"),
    ("currency", "not in EUR"),
    ("E.164", "a phone number not in E.164 form"),
    ("cannot update", "cannot be updated there once created"),
    ("cannot create", "cannot be created there"),
)


@dataclass(frozen=True, slots=True)
class Move:
    """One outbox row's outcome in a cycle."""

    origin: str
    target: str
    kind: str
    outcome: str  # one of OUTCOMES
    reason: str | None = None


def took(started: float) -> str:
    """Seconds since `started` (a `time.monotonic()` reading), for the end of a printed step."""
    return f"{time.monotonic() - started:.1f} s"


def outbox_marks(conn: Connection) -> dict[int, str]:
    """Every outbox row's status by id: taken before a push, to tell what the push did."""
    return reports.outbox_statuses(conn)


def origins(conn: Connection) -> dict[tuple[str, int], list[str]]:
    """Per (kind, entity id), the connections holding it, the likeliest origin of its current version first."""
    found: dict[tuple[str, int], list[str]] = {}
    for kind in KIND_ORDER:
        rows = [row[1:] for row in reports.entity_holders(conn, [kind])]
        rows.sort(key=lambda r: (r[2] == r[5], r[3] is not None, r[3] or 0, -r[4]), reverse=True)
        for entity_id, connection, *_ in rows:
            found.setdefault((kind, int(entity_id)), []).append(str(connection))
    return found


def moves_since(
    conn: Connection, marks: dict[int, str], holders: dict[tuple[str, int], list[str]]
) -> list[Move]:
    """The outbox rows that are new or changed status since `marks`, as moves from their origins."""
    moved = []
    for row in reports.outbox_rows(conn, None, None, None):
        row_id, target, kind, entity_id = row["id"], row["connection"], row["entity_kind"], row["entity_id"]
        operation, status, error = row["operation"], row["status"], row["last_error"]
        if marks.get(int(row_id)) == status or status == OutboxStatus.SUPERSEDED:
            continue
        others = [c for c in holders.get((kind, int(entity_id)), []) if c != target]
        outcome = {OutboxStatus.DONE: "created" if operation == PushOperation.CREATE else "updated"}.get(status, status)
        reason = _reason(str(error)) if outcome in (OutboxStatus.FAILED, OutboxStatus.UNSUPPORTED) and error else None
        moved.append(Move(others[0] if others else "?", str(target), str(kind), outcome, reason))
    return moved


def _reason(error: str) -> str:
    for fragment, words in _REASONS:
        if fragment in error:
            return words
    text = error.rsplit("-> ", 1)[-1]
    return re.sub(r"\d+", "N", text)[:70]


def print_moves(moved: list[Move], indent: str = "    ") -> None:
    """Print the moves as a table (origin -> target, kind, a column per outcome) and the refusals' reasons."""
    if not moved:
        print(f"{indent}nothing moved")
        return
    counts = Counter((m.origin, m.target, m.kind, m.outcome) for m in moved)
    routes = sorted({(m.origin, m.target, m.kind) for m in moved}, key=lambda r: (r[0], r[1], KIND_ORDER.index(r[2])))
    shown = [o for o in OUTCOMES if any(m.outcome == o for m in moved) or o in OUTCOMES[:4]]
    print(f"{indent}{'from':<14} {'to':<14} {'kind':<8}" + "".join(f" {o:>11}" for o in shown))
    for origin, target, kind in routes:
        cells = "".join(f" {counts[(origin, target, kind, o)]:>11}" for o in shown)
        print(f"{indent}{origin:<14} {target:<14} {kind:<8}{cells}")
    reasons = Counter((m.target, m.kind, m.outcome, m.reason) for m in moved if m.reason)
    for target in sorted({t for t, *_ in reasons}):
        said = ", ".join(
            f"{n} {kind}{'s' if n > 1 else ''} {outcome} ({reason})"
            for (t, kind, outcome, reason), n in sorted(reasons.items(), key=lambda kv: -kv[1])
            if t == target
        )
        print(f"{indent}  at {target}: {said}")


def print_conflicts(conn: Connection, since: int, indent: str = "    ") -> int:
    """Print the conflict rows recorded after row id `since` (both sides and the decision); return the last id."""
    rows = [r for r in latest_conflicts(conn) if int(r["id"]) > since]
    for r in reversed(rows):
        sides = "; ".join(
            f"{side}: " + ", ".join(f"{k}={v}" for k, v in sorted(values.items()))
            for side, values in (r["versions"] or {}).items()
        )
        print(f"{indent}conflict on {r['entity_kind']} {r['entity_id']} ({sides}) -> {r['decision']} ({r['policy']})")
    return max([since, *(int(r["id"]) for r in rows)])
