"""`connector backfill`: argument types, the run with its progress, the final report.

The windows themselves are `connector.sync.backfill`'s; the progress line is `connector.cli.progress`'s; stopping
on SIGTERM/SIGINT and holding the connection's lease are `connector.cli.leased`'s.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from connector.app import App
from connector.cli.leased import leased_app
from connector.cli.output import to_json, when
from connector.cli.progress import Progress, on_terminal
from connector.errors import ConfigError, ConnectorError, Interrupted
from connector.sync.backfill import KEY_PREFIX, Backfill, BackfillReport, format_span, parse_span

__all__ = [
    "EXIT_INTERRUPTED",
    "format_report",
    "instant_arg",
    "report_json",
    "run_backfill",
    "span_arg",
]

EXIT_INTERRUPTED = 4  # stopped by SIGTERM/SIGINT with the page in hand committed: the same command resumes


def instant_arg(text: str) -> datetime:
    """argparse type of --since/--until: a date (midnight UTC) or an ISO 8601 instant (UTC when no offset)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or instant: use YYYY-MM-DD or an ISO 8601 time such as 2024-01-31T12:00:00+01:00"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def span_arg(text: str) -> timedelta:
    """argparse type of --window: ``30d``, ``12h``, ``2w``."""
    try:
        return parse_span(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# -- the command -------------------------------------------------------------------------------------


def run_backfill(app: App, args: argparse.Namespace, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """`connector backfill`: plan, run every window with progress, print the report; return the exit code.

    Raises:
        ConfigError: bad arguments, an unknown or non-windowed stream, another plan in progress (exit 2).
        LeaseHeld: another holder has the connection's lease, or took it while this ran (exit 5).
        ConnectorError: a window failed (exit 1); the report so far is printed first.
    """
    conn = app.connection(args.connection)
    if args.until is not None and args.until <= args.since:
        raise ConfigError("connector backfill", "--until", "must be after --since")
    with leased_app(app, [conn.name], args.wait) as (worker, guard):
        mapping = worker.mapping(conn.provider)
        provider = worker.provider(conn)
        progress = Progress(err, worker.clock, "backfill", [conn.name], worker.pacer,
                            tty=on_terminal(err, worker.settings.log_format))
        job = Backfill(
            worker.migrated_engine(),
            worker.clock,
            conn.name,
            provider,
            mapping,
            since=args.since,
            until=args.until,
            step=args.window,
            options=worker.pull_options(conn),
            streams=args.stream,
            restart=args.restart,
            on_window=progress,
        )
        started = worker.clock.monotonic()
        try:
            with progress:
                job.run()
        except Interrupted:
            out.write(_final(args, job.report, worker.clock.monotonic() - started))
            if guard.lost is not None:
                raise
            print(f"connector: {_where(job.report)}: interrupted ({guard.token.reason or 'stop requested'}); "
                  "the page in hand is committed; the same command resumes there", file=err)
            return EXIT_INTERRUPTED
        except ConfigError:
            raise
        except ConnectorError:
            out.write(_final(args, job.report, worker.clock.monotonic() - started))
            print(f"connector: {_where(job.report)}: failed; the same command resumes from its last committed page",
                  file=err)
            raise
        finally:
            provider.close()
    out.write(_final(args, job.report, worker.clock.monotonic() - started))
    return 0


def _final(args: argparse.Namespace, report: BackfillReport, seconds: float) -> str:
    if getattr(args, "json", False):
        return to_json(report_json(report, seconds)) + "\n"
    return format_report(report, seconds)


def report_json(report: BackfillReport, seconds: float) -> dict[str, Any]:
    """The final report as JSON (`--json`): the same facts as `format_report`, instants with their zone."""
    c = report.counts
    return {
        "connection": report.connection,
        "status": report.status,
        "windows_total": report.windows_total,
        "windows_done": report.windows_done,
        "windows_run": report.windows_run,
        "resumed": {stream: {"window": number, "from_page": from_page}
                    for stream, (number, from_page) in report.resumed.items()},
        "complete": list(report.complete),
        "plans": {stream: {"since": plan.since, "until": plan.until, "window_seconds": plan.step.total_seconds(),
                           "windows": len(plan.windows()), "run_stream": KEY_PREFIX + stream}
                  for stream, plan in report.plans.items()},
        "counts": {"read": c.read, "created": c.created, "updated": c.updated, "unchanged": c.unchanged,
                   "deleted": c.deleted, "quarantined": c.quarantined},
        "linked_later": report.resolved_refs,
        "requests": report.requests,
        "duration_seconds": round(seconds, 3),
        "error": report.error,
    }


def _where(report: BackfillReport) -> str:
    if report.current is None:
        return f"backfill {report.connection}"
    stream, number, window = report.current
    return (f"backfill {report.connection} window {number}/{report.windows_total} of {stream} "
            f"({when(window.since)} .. {when(window.until)})")


def format_report(report: BackfillReport, seconds: float) -> str:
    """The final report: status, windows, per-stream plan, counts, requests, duration, where the run rows are."""
    c = report.counts
    lines = [f"backfill {report.connection}: {report.status}, {report.windows_done} of {report.windows_total} "
             f"windows done ({report.windows_run} in this run)"]
    for stream, (number, from_page) in report.resumed.items():
        lines.append(f"  resumed {stream} at window {number}" + (" from its last committed page" if from_page else ""))
    for stream in report.complete:
        lines.append(f"  {stream}: this plan was already complete (add --restart to run it again)")
    for stream, plan in report.plans.items():
        lines.append(f"  {stream}: {plan.since.isoformat()} .. {plan.until.isoformat()} in "
                     f"{format_span(plan.step)} windows ({len(plan.windows())})")
    lines.append(f"  read={c.read} created={c.created} updated={c.updated} unchanged={c.unchanged} "
                 f"deleted={c.deleted} quarantined={c.quarantined} linked_later={report.resolved_refs} "
                 f"requests={report.requests} duration={seconds:.1f}s")
    if report.plans:
        keys = ", ".join(KEY_PREFIX + s for s in report.plans)
        lines.append(f"  run rows: one per window, mode backfill, stream {keys} (see `connector status`)")
    return "\n".join(lines) + "\n"
