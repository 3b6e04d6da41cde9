"""`connector quarantine`: list the records that could not be stored, replay them from their payloads, drop one.

A record is quarantined with its payload and the reason (a value the mapping cannot read, a reference not yet
stored). `retry` maps that payload again with the current mapping and the overrides in CONNECTOR_MAPPINGS_DIR,
without a request (see `connector.sync.replay.retry_quarantined`): a record that now maps is stored and leaves the
quarantine; one that does not stays, with the new reason. `drop` closes a row without storing its record.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from connector.app import App
from connector.cli.leased import LEASE_EPILOG, add_wait_option
from connector.errors import ConfigError
from connector.store.quarantine import QuarantineRow, drop_row, open_rows, rows_by_id
from connector.sync.replay import RetryResult

__all__ = ["add_quarantine_parser", "quarantine_command"]

EXIT_OK, EXIT_STILL = 0, 1


def add_quarantine_parser(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """Register ``connector quarantine`` on the subcommands `sub`."""
    parser = sub.add_parser(
        "quarantine",
        help="records that could not be stored: list them, replay them from their payloads, drop one",
        description="`connector quarantine [list]` lists the open quarantine rows (id, connection, kind, remote id, "
        "reason). `retry ID...` or `retry --all` maps the stored payload of those records again with the current "
        "mapping and the overrides in CONNECTOR_MAPPINGS_DIR, without calling any service: a record that now maps "
        "is stored and leaves the quarantine, one that does not stays with the new reason. `drop ID` closes a "
        "row without storing the record (a later pull quarantines it again if it still fails).",
        epilog="exit codes: 0 ok (retry: every record stored), 1 retry: records still quarantined, 2 bad usage "
        "(an unknown row id, a mapping error), 3 database not migrated, 5 a connection's lease is held "
        "elsewhere.\n\n" + LEASE_EPILOG,
        formatter_class=formatter,
    )
    _common(parser, after_action=False)
    actions = parser.add_subparsers(dest="quarantine_command", metavar="ACTION")
    listing = actions.add_parser("list", help="the open rows (the default)")
    retry = actions.add_parser("retry", help="map the rows' stored payloads again (no request)")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID", help="quarantine row ids")
    retry.add_argument("--all", action="store_true", help="every open row (of --connection, if given)")
    add_wait_option(retry)
    drop = actions.add_parser("drop", help="close a row without storing its record")
    drop.add_argument("id", type=int, metavar="ID", help="quarantine row id")
    for action in (listing, retry, drop):  # the options also after the action; given there, they win
        _common(action, after_action=True)
    parser.set_defaults(func=quarantine_command)


def _common(parser: argparse.ArgumentParser, *, after_action: bool) -> None:
    """``--json`` and ``--connection``, before the action or after it (given after it, they win)."""
    keep: dict[str, Any] = {"default": argparse.SUPPRESS} if after_action else {}
    parser.add_argument("--json", action="store_true", help="print JSON instead of text", **keep)
    parser.add_argument("--connection", help="only rows of this connection", **keep)


def quarantine_command(app: App, args: argparse.Namespace) -> int:
    """Dispatch `list` (default), `retry` and `drop`."""
    action = args.quarantine_command or "list"
    if action == "retry":
        return _retry(app, args)
    engine = app.migrated_engine()
    if action == "drop":
        with engine.begin() as conn:
            if not drop_row(conn, args.id, app.clock.now()):
                raise ConfigError("quarantine", str(args.id), "no open quarantine row with this id")
        _emit(args, {"dropped": args.id}, f"dropped quarantine row {args.id}")
        return EXIT_OK
    with engine.connect() as conn:
        rows = open_rows(conn, args.connection)
    if args.json:
        print(json.dumps([row.as_json() for row in rows], indent=2))
    else:
        for row in rows:
            print(_line(row))
        print(f"{len(rows)} open")
    return EXIT_OK


def _retry(app: App, args: argparse.Namespace) -> int:
    from connector.cli.leased import leased_app

    if bool(args.ids) == bool(args.all):
        raise ConfigError("connector quarantine retry", "ID", "give row ids or --all (not both)")
    with app.migrated_engine().connect() as conn:
        if args.all:
            rows = open_rows(conn, args.connection)
        else:
            found = rows_by_id(conn, args.ids)
            unknown = [i for i in args.ids if i not in found]
            if unknown:
                raise ConfigError("connector quarantine retry", str(unknown[0]), "no quarantine row with this id")
            rows = [found[i] for i in args.ids]
    by_connection: dict[str, list[int]] = {}
    for row in rows:
        by_connection.setdefault(row.connection, []).append(row.id)
    results: list[RetryResult] = []
    if by_connection:
        with leased_app(app, sorted(by_connection), args.wait) as (worker, _guard):
            for name, ids in by_connection.items():
                results.extend(worker.retry_quarantined(name, ids))
    stored = sum(r.stored for r in results)
    if args.json:
        print(json.dumps({"results": [r.as_json() for r in results], "stored": stored,
                          "still_quarantined": len(results) - stored, "requests": 0}, indent=2))
    else:
        for r in results:
            outcome = "stored" if r.stored else f"still quarantined: {r.error}"
            print(f"#{r.row_id} {r.connection}/{r.kind} {r.remote_id}: {outcome}")
        print(f"stored={stored} still_quarantined={len(results) - stored} requests=0")
    return EXIT_OK if stored == len(results) else EXIT_STILL


def _line(row: QuarantineRow) -> str:
    when = row.created_at.isoformat(timespec="seconds") if row.created_at else "?"
    return f"#{row.id} {row.connection}/{row.kind} {row.remote_id} ({row.stream}, {when}): {row.error}"


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data) if args.json else text)
