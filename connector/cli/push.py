"""`connector push [--connection NAME] [--dry-run [--summary] [--json]]`, `connector outbox [--all] [--json]`,
`connector outbox retry ID` and `connector conflicts [--json]`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from connector.app import App
from connector.cli.leased import leased_app
from connector.cli.output import print_json, when
from connector.cli.progress import progress_of
from connector.cli.push_plan import plan_json, print_plan, print_summary
from connector.clock import as_utc
from connector.domain import OutboxStatus
from connector.errors import ConfigError
from connector.store import reports
from connector.store.outbox import due_count
from connector.sync.push.drain import retry_row

__all__ = ["conflicts", "outbox", "push"]

_SHOWN = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.UNSUPPORTED)


def _short(value: Any, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def push(app: App, args: argparse.Namespace) -> int:
    """Plan and send (or, with --dry-run, only print) the pushes; exit 1 when a row failed this run.

    Sending holds the lease of every target connection (`connector.cli.leased`); the dry run reads only.
    """
    if args.dry_run:
        plans = app.push_plan(args.connection)
        if args.json:
            print_json(plan_json(plans, summary=args.summary))
        elif args.summary:
            print_summary(plans, sys.stdout)
        else:
            print_plan(plans, sys.stdout, _short)
        return 0
    for flag in ("summary", "json"):
        if getattr(args, flag):
            raise ConfigError("connector push", f"--{flag}", "only with --dry-run")
    failed = 0
    targets = [conn.name for conn in app.push_targets(args.connection)]
    with leased_app(app, targets, args.wait) as (worker, _guard), progress_of(worker, "push", targets) as shown:
        with worker.migrated_engine().connect() as conn:  # a push drains these besides what it plans
            shown.expect_rows(due_count(conn, targets, worker.clock.now()))
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
        rows = [_listed(r) for r in reports.outbox_rows(conn, None if args.all else _SHOWN, args.connection,
                                                          args.limit)]
        totals = reports.outbox_totals(conn, args.connection)
    if args.json:
        print_json({"connection": args.connection, "totals": dict(sorted(totals.items())), "rows": rows})
        return 0
    whose = f" of {args.connection}" if args.connection else ""
    print(f"outbox{whose}: " + (", ".join(f"{n} {status}" for status, n in sorted(totals.items())) or "empty"))
    for r in rows:
        error = f"  {_short(r['last_error'], 120)}" if r["last_error"] else ""
        print(
            f"{r['id']:>6} {r['status']:<11} {r['connection']} {r['operation']} {r['entity_kind']} "
            f"{r['entity_id']} attempts={r['attempts']} updated={when(r['updated_at'])}{error}"
        )
    return 0


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    """An outbox row as listed: its instants in UTC, without the payload (`push --dry-run` shows that)."""
    listed = {k: v for k, v in row.items() if k != "payload"}
    for key in ("next_attempt_at", "created_at", "updated_at"):
        if key in listed:
            listed[key] = as_utc(listed[key])
    return listed


def conflicts(app: App, args: argparse.Namespace) -> int:
    """List conflict rows, newest first: what both sides had and what the policy decided."""
    from connector.store.conflicts import latest_conflicts as latest

    with app.migrated_engine().connect() as conn:
        rows = latest(conn, args.limit)
    for row in rows:
        row["created_at"] = as_utc(row["created_at"])
    if args.json:
        print_json(rows)
        return 0
    print(f"{len(rows)} conflict(s)" + (" (newest first)" if rows else ""))
    for r in rows:
        print(f"{r['id']:>6} {r['entity_kind']} {r['entity_id']} fields={r['field']} policy={r['policy']} "
              f"decision={r['decision']} at {when(r['created_at'])}")
        for side, values in (r["versions"] or {}).items():
            shown = ", ".join(f"{k}={_short(v, 40)}" for k, v in sorted(values.items()))
            print(f"         {side}: {shown}")
    return 0
