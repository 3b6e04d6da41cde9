"""The stream runner: window from the service's clock, pages committed with their cursor, a run row.

Cursor layout in `sync_state.cursor` (owned by the engine; `progress` and `memo` are the provider's):
``{"high_water": ISO instant, "window": [since, until] of a run in progress, "progress": checkpoint of
the last committed page, "memo": provider state kept between runs}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from connector.clock import Clock
from connector.domain import EntityKind, RunStatus
from connector.errors import ConnectorError, Interrupted
from connector.observability import activity, metrics
from connector.observability.events import get_logger
from connector.providers.base import Provider, StreamSpec, Window
from connector.stopping import StopToken, check_stop
from connector.store import entities, links, runs
from connector.store.db import serialize_canonical_writes
from connector.store.open_set import open_invoice_ids
from connector.sync.heap import quiet_gc
from connector.sync.listing import ListedIds
from connector.sync.pull.page import InboundMapper, PageCounts, apply_records, soft_delete_remote
from connector.sync.reconcile.conflicts import ConflictPolicy

__all__ = ["PullOptions", "StoreStamps", "StreamReport", "run_stream", "soft_delete_unlisted"]

log = get_logger("connector.sync")


@dataclass(frozen=True, slots=True)
class PullOptions:
    """How a connection's incremental windows are cut."""

    lookback: timedelta = timedelta(days=2)
    safety_lag: timedelta = timedelta(minutes=2)
    conflicts: ConflictPolicy = field(default_factory=ConflictPolicy)
    stop: StopToken | None = None  # checked after each committed page (the daemon's SIGTERM)


@dataclass(slots=True)
class StreamReport:
    """The outcome of one stream run."""

    connection: str
    stream: str
    mode: str
    status: RunStatus = RunStatus.RUNNING
    counts: PageCounts = field(default_factory=PageCounts)
    pages: int = 0
    requests: int = 0
    window: Window | None = None
    seen: dict[str, ListedIds] = field(default_factory=dict)
    complete_listing: bool = False
    untrusted: str | None = None  # why this run's listing may have missed records (`Page.untrusted`)
    error: str | None = None
    seconds: float = 0.0


class StoreStamps:
    """`ChangeStamps` backed by the links of one connection (read in a short transaction of its own)."""

    def __init__(self, engine: Engine, connection: str) -> None:
        """Args: engine: the store. connection: whose links to read."""
        self.engine = engine
        self.connection = connection

    def unchanged(self, kind: str, stamps: Mapping[str, str]) -> set[str]:
        """Return the ids of `kind` whose stored change stamp equals the given one."""
        if not stamps:
            return set()
        with self.engine.connect() as conn:
            return links.matching_stamps(conn, self.connection, kind, dict(stamps))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _window(provider: Provider, state: dict[str, Any], full: bool, options: PullOptions) -> Window:
    """Cut the next window: since = high water - lookback, until = the service's clock - safety lag."""
    if state.get("progress") and state.get("window"):
        since, until = state["window"]
        return Window(_parse(since), _parse(until))
    service_now = provider.server_now()
    if service_now is None:
        raise ConnectorError(f"{provider.id}: the service did not tell its time (no Date header)")
    high_water = None if full else _parse(state.get("high_water"))
    since = high_water - options.lookback if high_water else None
    return Window(since, service_now - options.safety_lag)


def run_stream(
    engine: Engine,
    provider: Provider,
    mapper: InboundMapper,
    connection: str,
    spec: StreamSpec,
    *,
    full: bool,
    clock: Clock,
    options: PullOptions,
    sweep_kinds: tuple[str, ...] = (),
    window: Window | None = None,
    key: str | None = None,
    mode: str | None = None,
) -> StreamReport:
    """Pull one stream to the end, committing every page with its checkpoint; always leaves a run row.

    Args:
        window: an explicit window instead of one cut from the cursor (the backfill's); a checkpoint
            stored for another window is not resumed.
        key: the stream name of the cursor row and run rows (default `spec.name`), so a backfill keeps
            its own cursor and never moves the incremental one.
        mode: the run rows' mode (default ``full`` or ``incremental``).

    Raises:
        ConnectorError: after the run row is marked failed, so the caller can report and exit.
    """
    mode = mode or ("full" if full else "incremental")
    key = key or spec.name
    report = StreamReport(connection, key, mode)
    started = clock.monotonic()
    requests_before = provider.requests_made
    run_id = runs.start_run(engine, connection, key, mode, clock.now())
    state = runs.load_cursor(engine, connection, key)
    if window is not None and state.get("window") != [_iso(window.since), _iso(window.until)]:
        state = {**state, "progress": None}
    resume = state.get("progress")
    report.complete_listing = resume is None
    resolve = _has_open_quarantine(engine, connection)
    try:
        with quiet_gc():  # a first load's pages allocate millions of containers (see `heap`)
            window = window or (_window(provider, state, full, options) if spec.windowed else None)
            report.window = window
            report.complete_listing = report.complete_listing and (window is None or window.since is None)
            memo = dict(state.get("memo") or {})
            stamps = StoreStamps(engine, connection)
            for page in provider.pull(spec.name, window, resume, _known(engine, connection, spec, memo), stamps):
                with engine.begin() as conn:
                    serialize_canonical_writes(conn)
                    now = clock.now()
                    counts = apply_records(
                        conn, mapper, connection, spec.name, page.records, now, resolve, options.conflicts
                    )
                    skipped = sum(len(ids) for ids in page.unchanged.values())
                    counts.read += skipped
                    counts.unchanged += skipped
                    for kind, gone in page.vanished.items():
                        counts.deleted += soft_delete_remote(conn, connection, kind, gone, now)
                    if page.checkpoint is not None:
                        checkpoint = dict(page.checkpoint)
                        memo = checkpoint.pop("memo", memo)
                        state = {
                            **state,
                            "memo": memo,
                            "progress": checkpoint or None,
                            "window": [_iso(window.since), _iso(window.until)] if window else None,
                        }
                        runs.save_cursor(conn, connection, key, state, now)
                report.counts.add(counts)
                report.pages += 1
                activity.page_committed(connection, key, counts.read)  # progress display hook (no-op if none)
                if page.untrusted and report.untrusted is None:
                    report.untrusted, report.complete_listing = page.untrusted, False
                    log.warning("listing not trusted", connection=connection, stream=key, reason=page.untrusted,
                                consequence="no deletion sweep, the cursor stays")
                if sweep_kinds and report.complete_listing:
                    listed: dict[str, list[str]] = {}
                    for raw in page.records:
                        listed.setdefault(raw.kind, []).append(raw.remote_id)
                    for kind, ids in (*listed.items(), *page.unchanged.items()):
                        report.seen.setdefault(kind, ListedIds()).add(ids)
                check_stop(options.stop, f"{connection}/{spec.name}")
            with engine.begin() as conn:
                if sweep_kinds and report.complete_listing:
                    for kind in sweep_kinds:
                        report.counts.deleted += soft_delete_unlisted(
                            conn, connection, kind, report.seen.get(kind, ListedIds()), clock.now()
                        )
                final = {
                    **state,
                    "memo": memo,
                    "progress": None,
                    "window": None,
                    "high_water": _iso(window.until) if window and not report.untrusted else state.get("high_water"),
                }
                runs.save_cursor(conn, connection, key, final, clock.now())
            report.status = RunStatus.OK
    except Interrupted as exc:  # the page in hand is committed with its checkpoint; the next start resumes
        report.status, report.error = RunStatus.INTERRUPTED, str(exc)
        raise
    except ConnectorError as exc:
        report.status, report.error = RunStatus.FAILED, str(exc)
        raise
    except BaseException as exc:
        report.status = RunStatus.FAILED if isinstance(exc, Exception) else RunStatus.INTERRUPTED
        report.error = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        report.requests = provider.requests_made - requests_before
        report.seconds = clock.monotonic() - started
        values = _run_values(report, clock)
        runs.finish_run(engine, run_id, values)
        # observability hook: a no-op unless the daemon installed its metrics; never raises
        metrics.observe_run(connection, key, report.status, report.seconds, values["finished_at"], report.counts)
        log.info(
            "stream run",
            connection=connection,
            stream=key,
            mode=mode,
            status=report.status,
            pages=report.pages,
            read=report.counts.read,
            created=report.counts.created,
            updated=report.counts.updated,
            unchanged=report.counts.unchanged,
            deleted=report.counts.deleted,
            quarantined=report.counts.quarantined,
            requests=report.requests,
            seconds=round(report.seconds, 2),
        )
    return report


def _known(engine: Engine, connection: str, spec: StreamSpec, memo: dict[str, Any]) -> dict[str, Any]:
    """What the provider is told it knows: the stream's memo, and for a refresh stream the store's open
    invoices (``store_open_ids``), which outlive a run that never saved its memo."""
    if not spec.refresh or EntityKind.INVOICE not in spec.kinds:
        return memo
    with engine.connect() as conn:
        return {**memo, "store_open_ids": open_invoice_ids(conn, connection)}


def soft_delete_unlisted(conn: Connection, connection: str, kind: str, listed: ListedIds, now: datetime) -> int:
    """After a complete listing, soft-delete what the store has but the service no longer listed.

    The store's live links are streamed, not loaded whole. A listing that names nothing while the store
    holds records is distrusted (a service glitch must not delete everything) and skipped with a warning.
    """
    gone: list[tuple[int, int]] = []
    live = 0
    for remote_id, link_id, entity_id in links.iter_live_remote_ids(conn, connection, kind):
        live += 1
        if remote_id not in listed:
            gone.append((link_id, entity_id))
    if live and not len(listed):
        log.warning("sweep skipped", connection=connection, kind=kind, reason="the service listed none", stored=live)
        return 0
    return entities.soft_delete(conn, connection, kind, gone, now)


def _has_open_quarantine(engine: Engine, connection: str) -> bool:
    with engine.connect() as conn:
        return runs.has_open_quarantine(conn, connection)


def _run_values(report: StreamReport, clock: Clock) -> dict[str, Any]:
    c = report.counts
    return {
        "status": report.status,
        "finished_at": clock.now(),
        "window_start": report.window.since if report.window else None,
        "window_end": report.window.until if report.window else None,
        "pages": report.pages,
        "records_read": c.read,
        "created": c.created,
        "updated": c.updated,
        "unchanged": c.unchanged,
        "deleted": c.deleted,
        "quarantined": c.quarantined,
        "requests": report.requests,
        "error": report.error,
        "duration_seconds": round(report.seconds, 3),
    }
