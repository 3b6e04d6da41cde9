"""The `connector` command line: one subcommand per job, each with a --help that explains it.

Exit codes: 0 success; 1 a sync or check failed (service error, failing connection); 2 bad usage or
configuration; 3 the database is not migrated (run `connector db upgrade`); 4 interrupted by SIGTERM or
SIGINT with the work so far committed (`connector backfill`: the same command resumes); 5 a connection's
lease is held by another holder (`sync`, `push`, `backfill`, `audit`: nothing was done; see
`connector.cli.leased`). `connector audit` exits 1 while records listed at the service stay missing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from connector.cli import commands
from connector.cli import daemon as daemon_commands
from connector.cli import push as push_commands
from connector.cli.audit import add_audit_parser
from connector.cli.backfill import instant_arg, span_arg
from connector.cli.history import add_history_parsers
from connector.cli.leased import LEASE_EPILOG, add_wait_option
from connector.cli.quarantine import add_quarantine_parser
from connector.cli.remap import add_remap_parser

__all__ = ["build_parser", "main"]

EPILOG = """exit codes: 0 ok, 1 failed (service or sync error), 2 bad usage or configuration,
3 database not migrated (run `connector db upgrade`), 4 interrupted (backfill: the same command resumes),
5 a connection is busy: its lease is held by a `connector run` replica or another command (sync, push, backfill).
configuration: CONNECTOR_DATABASE_URL (default sqlite:///data/connector.db), CONNECTOR_CONNECTIONS_FILE
(default config/connections.toml), CONNECTOR_MAPPINGS_DIR (user mapping overrides), CONNECTOR_LOG_LEVEL,
CONNECTOR_LOG_FORMAT (kv|json)."""


class ParagraphsFormatter(argparse.HelpFormatter):
    """Wraps each paragraph (separated by a blank line) of a description or epilog on its own."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n\n".join(super(ParagraphsFormatter, self)._fill_text(part, width, indent)
                            for part in text.split("\n\n"))


def _version() -> str:
    try:
        return metadata.version("invoice-connector")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="connector",
        description="Keep a canonical database of clients, invoices and payments in step with invoicing services.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser(
        "db",
        help="database schema: upgrade or show the revision",
        description="Manage the canonical database schema (Alembic migrations).",
    )
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser(
        "upgrade",
        help="migrate the database to the newest schema",
        description="Create or migrate the database at CONNECTOR_DATABASE_URL to the newest schema.",
    )
    db_sub.add_parser(
        "current",
        help="print the database's schema revision and the code's",
        description="Print the schema revision of the database and the one the code needs.",
    )
    db.set_defaults(func=commands.db)

    cfg = sub.add_parser(
        "config",
        help="check the settings and the connections file",
        description="Validate settings and the connections file; name the connection and key at fault.",
    )
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    cfg_sub.add_parser(
        "check",
        help="validate every connection, its credentials reference and its mapping",
        description="Read CONNECTOR_CONNECTIONS_FILE, validate every connection (provider, URL, options), resolve "
        "each credentials reference (api_key_env / api_key_file) and load its mapping. Exits 2 naming the "
        "connection and key at fault.",
    )
    cfg.set_defaults(func=commands.config_check)

    maps = sub.add_parser(
        "mappings",
        help="check the mapping files",
        description="Load and validate every mapping file, with the user's overrides.",
    )
    maps_sub = maps.add_subparsers(dest="mappings_command", required=True, metavar="ACTION")
    maps_sub.add_parser(
        "check",
        help="validate mappings/*.yaml and CONNECTOR_MAPPINGS_DIR overrides",
        description="Load every shipped mapping file and the user's overrides from CONNECTOR_MAPPINGS_DIR, "
        "validate them against the canonical model, and print a summary per provider. Exits 2 naming the "
        "file, entity and field at fault.",
    )
    maps.set_defaults(func=commands.mappings_check)

    sync = sub.add_parser(
        "sync",
        help="pull one connection into the canonical database now",
        description="Pull a connection's streams once: incremental windows from the stored cursors, "
        "or everything with --full (which also soft-deletes records the service no longer lists). SIGTERM or "
        "SIGINT stops after the page in hand (exit 4; a second one stops at once).",
        epilog="exit codes: 0 ok, 1 failed (or records listed at the service are still missing after the gap "
        "audit a short listing runs), 2 bad usage or configuration, 3 database not migrated, 4 interrupted, "
        "5 the connection's lease is held elsewhere.\n\n" + LEASE_EPILOG,
        formatter_class=ParagraphsFormatter,
    )
    sync.add_argument("--connection", required=True, help="connection name from the connections file")
    sync.add_argument(
        "--stream",
        action="append",
        metavar="S",
        help="only this stream (repeatable); `sweep` lists ids and soft-deletes what vanished",
    )
    sync.add_argument("--full", action="store_true", help="ignore cursors and read everything")
    add_wait_option(sync)
    sync.set_defaults(func=commands.sync)

    run = sub.add_parser(
        "run",
        help="the daemon: pull, push and sweep every connection on schedule (Ctrl-C / SIGTERM to stop)",
        description="Run every enabled connection's jobs on schedule: a pull per stream every "
        "pull_interval_seconds (stream_intervals per stream), a push every push_interval_seconds to connections "
        "with `receives`, and a deletion sweep on sweep_cron (UTC), each with jitter, never two runs of one job "
        "at once, missed runs coalesced. Serves /metrics, /healthz and /readyz on CONNECTOR_METRICS_HOST:"
        "CONNECTOR_METRICS_PORT (default 127.0.0.1:9464). Several replicas may share one PostgreSQL database: a "
        "connection's jobs run only on the replica holding its lease (CONNECTOR_LEASE_TTL_SECONDS, default 30; "
        "CONNECTOR_REPLICA_ID names the replica). SIGTERM or SIGINT: no new job starts, running ones commit the "
        "page in hand, leases are released, exit 0 (1 when jobs were still running after "
        "CONNECTOR_SHUTDOWN_GRACE_SECONDS, default 30; the next start resumes from the last committed page).",
    )
    run.add_argument(
        "--once",
        action="store_true",
        help="run every pull and push job once (for the connections whose lease this replica gets), then exit",
    )
    run.add_argument("--sweep", action="store_true", help="with --once: run the deletion sweeps too")
    run.set_defaults(func=daemon_commands.run)

    push = sub.add_parser(
        "push",
        help="send canonical changes to the connections that receive them",
        description="Plan the desired state for every connection with `receives` (or the named one): an entity "
        "whose current version the connection does not hold gets one outbox row; then drain the outbox at "
        "each service's pace. --dry-run prints the plan (creates, updates, unsupported, per target, with field "
        "diffs) from the database alone, without calling any service. Exits 1 when a push failed. SIGTERM or "
        "SIGINT stops after the row in hand (exit 4).",
        epilog="exit codes: 0 ok, 1 a push failed, 2 bad usage or configuration, 3 database not migrated, "
        "4 interrupted, 5 a target's lease is held elsewhere (the leases of every target are claimed before the "
        "first request; --dry-run takes none).\n\n" + LEASE_EPILOG,
        formatter_class=ParagraphsFormatter,
    )
    push.add_argument("--connection", help="only this target connection")
    push.add_argument("--dry-run", action="store_true", help="print the plan; call no service, write nothing")
    push.add_argument(
        "--summary",
        action="store_true",
        help="with --dry-run: only the counts per target, kind and operation (create, update, archive, "
        "unsupported, would fail) and the reasons of those that would fail or are unsupported",
    )
    push.add_argument("--json", action="store_true", help="with --dry-run: print the plan (or summary) as JSON")
    add_wait_option(push)
    push.set_defaults(func=push_commands.push)

    outbox = sub.add_parser(
        "outbox",
        help="pending, failed and unsupported pushes with their reasons; retry one",
        description="List the outbox (pending, failed and unsupported rows with the reason), or put one row "
        "back to pending with `connector outbox retry ID`.",
    )
    outbox.add_argument("--all", action="store_true", help="every status, done and superseded too")
    outbox.add_argument("--connection", help="only this target's rows and totals")
    outbox.add_argument("--limit", type=int, default=200, help="rows to show (default 200)")
    outbox.add_argument("--json", action="store_true", help="print the totals and rows as JSON")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION")
    retry = outbox_sub.add_parser("retry", help="put a failed or unsupported row back to pending")
    retry.add_argument("id", type=int, help="outbox row id")
    outbox.set_defaults(func=push_commands.outbox)

    conflicts = sub.add_parser(
        "conflicts",
        help="records changed at two places between syncs, both versions and the policy's decision",
        description="List conflict rows, newest first: the differing fields as the canonical side and the "
        "service had them, the policy applied (source_of_truth or newest_wins) and who won.",
    )
    conflicts.add_argument("--limit", type=int, default=200, help="rows to show (default 200)")
    conflicts.add_argument("--json", action="store_true", help="print the rows as JSON")
    conflicts.set_defaults(func=push_commands.conflicts)

    status = sub.add_parser(
        "status",
        help="connections, cursors, last runs, counts, quarantine, outbox and leases; non-zero when failing",
        description="Show each connection's streams (cursor, last run, counts), the quarantine, the outbox rows "
        "pending or failed, who holds the connection's lease (a daemon replica or a command working on it; "
        "'free' when nobody does) and what its last gap audit found per kind (missing, fetched, remaining); "
        "then the live replicas (heartbeat younger than CONNECTOR_LEASE_TTL_SECONDS) and what each holds. "
        "Exits 1 when a connection's last run of any stream failed or left records missing (gap); a run "
        "interrupted by SIGTERM or SIGINT (a redeploy) is shown as interrupted and is not a failure: the next "
        "run resumes from its last committed page.",
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    status.add_argument("--replicas", action="store_true",
                        help="only the live `connector run` replicas and the connections each holds (and any other "
                        "lease holder); the text status ends with this list too")
    status.set_defaults(func=commands.status)

    add_audit_parser(sub, ParagraphsFormatter)
    add_history_parsers(sub, ParagraphsFormatter)
    add_remap_parser(sub, ParagraphsFormatter)
    add_quarantine_parser(sub, ParagraphsFormatter)

    backfill = sub.add_parser(
        "backfill",
        help="pull a connection's history once, in date-sliced windows, resumable",
        description="Pull the history of a connection's windowed streams (FactuurSturen invoices by sent date, "
        "hydra customers and invoices by updatedAt) from --since to --until in windows of --window, one window "
        "after the other (streams without a window, such as FactuurSturen's clients, are `connector sync`'s; an "
        "invoice stored before its client is linked once the client arrives). Every page is committed with its "
        "checkpoint; a backfill killed or stopped resumes, "
        "when the same command runs again, at the window it was in, from its last committed page. It keeps its "
        "own cursor (stream backfill:<stream>), so the incremental sync's cursor does not move, and leaves one "
        "run row per window (mode backfill) for `connector status`. Progress goes to stderr: windows done, "
        "records, requests, a wait for the rate budget with the time left, elapsed time and an ETA bounded by the "
        "connection's rate budget (FactuurSturen: 250 requests an hour, so long backfills take hours), as one line "
        "redrawn in place on a terminal, else as a `backfill window` log event per window. SIGTERM or SIGINT "
        "stops after the page in hand "
        "(exit 4); a second one stops at once. A final report goes to stdout. Exit codes: 0 done (or this "
        "plan was already complete), 1 a window failed (the same command resumes), 2 bad usage (a bad date or "
        "window, a stream that is not windowed, another plan in progress), 3 database not migrated, "
        "4 interrupted (the same command resumes), 5 the connection's lease is held elsewhere (nothing was done; "
        "a lease lost while running stops after the page in hand, and the same command resumes).",
        epilog="dates: YYYY-MM-DD is midnight UTC; an ISO 8601 time without an offset is UTC.\n\n" + LEASE_EPILOG,
        formatter_class=ParagraphsFormatter,
    )
    backfill.add_argument("--connection", required=True, help="connection name from the connections file")
    backfill.add_argument("--since", required=True, type=instant_arg, metavar="D", help="start of the history")
    backfill.add_argument(
        "--until",
        type=instant_arg,
        metavar="D",
        help="end of the history (default: the service's clock minus the connection's safety lag; when a plan with "
        "the same --since and --window was started before, its end)",
    )
    backfill.add_argument(
        "--window",
        type=span_arg,
        default=span_arg("30d"),
        metavar="N{h,d,w}",
        help="window length: hours, days or weeks, e.g. 12h, 30d, 2w (default 30d)",
    )
    backfill.add_argument(
        "--stream",
        action="append",
        metavar="S",
        help="only this windowed stream (repeatable; default: every windowed stream of the provider)",
    )
    backfill.add_argument(
        "--restart",
        action="store_true",
        help="discard this connection's backfill position (a plan in progress or done) and start over; "
        "stored records stay",
    )
    backfill.add_argument(
        "--json", action="store_true", help="print the final report as JSON (progress stays on stderr)"
    )
    add_wait_option(backfill)
    backfill.set_defaults(func=commands.backfill)

    sandbox = sub.add_parser(
        "sandbox",
        help="serve the service sandboxes on 127.0.0.1 for development",
        description="Serve faithful simulators of the services on loopback, print each base URL and its "
        "credentials, and run until interrupted (Ctrl-C or SIGTERM). With --toml FILE, also write a connections "
        "file for them, so `connector db upgrade`, `config check`, `sync --connection <service>` and `status` work "
        "with CONNECTOR_CONNECTIONS_FILE=FILE and no configuration by hand.",
        formatter_class=ParagraphsFormatter,
    )
    sandbox.add_argument("--service", action="append", metavar="NAME", help="only this service (repeatable)")
    sandbox.add_argument(
        "--port",
        type=int,
        default=0,
        metavar="P",
        help="stable ports: the installed sandboxes in name order on P, P+1, ... (facturalia P, "
        "factuursturen P+1, fastfaktura P+2, hydra P+3; the same offsets whichever are started, so a written "
        "connections file stays valid across runs); 0 (default): any free ports",
    )
    sandbox.add_argument("--json", action="store_true", help="print one JSON object per sandbox")
    sandbox.add_argument("--clients", type=int, default=100, help="seeded clients per sandbox")
    sandbox.add_argument("--invoices", type=int, default=500, help="seeded invoices per sandbox")
    sandbox.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    sandbox.add_argument(
        "--quirk",
        action="append",
        default=[],
        metavar="[SERVICE:]NAME[=VALUE]",
        help="switch on a way the real service may behave (repeatable), e.g. factuursturen:count_cap=100; "
        "without SERVICE: every started sandbox that has the quirk",
    )
    sandbox.add_argument(
        "--list-quirks", action="store_true", help="print every sandbox's quirks with default and evidence, then exit"
    )
    sandbox.add_argument(
        "--toml",
        type=Path,
        metavar="FILE",
        help="write a ready connections file for the started sandboxes to FILE (one connection per service, named "
        "after it; keys in files under FILE's stem + .keys/), e.g. config/connections.toml, the default "
        "CONNECTOR_CONNECTIONS_FILE",
    )
    sandbox.add_argument(
        "--env",
        action="store_true",
        help="print shell lines only (export CONNECTOR_CONNECTIONS_FILE with --toml, and each sandbox's "
        "CONNECTOR_SANDBOX_<SERVICE>_URL, _KEY, ...), so the output can be sourced",
    )
    sandbox.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="serve without the services' rate limits (FactuurSturen 250/hour, FastFaktura 120/minute, Facturalia "
        "60/minute); connections written by --toml then do not pace either, so a first sync takes seconds",
    )
    sandbox.set_defaults(func=commands.sandbox)

    demo = sub.add_parser(
        "demo",
        help="the four sandboxes: pulls checked against their truth, then a two-way cycle showing what moved where",
        description="Start the four sandboxes on loopback. Pull: sync the three readable ones (seeded) into a "
        "fresh SQLite file, act as a person in FactuurSturen's web app, sync again, check the store against "
        "each sandbox's truth. Two-way: reseed them small, route them to one another, and run pull-then-push "
        "cycles printing what moved where, with a person's changes at three services between two of them. "
        "Exit 0 only when every check held.",
    )
    demo.add_argument("--clients", type=int, default=300,
                      help="pull part: FactuurSturen's seeded clients (a third each at FastFaktura and hydra)")
    demo.add_argument("--invoices", type=int, default=2000,
                      help="pull part: FactuurSturen's seeded invoices (a quarter each at FastFaktura and hydra)")
    demo.add_argument("--database", default="data/demo.db",
                      help="SQLite file to (re)create; the two-way part uses NAME-two-way.db beside it")
    demo.set_defaults(func=commands.demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    args = build_parser().parse_args(argv)
    return commands.run(args)


if __name__ == "__main__":
    sys.exit(main())
