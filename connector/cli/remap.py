"""`connector remap`: apply the current mapping (with the user's overrides) to the payloads the store already holds.

No request is made: each live record of the connection is mapped again from the payload last read there (see
`connector.sync.replay`). A canonical record changes (and its version moves) only where the result differs; the
next `connector push` then carries the change to the connections that receive it. The command holds the
connection's lease while it writes, like `sync`; `--dry-run` takes none and writes nothing.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from connector.app import App
from connector.cli.leased import LEASE_EPILOG, add_wait_option
from connector.domain import ENTITY_KINDS
from connector.sync.replay import RemapReport

__all__ = ["add_remap_parser", "remap_command"]


def add_remap_parser(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """Register ``connector remap`` on the subcommands `sub`."""
    parser = sub.add_parser(
        "remap",
        help="apply the current mappings to the stored payloads of a connection, without a request",
        description="Map every live record of a connection again from the payload last read there, with the "
        "current mapping and the overrides in CONNECTOR_MAPPINGS_DIR, without calling the service. A canonical "
        "record changes (and its version moves) only where the result differs; the next `connector push` carries "
        "the change to the connections that receive it. Prints one line per changed record with its changed "
        "fields (old -> new); --dry-run prints the same and writes nothing.",
        epilog="exit codes: 0 ok, 2 bad usage or configuration (an unknown connection, a mapping error, reference "
        "lists no pull kept), 3 database not migrated, 4 interrupted by SIGTERM or SIGINT (it works in batches of "
        "500 records, each committed: the same command finishes the job), 5 the connection's lease is held "
        "elsewhere.\n\n"
        + LEASE_EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--connection", required=True, help="connection name from the connections file")
    parser.add_argument("--kind", choices=ENTITY_KINDS, help="only this kind (default: all)")
    parser.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_wait_option(parser)
    parser.set_defaults(func=remap_command)


def remap_command(app: App, args: argparse.Namespace) -> int:
    """`connector remap --connection C [--kind K] [--dry-run] [--json]`: remap, then print what changed."""
    from connector.cli.leased import leased_app

    conn = app.connection(args.connection)
    if args.dry_run:
        report = app.remap(conn.name, kind=args.kind, dry_run=True)
    else:
        with leased_app(app, [conn.name], args.wait) as (worker, _guard):
            report = worker.remap(conn.name, kind=args.kind)
    if args.json:
        print(json.dumps(_as_json(report), indent=2))
    else:
        _print(report)
    return 0


def _print(report: RemapReport) -> None:
    verb = "would change" if report.dry_run else "changed"
    for change in report.changes:
        fields = "; ".join(f"{name}: {_short(old)} -> {_short(new)}" for name, (old, new) in change.fields.items())
        print(f"{report.connection}/{change.kind} {change.remote_id} (#{change.entity_id}) {verb}: {fields}")
    c = report.counts
    print(
        f"{report.connection}: remapped={report.read} {verb}={len(report.changes)} quarantined={c.quarantined} "
        f"requests=0{' (dry run: nothing written)' if report.dry_run else ''}"
    )


def _short(value: object) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _as_json(report: RemapReport) -> dict[str, Any]:
    return {
        "connection": report.connection,
        "dry_run": report.dry_run,
        "remapped": report.read,
        "changed": [change.as_json() for change in report.changes],
        "quarantined": report.counts.quarantined,
        "requests": 0,
    }
