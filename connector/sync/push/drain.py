"""Push: the outbox, queued from a plan and drained at the target's pace (desired state, not events).

Queue: a plan (`plan.plan_target`) is written to the outbox, one row per (target, kind, entity, version);
a newer version supersedes an older pending row.

Drain: pending rows go out one at a time in kind order (clients before the invoices that name them,
invoices before their payments), through the target's own mapping and provider, each outcome committed
on its own: `done` with the remote id and a link holding the pushed version, `failed` with the
service's message (validation: no retry), `unsupported`, or back to `pending` with a backoff for a
transient failure. Creates carry a deterministic idempotency key per entity version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from connector.clock import Clock
from connector.domain import KIND_ORDER, OutboxStatus, PushOperation, PushOutcome
from connector.errors import (
    AuthFailed,
    MappingError,
    ProviderError,
    RateLimited,
    Transient,
    Unsupported,
)
from connector.observability.events import get_logger
from connector.providers.base import Provider
from connector.stopping import StopToken, check_stop
from connector.store import links, outbox
from connector.store.canonical import load_entities
from connector.sync.ledger import ledger_hash
from connector.sync.payload import dump_payload, projection_hash
from connector.sync.push.plan import PlannedPush
from connector.sync.push.wire import OutboundMapper, ReferencePending, map_for_target

__all__ = [
    "DrainReport",
    "OutboundMapper",
    "drain",
    "enqueue",
    "retry_row",
]

log = get_logger("connector.push")



def enqueue(conn: Connection, plans: Iterable[PlannedPush], now: datetime) -> int:
    """Write planned pushes to the outbox (a row per version; older pending rows are superseded).

    Returns:
        How many rows are new.
    """
    new = 0
    for plan in plans:
        new += outbox.queue(
            conn,
            target=plan.target,
            kind=plan.kind,
            entity_id=plan.entity_id,
            version=plan.version,
            operation=plan.operation.value,
            idempotency_key=plan.idempotency_key,
            status=(
                OutboxStatus.UNSUPPORTED if plan.operation is PushOperation.UNSUPPORTED else OutboxStatus.PENDING
            ).value,
            reason=plan.reason,
            remote_id=plan.remote_id,
            now=now,
        )
    return new


@dataclass(slots=True)
class DrainReport:
    """What one drain of a target's outbox did."""

    target: str
    done: int = 0
    failed: int = 0
    unsupported: int = 0
    deferred: int = 0
    superseded: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)


def drain(
    engine: Engine,
    target: str,
    provider: Provider,
    mapper: OutboundMapper,
    clock: Clock,
    *,
    max_attempts: int = 8,
    limit: int | None = None,
    on_row: Callable[[str, PushOutcome], None] | None = None,
    stop: StopToken | None = None,
) -> DrainReport:
    """Send the target's due pending rows; stop early on a transient failure or bad credentials.

    Raises:
        AuthFailed: the target refused the credentials (rows stay pending).
        Interrupted: `stop` was set; every row sent so far is recorded, the rest stay pending.
    """
    report = DrainReport(target)
    before = provider.requests_made
    try:
        for row in _due_rows(engine, target, clock.now(), limit):
            check_stop(stop, f"push to {target}")
            outcome = _push_one(engine, target, provider, mapper, clock, row, max_attempts, report)
            if on_row is not None:
                on_row(row["entity_kind"], outcome)
            if outcome is PushOutcome.DEFERRED_STOP:
                break
    finally:
        report.requests = provider.requests_made - before
    return report


def _due_rows(engine: Engine, target: str, now: datetime, limit: int | None) -> list[Mapping[str, Any]]:
    order = {kind: i for i, kind in enumerate(KIND_ORDER)}
    with engine.connect() as conn:
        rows = outbox.due_rows(conn, target, now)
    ordered = sorted(rows, key=lambda r: (order.get(r["entity_kind"], 9), r["id"]))
    return ordered[:limit] if limit is not None else ordered


def _push_one(
    engine: Engine,
    target: str,
    provider: Provider,
    mapper: OutboundMapper,
    clock: Clock,
    row: Mapping[str, Any],
    max_attempts: int,
    report: DrainReport,
) -> PushOutcome:
    kind, version = row["entity_kind"], int((row["payload"] or {}).get("version", 0))
    if row["operation"] == PushOperation.ARCHIVE:
        return _archive_one(engine, target, provider, clock, row, version, max_attempts, report)
    problem: str | None = None
    waiting: str | None = None
    with engine.connect() as conn:  # read only; closed before any write (SQLite takes the write lock on BEGIN)
        entity = load_entities(conn, kind, [row["entity_id"]]).get(row["entity_id"])
        if entity is not None and entity.version == version:
            try:
                wire = map_for_target(conn, mapper, provider, target, entity)
                payload, record = wire.payload, wire.record
            except ReferencePending as exc:
                waiting = str(exc)
            except MappingError as exc:
                problem = str(exc)
    if entity is None or entity.version != version:
        _finish(engine, row["id"], clock.now(), status=OutboxStatus.SUPERSEDED)
        report.superseded += 1
        return PushOutcome.SUPERSEDED
    if waiting is not None:  # not this row's fault: try again later, go on with the others
        _defer(engine, row, clock.now(), waiting, max_attempts, report, ambiguous=False)
        return PushOutcome.DEFERRED
    if problem is not None:
        return _fail(engine, row, clock.now(), problem, report)
    ambiguous = bool((row["payload"] or {}).get("ambiguous"))
    unkeyed_create = row["operation"] == PushOperation.CREATE and not provider.capabilities.idempotency_keys
    if unkeyed_create and not ambiguous:
        # From here on the service may make the record before this process records it (killed, or its lease
        # lost, between the answer and the commit): whoever drains the row next looks for it first.
        _finish(engine, row["id"], clock.now(), payload={**(row["payload"] or {}), "ambiguous": True})
    try:
        remote_id = None
        if ambiguous and unkeyed_create:
            taken = _linked_elsewhere(engine, target, kind, entity.id)
            remote_id = provider.find_marked(kind, row["idempotency_key"], payload, taken)  # made after all? not again
        if remote_id is None:
            remote_id = provider.write(
                kind, row["operation"], payload, row["remote_id"], idempotency_key=row["idempotency_key"]
            )
    except Unsupported as exc:
        _finish(engine, row["id"], clock.now(), status=OutboxStatus.UNSUPPORTED, last_error=exc.reason)
        report.unsupported += 1
        return PushOutcome.UNSUPPORTED
    except AuthFailed as exc:
        _finish(engine, row["id"], clock.now(), status=OutboxStatus.PENDING, last_error=str(exc))
        raise
    except Transient as exc:
        # A create that timed out or lost its connection may have been made: look for its marker next time.
        maybe_made = row["operation"] == PushOperation.CREATE and not isinstance(exc, RateLimited)
        return _defer(engine, row, clock.now(), str(exc), max_attempts, report, ambiguous=ambiguous or maybe_made)
    except ProviderError as exc:
        details = getattr(exc, "details", None) or {}
        fields = "; ".join(f"{path}: {problem}" for path, problem in sorted(details.items()))
        return _fail(engine, row, clock.now(), f"{exc} ({fields})" if fields else str(exc), report)
    remote_id = remote_id or row["remote_id"]
    if not remote_id:
        return _fail(engine, row, clock.now(), f"{target} answered without an id", report)
    now = clock.now()
    projection = projection_hash(record, ref=entity.ref_id)
    with engine.begin() as conn:
        links.record_push(
            conn,
            target,
            kind,
            entity.id,
            str(remote_id),
            projection,
            ledger_hash(wire.image),
            version,
            now,
            written=dump_payload(wire.image),
        )
        _finish(conn, row["id"], now, status=OutboxStatus.DONE, remote_id=str(remote_id), attempts=row["attempts"] + 1)
    report.done += 1
    log.debug("pushed", target=target, kind=kind, operation=row["operation"], entity=entity.id)
    return PushOutcome.DONE


def _linked_elsewhere(engine: Engine, target: str, kind: str, entity_id: int) -> Callable[[str], bool]:
    """Whether a record at `target` is linked to another entity than `entity_id` (for `find_marked`)."""

    def taken(remote_id: str) -> bool:
        with engine.connect() as conn:
            link = links.existing_links(conn, target, kind, [remote_id]).get(remote_id)
        return link is not None and link.entity_id != entity_id

    return taken


def _archive_one(
    engine: Engine,
    target: str,
    provider: Provider,
    clock: Clock,
    row: Mapping[str, Any],
    version: int,
    max_attempts: int,
    report: DrainReport,
) -> PushOutcome:
    """Archive a client at the target (its DELETE archives; doing it twice is harmless, so retries are safe)."""
    with engine.connect() as conn:
        entity = load_entities(conn, row["entity_kind"], [row["entity_id"]]).get(row["entity_id"])
    if entity is None or entity.version != version:
        _finish(engine, row["id"], clock.now(), status=OutboxStatus.SUPERSEDED)
        report.superseded += 1
        return PushOutcome.SUPERSEDED
    try:
        provider.write(row["entity_kind"], "delete", {}, row["remote_id"])
    except AuthFailed as exc:
        _finish(engine, row["id"], clock.now(), status=OutboxStatus.PENDING, last_error=str(exc))
        raise
    except Transient as exc:
        return _defer(engine, row, clock.now(), str(exc), max_attempts, report, ambiguous=False)
    except ProviderError as exc:
        return _fail(engine, row, clock.now(), str(exc), report)
    now = clock.now()
    with engine.begin() as conn:
        links.hold_version(conn, target, row["entity_kind"], str(row["remote_id"]), version, now)
        remote_id = str(row["remote_id"])
        _finish(conn, row["id"], now, status=OutboxStatus.DONE, remote_id=remote_id, attempts=row["attempts"] + 1)
    report.done += 1
    log.debug("pushed", target=target, kind=row["entity_kind"], operation=row["operation"], entity=row["entity_id"])
    return PushOutcome.DONE


def _fail(engine: Engine, row: Mapping[str, Any], now: datetime, error: str, report: DrainReport) -> PushOutcome:
    _finish(engine, row["id"], now, status=OutboxStatus.FAILED, last_error=error[:2000], attempts=row["attempts"] + 1)
    report.failed += 1
    report.errors.append(error)
    log.debug("push failed", target=row["connection"], kind=row["entity_kind"], entity=row["entity_id"],
              error=error[:300])
    return PushOutcome.FAILED


def _defer(
    engine: Engine,
    row: Mapping[str, Any],
    now: datetime,
    error: str,
    max_attempts: int,
    report: DrainReport,
    *,
    ambiguous: bool,
) -> PushOutcome:
    attempts = row["attempts"] + 1
    if attempts >= max_attempts:
        return _fail(engine, row, now, f"gave up after {attempts} attempts: {error}", report)
    delay = timedelta(seconds=min(2 ** (attempts - 1), 3600))
    payload = {**(row["payload"] or {}), "ambiguous": ambiguous}
    _finish(
        engine,
        row["id"],
        now,
        status=OutboxStatus.PENDING,
        attempts=attempts,
        next_attempt_at=now + delay,
        last_error=error,
        payload=payload,
    )
    report.deferred += 1
    return PushOutcome.DEFERRED_STOP  # the target is struggling: leave the rest for the next drain


def _finish(target: Engine | Connection, row_id: int, now: datetime, **values: Any) -> None:
    if isinstance(target, Engine):
        with target.begin() as conn:
            outbox.set_row(conn, row_id, now, **values)
    else:
        outbox.set_row(target, row_id, now, **values)


def retry_row(engine: Engine, row_id: int, now: datetime) -> bool:
    """Put a failed (or unsupported) row back to pending for the next drain; False if there is no such row."""
    with engine.begin() as conn:
        return outbox.retry(conn, row_id, now)
