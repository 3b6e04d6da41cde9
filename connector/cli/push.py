"""`connector push [--connection NAME] [--dry-run]`, `connector outbox [--all]` and `connector outbox retry ID`."""

from __future__ import annotations

import argparse
from typing import Any

from connector.app import App
from connector.cli.leased import leased_app
from connector.store import reports
from connector.sync.push.drain import retry_row

__all__ = ["conflicts", "outbox", "push"]

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
    with leased_app(app, targets, args.wait) as (worker, _guard):
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


def outbox(app: App, args: argparse.Namespace) -> int:
    """List outbox rows (pending, failed, unsupported; --all for every status) or retry one."""
    engine = app.migrated_engine()
    if args.outbox_command == "retry":
        if not retry_row(engine, args.id, app.clock.now()):
            print(f"no outbox row {args.id}")
            return 1
        print(f"outbox row {args.id} is pending again")
        return 0
    with engine.connect() as conn:
        rows = reports.outbox_rows(conn, None if args.all else _SHOWN, args.connection, args.limit)
        totals = reports.outbox_totals(conn)
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
    from connector.store.conflicts import latest_conflicts as latest

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
