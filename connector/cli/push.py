"""`connector push [--connection NAME] [--dry-run]`, `connector outbox [--all]` and `connector outbox retry ID`."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from connector.app import App
from connector.cli.leased import leased_app
from connector.cli.progress import progress_of
from connector.store.tables import Outbox
from connector.sync.push import retry_row

__all__ = ["conflicts", "outbox", "push"]

_outbox = Outbox.__table__  # type: ignore[attr-defined]
_SHOWN = ("pending", "failed", "unsupported")


def _short(value: Any, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def push(app: App, args: argparse.Namespace) -> int:
    """Plan and send (or, with --dry-run, only print) the pushes; exit 1 when a row failed this run.

    Sending holds the lease of every target connection (`connector.cli.leased`); the dry run reads only.
    """
    if args.dry_run:
        for target, lines in app.push_plan(args.connection).items():
            by_op: dict[str, int] = {}
            for line in lines:
                by_op[line.plan.operation] = by_op.get(line.plan.operation, 0) + 1
            summary = ", ".join(f"{n} {op}" for op, n in sorted(by_op.items())) or "nothing to push"
            print(f"{target}: {summary} (dry run: no service was called)")
            for line in lines:
                plan = line.plan
                where = f" -> {plan.remote_id}" if plan.remote_id else ""
                print(f"  {plan.operation:<11} {plan.kind} {plan.entity_id} v{plan.version}{where}")
                if line.note:
                    print(f"      {line.note}")
                for key, (before, after) in line.diff.items():
                    print(f"      {key}: {_short(before)} -> {_short(after)}")
        return 0
    failed = 0
    targets = [conn.name for conn in app.push_targets(args.connection)]
    with leased_app(app, targets, args.wait) as (worker, _guard), progress_of(worker, "push", targets) as shown:
        shown.expect_rows(due_rows(worker.migrated_engine(), targets, worker.clock.now()))
        results = worker.push(args.connection)
    for result in results:
        d = result.drain
        assert d is not None
        failed += d.failed
        print(
            f"{result.target}: planned {result.planned} (queued {result.queued}); done {d.done}, failed {d.failed}, "
            f"unsupported {d.unsupported}, deferred {d.deferred}, superseded {d.superseded}; {d.requests} requests"
        )
        for error in d.errors[:5]:
            print(f"  failed: {_short(error, 200)}")
    return 1 if failed else 0


def due_rows(engine: Any, targets: list[str], now: datetime) -> int:
    """Outbox rows of `targets` pending and due now (a push drains them besides what it plans)."""
    due = (_outbox.c.next_attempt_at.is_(None)) | (_outbox.c.next_attempt_at <= now)
    query = select(func.count()).where(_outbox.c.connection.in_(targets), _outbox.c.status == "pending", due)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def outbox(app: App, args: argparse.Namespace) -> int:
    """List outbox rows (pending, failed, unsupported; --all for every status) or retry one."""
    engine = app.migrated_engine()
    if args.outbox_command == "retry":
        if not retry_row(engine, args.id, app.clock.now()):
            print(f"no outbox row {args.id}")
            return 1
        print(f"outbox row {args.id} is pending again")
        return 0
    query = select(_outbox).order_by(_outbox.c.id)
    if not args.all:
        query = query.where(_outbox.c.status.in_(_SHOWN))
    if args.connection:
        query = query.where(_outbox.c.connection == args.connection)
    with engine.connect() as conn:
        rows = conn.execute(query.limit(args.limit)).mappings().all()
        totals: dict[str, int] = {
            str(s): int(n) for s, n in conn.execute(select(_outbox.c.status, func.count()).group_by(_outbox.c.status))
        }
    print("outbox: " + (", ".join(f"{n} {status}" for status, n in sorted(totals.items())) or "empty"))
    for r in rows:
        error = f"  {_short(r['last_error'], 120)}" if r["last_error"] else ""
        print(
            f"{r['id']:>6} {r['status']:<11} {r['connection']} {r['operation']} {r['entity_kind']} "
            f"{r['entity_id']} attempts={r['attempts']}{error}"
        )
    return 0


def conflicts(app: App, args: argparse.Namespace) -> int:
    """List conflict rows, newest first: what both sides had and what the policy decided."""
    from connector.sync.conflicts import conflicts as latest

    with app.migrated_engine().connect() as conn:
        rows = latest(conn, args.limit)
    print(f"{len(rows)} conflict(s)" + (" (newest first)" if rows else ""))
    for r in rows:
        print(f"{r['id']:>6} {r['entity_kind']} {r['entity_id']} fields={r['field']} policy={r['policy']} "
              f"decision={r['decision']} at {r['created_at']}")
        for side, values in (r["versions"] or {}).items():
            shown = ", ".join(f"{k}={_short(v, 40)}" for k, v in sorted(values.items()))
            print(f"         {side}: {shown}")
    return 0
