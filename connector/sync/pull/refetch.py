"""Read records again by id through the normal apply path: quarantined records heal, missing ones come back.

`store_fetched` is the shared step: ask the provider for the records by id (`Provider.fetch`), store each
page through `apply_records` in a transaction of its own, soft-delete what the service no longer holds,
and settle the quarantine rows of what was read. `refetch_quarantined` runs it after an incremental run's
streams over a bounded batch of the connection's open quarantine rows (oldest first, taking turns: a
cursor remembers where the last batch ended); `connector.sync.pull.gap` runs it over the records the store lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from connector.clock import Clock
from connector.domain import KIND_ORDER, EntityKind, RunStatus
from connector.errors import Interrupted, MappingError, ProviderError
from connector.observability import metrics
from connector.observability.events import get_logger
from connector.providers.base import Provider
from connector.stopping import StopToken, check_stop
from connector.store import gaps, runs
from connector.store.db import serialize_canonical_writes
from connector.sync.payload import digest, dump_payload, load_payload
from connector.sync.pull.page import InboundMapper, PageCounts, apply_records, soft_delete_remote
from connector.sync.reconcile.conflicts import ConflictPolicy

__all__ = ["MAX_REST", "REFETCH_STREAM", "FetchOutcome", "RefetchPolicy", "refetch_quarantined", "store_fetched"]

log = get_logger("connector.sync")

REFETCH_STREAM = "refetch"
MAX_REST = timedelta(days=1)  # the longest pause between fruitless cycles over the same unreadable records


@dataclass(frozen=True, slots=True)
class RefetchPolicy:
    """How many quarantined (or missing) records one run reads again.

    Attributes:
        per_run: at most this many records per run (0: never).
        budget: the requests left in the connection's rate window, when known; a run then takes at most
            half of them, so the next streams keep the rest.
        rest: the pause after a whole cycle over the open rows that healed nothing (doubled after each
            further fruitless cycle, up to `MAX_REST`).
        audit_max_fetch: missing records a gap audit after a short listing reads back (`gap.check_listing`).
    """

    per_run: int = 25
    budget: Callable[[], int | None] | None = None
    rest: timedelta = timedelta(hours=1)
    audit_max_fetch: int = 500

    def limit(self) -> int:
        """Records this run may read again."""
        left = self.budget() if self.budget is not None else None
        return self.per_run if left is None else max(0, min(self.per_run, left // 2))


@dataclass(slots=True)
class FetchOutcome:
    """What reading records again by id did."""

    counts: PageCounts = field(default_factory=PageCounts)
    resolved: int = 0  # quarantine rows closed (healed, or the record is gone)
    still_quarantined: int = 0
    vanished: dict[str, list[str]] = field(default_factory=dict)  # asked for, not held by the service
    fetched: dict[str, set[str]] = field(default_factory=dict)  # kind -> remote ids read (asked for or not)
    requests: int = 0


def store_fetched(
    engine: Engine,
    provider: Provider,
    mapper: InboundMapper,
    connection: str,
    wanted: dict[str, list[str]],
    clock: Clock,
    *,
    stream: str,
    policy: ConflictPolicy | None = None,
    stop: StopToken | None = None,
    outcome: FetchOutcome | None = None,
) -> FetchOutcome:
    """Read `wanted` (kind -> remote ids) by id and store them; kinds in `KIND_ORDER` (an invoice before its
    payments, which it usually brings along: those are not asked for again). The outcome is filled in as
    pages are stored (pass one to keep what was done when this raises).

    Raises:
        ProviderError: the service failed; the pages stored before stay stored.
        Interrupted: `stop` was set (checked after each stored page).
    """
    outcome = outcome if outcome is not None else FetchOutcome()
    before = provider.requests_made
    try:
        for kind in (k.value for k in KIND_ORDER):
            ids = [rid for rid in dict.fromkeys(wanted.get(kind, ())) if rid not in outcome.fetched.get(kind, ())]
            if not ids:
                continue
            for page in provider.fetch(kind, ids):
                with engine.begin() as conn:
                    serialize_canonical_writes(conn)
                    now = clock.now()
                    read: dict[str, dict[str, str]] = {}
                    for raw in page.records:
                        text = raw.text if raw.text is not None else dump_payload(raw.data)
                        read.setdefault(raw.kind, {})[raw.remote_id] = digest(text)
                    for got_kind, got in read.items():
                        gaps.drop_dangling_links(conn, connection, got_kind, sorted(got))
                    counts = apply_records(conn, mapper, connection, stream, page.records, now, True, policy)
                    for gone_kind, gone in page.vanished.items():
                        counts.deleted += soft_delete_remote(conn, connection, gone_kind, gone, now)
                        outcome.resolved += gaps.resolve_gone(conn, connection, gone_kind, gone, now)
                        known = outcome.vanished.setdefault(gone_kind, [])
                        known.extend(rid for rid in gone if rid not in known)
                    for got_kind, got in read.items():
                        healed, still = gaps.settle_refetched(conn, connection, got_kind, got, now)
                        outcome.resolved += healed
                        outcome.still_quarantined += still
                        outcome.fetched.setdefault(got_kind, set()).update(got)
                outcome.counts.add(counts)
                check_stop(stop, f"{connection}/{stream}")
    finally:
        outcome.requests = provider.requests_made - before
    return outcome


def refetch_quarantined(
    engine: Engine,
    provider: Provider,
    mapper: InboundMapper,
    connection: str,
    clock: Clock,
    refetch: RefetchPolicy,
    *,
    since: datetime | None = None,
    policy: ConflictPolicy | None = None,
    stop: StopToken | None = None,
) -> FetchOutcome | None:
    """Read a bounded batch of the connection's open quarantine rows again by id (see the module docstring).

    Rows are taken oldest first, from where the last batch ended; rows quarantined at or after `since` (by the
    streams of this very run, which have just read those records) wait for a later run. When a whole cycle
    over the rows healed nothing, the next cycle starts `RefetchPolicy.rest` later, so records that stay
    unreadable do not spend the budget run after run.

    Returns None when there was nothing to do (no rows due, no capacity, or a provider that cannot read by
    id); otherwise the outcome, also left as a ``refetch`` run row. A failure of the service is logged and kept
    in the run row, never raised: the streams before it have done their work, and the rows wait for a later run.
    """
    kinds = set(provider.fetchable_kinds)
    limit = refetch.limit()
    if not kinds or limit <= 0:
        return None
    state = runs.load_cursor(engine, connection, REFETCH_STREAM)
    now = clock.now()
    resting = state.get("rest_until")
    if resting and datetime.fromisoformat(resting) > now:
        return None
    after, healed = int(state.get("after") or 0), int(state.get("healed") or 0)
    with engine.connect() as conn:
        batch = gaps.quarantine_batch(conn, connection, kinds, after, limit, before=since)
    if not batch:
        if after:  # the last batch ended the cycle exactly: start over (after a rest if it healed nothing)
            _save_state(engine, connection, state, 0, 0, healed, refetch, clock)
        return None
    ended = len(batch) < limit
    due, waiting = _split_waiting(engine, connection, mapper, batch)
    if not due:  # only payments that heal with their quarantined invoice: its own turn reads them
        _save_state(engine, connection, state, 0 if ended else batch[-1].row_id, healed, healed if ended else None,
                    refetch, clock)
        return None
    started = clock.monotonic()
    run_id = runs.start_run(engine, connection, REFETCH_STREAM, REFETCH_STREAM, now)
    status, error, outcome = RunStatus.OK, None, FetchOutcome()
    try:
        store_fetched(
            engine, provider, mapper, connection, _ids_by_kind(due), clock, stream=REFETCH_STREAM, policy=policy,
            stop=stop, outcome=outcome,
        )
    except ProviderError as exc:
        status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        log.warning("refetch failed", connection=connection, error=error)
    except BaseException as exc:
        stopped = not isinstance(exc, Exception) or isinstance(exc, Interrupted)
        status = RunStatus.INTERRUPTED if stopped else RunStatus.FAILED
        error = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        seconds = clock.monotonic() - started
        _finish(engine, run_id, status, error, outcome, seconds, clock.now(), connection)
    gone = [pid for invoice_id in outcome.vanished.get(EntityKind.INVOICE, ()) for pid in waiting.get(invoice_id, ())]
    if gone:  # their invoice is gone at the service: so are they
        with engine.begin() as conn:
            outcome.resolved += gaps.resolve_gone(conn, connection, EntityKind.PAYMENT, gone, clock.now())
    if status == RunStatus.OK:
        _save_state(engine, connection, state, 0 if ended else batch[-1].row_id, healed + outcome.resolved,
                    healed + outcome.resolved if ended else None, refetch, clock)
    return outcome


def _save_state(
    engine: Engine,
    connection: str,
    previous: dict[str, Any],
    after: int,
    healed: int,
    cycle_healed: int | None,
    refetch: RefetchPolicy,
    clock: Clock,
) -> None:
    """Keep where the next batch starts; at the end of a cycle (`cycle_healed` given) start a new one, resting
    first when the cycle healed nothing: `RefetchPolicy.rest`, doubled after each fruitless cycle in a row up to
    `MAX_REST` (records that stay unreadable cost less and less), back to none once a cycle heals a record."""
    state: dict[str, Any] = {"after": after, "healed": healed}
    if previous.get("rest_seconds"):
        state["rest_seconds"] = previous["rest_seconds"]
    if cycle_healed is not None:
        state = {"after": 0, "healed": 0}
        if cycle_healed == 0:
            last = float(previous.get("rest_seconds") or 0)
            rest = min(max(refetch.rest.total_seconds(), 2 * last), MAX_REST.total_seconds())
            state["rest_seconds"] = rest
            state["rest_until"] = (clock.now() + timedelta(seconds=rest)).isoformat()
    with engine.begin() as conn:
        runs.save_cursor(conn, connection, REFETCH_STREAM, state, clock.now())


def _finish(
    engine: Engine,
    run_id: int,
    status: str,
    error: str | None,
    outcome: FetchOutcome,
    seconds: float,
    finished_at: datetime,
    connection: str,
) -> None:
    c = outcome.counts
    runs.finish_run(
        engine,
        run_id,
        {
            "status": status,
            "finished_at": finished_at,
            "records_read": c.read,
            "created": c.created,
            "updated": c.updated,
            "unchanged": c.unchanged,
            "deleted": c.deleted,
            "quarantined": outcome.still_quarantined,
            "requests": outcome.requests,
            "error": error,
            "duration_seconds": round(seconds, 3),
        },
    )
    metrics.observe_run(connection, REFETCH_STREAM, status, seconds, finished_at, c)
    log.info(
        "stream run", connection=connection, stream=REFETCH_STREAM, mode="refetch", status=status, read=c.read,
        created=c.created, updated=c.updated, resolved=outcome.resolved, still_quarantined=outcome.still_quarantined,
        requests=outcome.requests, seconds=round(seconds, 2),
    )


def _split_waiting(
    engine: Engine, connection: str, mapper: InboundMapper, rows: list[gaps.QuarantinedRecord]
) -> tuple[list[gaps.QuarantinedRecord], dict[str, list[str]]]:
    """Split off the payments whose invoice is in open quarantine too: reading the invoice again (its own row's
    turn) brings them along, so reading them on their own would only cost a request more each.

    Returns:
        (the rows to read again, invoice remote id -> remote ids of its waiting payments among `rows`).
    """
    payments = {row.row_id: row for row in rows if row.kind == EntityKind.PAYMENT}
    if not payments:
        return rows, {}
    owners: dict[int, str] = {}
    with engine.connect() as conn:
        for row_id, text in gaps.quarantine_payloads(conn, list(payments)).items():
            try:
                owner = getattr(mapper.inbound("payment", load_payload(text)), "invoice_remote_id", None)
            except (MappingError, ValueError, TypeError):
                continue  # not readable as a payment: read it again on its own
            if owner:
                owners[row_id] = str(owner)
        held = gaps.open_quarantined(conn, connection, EntityKind.INVOICE, set(owners.values()))
    waiting: dict[str, list[str]] = {}
    for row_id, owner in owners.items():
        if owner in held:
            waiting.setdefault(owner, []).append(payments[row_id].remote_id)
    return [row for row in rows if owners.get(row.row_id) not in held], waiting


def _ids_by_kind(rows: Sequence[gaps.QuarantinedRecord]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for row in rows:
        grouped.setdefault(row.kind, []).append(row.remote_id)
    return grouped
