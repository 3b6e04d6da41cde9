"""`connector audit`: compare what a service lists with the store, bring back what is missing, report the gap.

See `connector.sync.pull.gap` for what the audit does and costs. The command holds the connection's lease while it
works, like `sync`. Exit codes: 0 nothing is missing (or everything missing was brought back), 1 records are
still missing (or the service failed), 2 bad usage or configuration (an unknown connection or kind, a service
that cannot be audited), 3 database not migrated, 4 interrupted, 5 the connection's lease is held elsewhere.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from connector.app import App
from connector.cli.leased import LEASE_EPILOG, add_wait_option
from connector.domain import ENTITY_KINDS
from connector.observability.logging import secrets
from connector.settings import resolve_secret
from connector.sync.pull.gap import AuditReport

__all__ = ["add_audit_parser", "audit_command"]

EXIT_OK, EXIT_GAP = 0, 1


def add_audit_parser(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """Register ``connector audit`` on the subcommands `sub`."""
    parser = sub.add_parser(
        "audit",
        help="compare the service's ids with the store per kind; read back what is missing; exit 1 if a gap stays",
        description="The gap audit of one connection: list every id of each kind the service can list cheaply "
        "(the deletion sweep's listing) and can read by id, find those the store does not hold (no live record; "
        "records in open quarantine are not missing: the runs re-read those), and read them by id (at most the "
        "connection's audit_max_fetch per audit) into the store. Costs the listing plus one request per record "
        "read. Records the store holds that the service no longer lists are the deletion sweep's. The result "
        "per kind (listed, missing, fetched, remaining) is kept for `connector status` and the "
        "connector_gap_records metric.",
        epilog="exit codes: 0 nothing missing, or everything missing brought back; 1 records still missing (or "
        "the service failed); 2 bad usage or configuration (unknown connection or kind, a service that cannot "
        "be audited); 3 database not migrated; 4 interrupted; 5 the connection's lease is held elsewhere.\n\n"
        + LEASE_EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--connection", required=True, help="connection name from the connections file")
    parser.add_argument("--kind", choices=ENTITY_KINDS, help="only this kind (default: all)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_wait_option(parser)
    parser.set_defaults(func=audit_command)


def audit_command(app: App, args: argparse.Namespace) -> int:
    """`connector audit --connection NAME [--kind K] [--json]`: run it, print it, exit 1 while a gap stays."""
    from connector.cli.leased import leased_app

    conn = app.connection(args.connection)
    secret = resolve_secret(conn)
    if secret:
        secrets.add(secret.get_secret_value())
    with leased_app(app, [conn.name], args.wait) as (worker, _guard):
        report = worker.audit(conn.name, kind=args.kind)
    if args.json:
        print(json.dumps(_as_json(report), indent=2))
    else:
        for gap in report.kinds:
            print(
                f"{report.connection}/{gap.kind}: listed={gap.listed} missing={gap.missing} fetched={gap.fetched} "
                f"remaining={gap.remaining}"
            )
        print(f"{report.connection}: {report.status} requests={report.requests} {report.seconds:.2f}s")
    return EXIT_GAP if report.remaining else EXIT_OK


def _as_json(report: AuditReport) -> dict[str, Any]:
    return {
        "connection": report.connection,
        "status": report.status,
        "kinds": {gap.kind: gap.as_json() for gap in report.kinds},
        "requests": report.requests,
        "seconds": round(report.seconds, 3),
    }
