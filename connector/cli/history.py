"""`connector runs` (the run history) and `connector state reset` (forget a stream's cursor), as dlt and Meltano
offer: what ran when and how it ended, and a way to make a stream start over.

Exit codes: `runs` 0 (1 when the newest run it shows of some stream failed). `state reset`: 0 reset (or
nothing to reset after all), 1 not confirmed, 2 an unknown connection or a stream without a cursor (the
message lists those with one), 3 database not migrated, 5 the connection's lease is held elsewhere (a daemon
or command is working on it: resetting under it would be overwritten by its next page).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from connector.app import App
from connector.cli.leased import LEASE_EPILOG, add_wait_option, leased_app
from connector.cli.output import print_json, when
from connector.domain import RunStatus
from connector.errors import ConfigError
from connector.store import runs as run_store

__all__ = ["add_history_parsers", "runs_command", "state_reset_command"]

EXIT_OK, EXIT_FAILED, EXIT_NOT_CONFIRMED = 0, 1, 1


def add_history_parsers(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """Register ``connector runs`` and ``connector state reset`` on the subcommands `sub`."""
    runs = sub.add_parser(
        "runs",
        help="the run history: every pull, sweep, audit and backfill window run, newest first",
        description="List the runs recorded in the database, newest first: connection/stream, mode (incremental, "
        "full, backfill, sweep, audit...), status (ok, failed, interrupted, running; gap audits: repaired, gap), "
        "when it started and finished (with the zone), its duration, the window it covered, what it did and its "
        "error. Exits 1 when, among the runs shown, the newest of some stream failed.",
        formatter_class=formatter,
    )
    runs.add_argument("--connection", help="only this connection's runs")
    runs.add_argument("--stream", help="only this stream's runs (e.g. invoices, sweep, backfill:invoices)")
    runs.add_argument("--limit", type=_positive, default=50, help="runs to show (default 50)")
    runs.add_argument("--json", action="store_true", help="print JSON instead of text")
    runs.set_defaults(func=runs_command)

    state = sub.add_parser(
        "state",
        help="a stream's stored cursor: reset it so the next sync starts over",
        description="Manage the cursors the connector keeps per connection and stream.",
    )
    state_sub = state.add_subparsers(dest="state_command", required=True, metavar="ACTION")
    reset = state_sub.add_parser(
        "reset",
        help="forget a stream's cursor: its next sync reads everything again",
        description="Delete the stored cursor of one connection's stream (its high-water mark and any page "
        "checkpoint), after showing it and asking for confirmation (--yes skips the question). The next sync of "
        "the stream reads everything again, as a first sync does; records already stored stay and are matched "
        "again, nothing is deleted. A backfill's position is the stream backfill:<stream> (or use `connector "
        "backfill --restart`). The connection's lease is held while resetting, so no daemon or command is "
        "working on the stream meanwhile.",
        epilog="exit codes: 0 reset, 1 not confirmed, 2 unknown connection or a stream without a cursor, "
        "3 database not migrated, 5 the connection's lease is held elsewhere.\n\n" + LEASE_EPILOG,
        formatter_class=formatter,
    )
    reset.add_argument("--connection", required=True, help="connection name from the connections file")
    reset.add_argument("--stream", required=True, help="the stream whose cursor to forget")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_wait_option(reset)
    state.set_defaults(func=state_reset_command)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give 1 or more")
    return value


# -- connector runs ------------------------------------------------------------------------------------------


def runs_command(app: App, args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """`connector runs [--connection C] [--stream S] [--limit N] [--json]`."""
    out = out or sys.stdout
    rows = run_store.run_history(app.migrated_engine(), connection=args.connection, stream=args.stream,
                                 limit=args.limit)
    if args.json:
        print_json(rows, out)
    else:
        what = " of ".join(p for p in (args.stream, args.connection) if p) or "all connections"
        print(f"{len(rows)} run(s) of {what}, newest first" if rows else f"no runs recorded for {what}", file=out)
        for row in rows:
            print(_run_line(row), file=out)
    newest: dict[tuple[str, str], str] = {}
    for row in rows:  # newest first: the first seen of each stream is its newest
        newest.setdefault((row["connection"], row["stream"]), row["status"])
    return EXIT_FAILED if RunStatus.FAILED in newest.values() else EXIT_OK


def _run_line(row: dict[str, Any]) -> str:
    seconds = row["duration_seconds"]
    window = (f" window={when(row['window_start'])}..{when(row['window_end'])}"
              if row["window_start"] or row["window_end"] else "")
    line = (
        f"{row['id']:>6} {row['connection']}/{row['stream']} {row['mode']} {row['status']} "
        f"started={when(row['started_at'])} finished={when(row['finished_at'])} "
        f"duration={f'{seconds:.1f}s' if seconds is not None else '-'}{window} pages={row['pages']} "
        f"read={row['records_read']} created={row['created']} updated={row['updated']} deleted={row['deleted']} "
        f"quarantined={row['quarantined']} requests={row['requests']}"
    )
    return line + (f"\n         error: {row['error']}" if row["error"] else "")


# -- connector state reset -----------------------------------------------------------------------------------


def state_reset_command(
    app: App, args: argparse.Namespace, *, out: TextIO | None = None, answer: TextIO | None = None
) -> int:
    """`connector state reset --connection C --stream S [--yes]`: show the cursor, confirm, delete it.

    Raises:
        ConfigError: an unknown connection, or a stream without a stored cursor (exit 2).
        LeaseHeld: another holder works on the connection (exit 5).
    """
    out, answer = out or sys.stdout, answer or sys.stdin
    conn = app.connection(args.connection)
    engine = app.migrated_engine()
    known = run_store.cursor_streams(engine, conn.name)
    if args.stream not in known:
        raise ConfigError(
            f"connection '{conn.name}'", "--stream",
            f"{args.stream!r} has no stored cursor; streams with one: {', '.join(known) or 'none'}",
        )
    where = f"{conn.name}/{args.stream}"
    print(f"{where}: cursor {_describe(run_store.load_cursor(engine, conn.name, args.stream))}", file=out)
    if not args.yes:
        print(f"Reset it? The next sync of {where} reads everything again (stored records stay). [y/N] ",
              end="", file=out, flush=True)
        reply = answer.readline().strip().lower()
        if reply not in ("y", "yes"):
            print(f"{where}: not reset (answer y to reset, or pass --yes)", file=out)
            return EXIT_NOT_CONFIRMED
    with leased_app(app, [conn.name], args.wait) as (worker, _guard):
        held = run_store.reset_cursor(worker.migrated_engine(), conn.name, args.stream)
    if held is None:
        print(f"{where}: the cursor was already gone; nothing to reset", file=out)
    else:
        print(f"{where}: cursor reset; the next sync reads everything again", file=out)
    return EXIT_OK


def _describe(cursor: dict[str, Any]) -> str:
    parts = [f"{key}={cursor[key]}" for key in ("high_water", "window_end", "at", "status") if cursor.get(key)]
    if cursor.get("progress"):
        parts.append("a window in progress (its page checkpoint goes too)")
    if cursor.get("plan") or cursor.get("plans"):
        parts.append("a backfill plan")
    return ", ".join(parts) or "(empty)"
