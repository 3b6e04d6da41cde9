"""Push: canonical changes flow to the connections that should have them (desired state, not events).

Plan: for each connection's routed kinds, every live canonical entity whose current version the
connection does not hold (no link: create; an older `link.entity_version`: update) becomes one outbox
row keyed by (target, kind, entity, version), so replanning never duplicates a row. A link made by a
pull holds the version the pull wrote, so nothing goes back to where it came from (echo suppression);
an older version whose content the target has anyway (a change in fields it does not take, such as an
invoice's payment state) is marked held instead of planned (`push_wire.InStep`). An operation the
service cannot do is planned as `unsupported` with the reason and never sent.

Drain: pending rows go out one at a time in kind order (clients before the invoices that name them,
invoices before their payments), through the target's own mapping and provider, each outcome committed
on its own: `done` with the remote id and a link holding the pushed version, `failed` with the
service's message (validation: no retry), `unsupported`, or back to `pending` with a backoff for a
transient failure. Creates carry a deterministic idempotency key per entity version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from connector.clock import Clock
from connector.errors import (
    AuthFailed,
    MappingError,
    ProviderError,
    RateLimited,
    Transient,
    Unsupported,
)
from connector.observability.events import get_logger
from connector.providers.base import Capabilities, Provider
from connector.stopping import StopToken, check_stop
from connector.store import links
from connector.store.canonical import archived_client_versions, live_entity_versions, load_entities
from connector.store.sql import upsert
from connector.store.tables import Outbox
from connector.sync.payload import dump_payload, projection_hash
from connector.sync.push_wire import OutboundMapper, ReferencePending, ledger_hash, map_for_target

__all__ = [
    "DrainReport",
    "OutboundMapper",
    "PlannedPush",
    "drain",
    "enqueue",
    "plan_target",
    "retry_row",
]

log = get_logger("connector.push")

KIND_ORDER = ("client", "invoice", "payment")
_outbox = Outbox.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PlannedPush:
    """One push the desired state asks for."""

    target: str
    kind: str
    entity_id: int
    version: int
    operation: str  # create | update | archive | unsupported
    remote_id: str | None = None
    reason: str | None = None

    @property
    def idempotency_key(self) -> str:
        """Deterministic per target, entity and version: the same version is never queued or created twice."""
        return f"{self.target}/{self.kind}/{self.entity_id}/v{self.version}"


def plan_target(
    conn: Connection,
    target: str,
    receives: Iterable[str],
    capabilities: Capabilities,
    in_step: Callable[[str, Sequence[tuple[int, links.HeldLink]]], set[int]] | None = None,
) -> list[PlannedPush]:
    """Return what `target` should receive for its routed kinds, in kind order.

    Args:
        in_step: given a kind and the (entity id, link) pairs the target holds an older version of,
            returns the entity ids whose content the target has anyway (`push_wire.InStep`); those are
            not planned. Without it every newer version is.
    """
    routed = set(receives)
    plans: list[PlannedPush] = []
    present_invoices: set[int] = set()
    for kind in KIND_ORDER:
        if kind not in routed and kind != "invoice":
            continue
        held = links.held_by_connection(conn, target, kind)
        if kind == "invoice":
            present_invoices = {eid for eid, h in held.items() if not h.deleted}
            if kind not in routed:
                continue
        versions = live_entity_versions(conn, kind)
        if kind == "client" and "invoice" in routed:
            versions = _with_needed_archived(conn, versions, held)
        stale = [(eid, held[eid]) for eid, version, _ in versions if _is_stale(held.get(eid), version)]
        current = in_step(kind, stale) if in_step is not None and stale else set()
        for entity_id, version, ref_id in versions:
            link = held.get(entity_id)
            if link is not None:
                if not _is_stale(link, version) or entity_id in current:
                    continue
                if kind in capabilities.updatable:
                    plans.append(PlannedPush(target, kind, entity_id, version, "update", link.remote_id))
                else:
                    reason = f"{target} cannot update a {kind} once created"
                    plans.append(PlannedPush(target, kind, entity_id, version, "unsupported", link.remote_id, reason))
                continue
            if kind == "payment" and ref_id not in present_invoices:
                continue  # a payment reaches the services that hold its invoice
            if kind in capabilities.writable:
                plans.append(PlannedPush(target, kind, entity_id, version, "create"))
                if kind == "invoice":
                    present_invoices.add(entity_id)
            else:
                reason = f"{target} cannot create a {kind}"
                plans.append(PlannedPush(target, kind, entity_id, version, "unsupported", None, reason))
        if kind == "client":
            plans.extend(_archivals(conn, target, held, capabilities))
    return plans


def _with_needed_archived(
    conn: Connection, versions: list[tuple[int, int, int | None]], held: Mapping[int, links.HeldLink]
) -> list[tuple[int, int, int | None]]:
    """Add the archived clients that a live invoice names and the target has never had.

    An archived client still has invoices (a FactuurSturen client set inactive keeps its history); a target
    that receives those invoices needs the client first, or they wait for it until they fail.
    """
    needed = {ref for _, _, ref in live_entity_versions(conn, "invoice") if ref is not None}
    extra = [
        (entity_id, version, None)
        for entity_id, version in archived_client_versions(conn)
        if entity_id in needed and entity_id not in held
    ]
    return sorted([*versions, *extra]) if extra else versions


def _archivals(
    conn: Connection, target: str, held: Mapping[int, links.HeldLink], capabilities: Capabilities
) -> list[PlannedPush]:
    """Clients archived since the target last had them: archive them there too, where the service can."""
    plans = []
    for entity_id, version in archived_client_versions(conn):
        link = held.get(entity_id)
        if not _is_stale(link, version):
            continue  # never sent there, or the target archived it itself
        assert link is not None
        if "client" in capabilities.archivable:
            plans.append(PlannedPush(target, "client", entity_id, version, "archive", link.remote_id))
        else:
            reason = f"{target} cannot archive a client (it has no archived state the connector can set)"
            plans.append(PlannedPush(target, "client", entity_id, version, "unsupported", link.remote_id, reason))
    return plans


def _is_stale(link: links.HeldLink | None, version: int) -> bool:
    return link is not None and not link.deleted and link.entity_version is not None and link.entity_version < version


def enqueue(conn: Connection, plans: Iterable[PlannedPush], now: datetime) -> int:
    """Write planned pushes to the outbox (a row per version; older pending rows are superseded).

    Returns:
        How many rows are new.
    """
    new = 0
    for plan in plans:
        exists = conn.execute(select(_outbox.c.id).where(_outbox.c.idempotency_key == plan.idempotency_key)).first()
        if exists:
            continue
        conn.execute(
            update(_outbox)
            .where(
                _outbox.c.connection == plan.target,
                _outbox.c.entity_kind == plan.kind,
                _outbox.c.entity_id == plan.entity_id,
                _outbox.c.status == "pending",
            )
            .values(status="superseded", updated_at=now)
        )
        unsupported = plan.operation == "unsupported"
        upsert(
            conn,
            _outbox,
            {
                "entity_kind": plan.kind,
                "entity_id": plan.entity_id,
                "connection": plan.target,
                "operation": plan.operation,
                "idempotency_key": plan.idempotency_key,
                "payload": {"version": plan.version},
                "status": "unsupported" if unsupported else "pending",
                "attempts": 0,
                "last_error": plan.reason,
                "remote_id": plan.remote_id,
                "created_at": now,
                "updated_at": now,
            },
            ["idempotency_key"],
        )
        new += 1
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
    on_row: Callable[[str, str], None] | None = None,
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
            if outcome == "deferred-stop":
                break
    finally:
        report.requests = provider.requests_made - before
    return report


def _due_rows(engine: Engine, target: str, now: datetime, limit: int | None) -> list[Mapping[str, Any]]:
    order = {kind: i for i, kind in enumerate(KIND_ORDER)}
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(_outbox).where(
                    _outbox.c.connection == target,
                    _outbox.c.status == "pending",
                    (_outbox.c.next_attempt_at.is_(None)) | (_outbox.c.next_attempt_at <= now),
                )
            )
            .mappings()
            .all()
        )
    ordered: list[Mapping[str, Any]] = sorted(
        (dict(r) for r in rows), key=lambda r: (order.get(r["entity_kind"], 9), r["id"])
    )
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
) -> str:
    kind, version = row["entity_kind"], int((row["payload"] or {}).get("version", 0))
    if row["operation"] == "archive":
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
        _finish(engine, row["id"], clock.now(), status="superseded")
        report.superseded += 1
        return "superseded"
    if waiting is not None:  # not this row's fault: try again later, go on with the others
        _defer(engine, row, clock.now(), waiting, max_attempts, report, ambiguous=False)
        return "deferred"
    if problem is not None:
        return _fail(engine, row, clock.now(), problem, report)
    ambiguous = bool((row["payload"] or {}).get("ambiguous"))
    unkeyed_create = row["operation"] == "create" and not provider.capabilities.idempotency_keys
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
        _finish(engine, row["id"], clock.now(), status="unsupported", last_error=exc.reason)
        report.unsupported += 1
        return "unsupported"
    except AuthFailed as exc:
        _finish(engine, row["id"], clock.now(), status="pending", last_error=str(exc))
        raise
    except Transient as exc:
        # A create that timed out or lost its connection may have been made: look for its marker next time.
        maybe_made = row["operation"] == "create" and not isinstance(exc, RateLimited)
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
        _finish(conn, row["id"], now, status="done", remote_id=str(remote_id), attempts=row["attempts"] + 1)
    report.done += 1
    log.debug("pushed", target=target, kind=kind, operation=row["operation"], entity=entity.id)
    return "done"


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
) -> str:
    """Archive a client at the target (its DELETE archives; doing it twice is harmless, so retries are safe)."""
    with engine.connect() as conn:
        entity = load_entities(conn, row["entity_kind"], [row["entity_id"]]).get(row["entity_id"])
    if entity is None or entity.version != version:
        _finish(engine, row["id"], clock.now(), status="superseded")
        report.superseded += 1
        return "superseded"
    try:
        provider.write(row["entity_kind"], "delete", {}, row["remote_id"])
    except AuthFailed as exc:
        _finish(engine, row["id"], clock.now(), status="pending", last_error=str(exc))
        raise
    except Transient as exc:
        return _defer(engine, row, clock.now(), str(exc), max_attempts, report, ambiguous=False)
    except ProviderError as exc:
        return _fail(engine, row, clock.now(), str(exc), report)
    now = clock.now()
    with engine.begin() as conn:
        links.hold_version(conn, target, row["entity_kind"], str(row["remote_id"]), version, now)
        _finish(conn, row["id"], now, status="done", remote_id=str(row["remote_id"]), attempts=row["attempts"] + 1)
    report.done += 1
    log.debug("pushed", target=target, kind=row["entity_kind"], operation="archive", entity=row["entity_id"])
    return "done"


def _fail(engine: Engine, row: Mapping[str, Any], now: datetime, error: str, report: DrainReport) -> str:
    _finish(engine, row["id"], now, status="failed", last_error=error[:2000], attempts=row["attempts"] + 1)
    report.failed += 1
    report.errors.append(error)
    log.debug("push failed", target=row["connection"], kind=row["entity_kind"], entity=row["entity_id"],
              error=error[:300])
    return "failed"


def _defer(
    engine: Engine,
    row: Mapping[str, Any],
    now: datetime,
    error: str,
    max_attempts: int,
    report: DrainReport,
    *,
    ambiguous: bool,
) -> str:
    attempts = row["attempts"] + 1
    if attempts >= max_attempts:
        return _fail(engine, row, now, f"gave up after {attempts} attempts: {error}", report)
    delay = timedelta(seconds=min(2 ** (attempts - 1), 3600))
    payload = {**(row["payload"] or {}), "ambiguous": ambiguous}
    _finish(
        engine,
        row["id"],
        now,
        status="pending",
        attempts=attempts,
        next_attempt_at=now + delay,
        last_error=error,
        payload=payload,
    )
    report.deferred += 1
    return "deferred-stop"  # the target is struggling: leave the rest for the next drain


def _finish(target: Engine | Connection, row_id: int, now: datetime, **values: Any) -> None:
    statement = update(_outbox).where(_outbox.c.id == row_id).values(updated_at=now, **values)
    if isinstance(target, Engine):
        with target.begin() as conn:
            conn.execute(statement)
    else:
        target.execute(statement)


def retry_row(engine: Engine, row_id: int, now: datetime) -> bool:
    """Put a failed (or unsupported) row back to pending for the next drain; False if there is no such row."""
    with engine.begin() as conn:
        result = conn.execute(
            update(_outbox)
            .where(_outbox.c.id == row_id, _outbox.c.status.in_(("failed", "unsupported", "pending")))
            .values(status="pending", attempts=0, next_attempt_at=None, updated_at=now)
        )
    return bool(result.rowcount)
