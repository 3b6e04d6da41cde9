"""The gap audit: compare what the service lists with what the store holds, and bring back what is missing.

Per connection and kind the provider can both list (`Provider.list_ids`, the deletion sweep's cheap listing)
and read by id (`Provider.fetch`): every listed id the store does not hold live (no live link to an existing
canonical row) and that is not in open quarantine (the re-read's business) is missing. Missing records are
read by id through the normal apply path (`refetch.store_fetched`), at most `max_fetch` per audit (the rest
wait for the next one; a store that lost most of a connection wants ``connector sync --full``). Records the
store holds that the service no longer lists are the deletion sweep's business and are left alone.

Requests: the listing's pages plus one per missing record read (hydra: plus the batched rows and payments of
the invoices among them). The mapping binds to the reference lists the pulls keep (`references`).

The result is kept as the cursor of the ``audit`` stream (per kind: listed, missing, fetched, remaining, at),
read by `connector status` and the ``connector_gap_records`` gauge, and each audit leaves an ``audit`` run
row whose status is ``ok`` when nothing was missing, ``repaired`` when everything missing was brought back,
and ``gap`` when records are still missing: an audit that found records missing never ends as a plain ok.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from connector.clock import Clock
from connector.domain import KIND_ORDER, RunStatus
from connector.errors import Interrupted
from connector.observability import metrics
from connector.observability.events import get_logger
from connector.observability.store_gauges import AUDIT_STREAM
from connector.providers.base import Provider
from connector.stopping import StopToken, check_stop
from connector.store import gaps, runs
from connector.sync.pull.refetch import FetchOutcome, store_fetched
from connector.sync.reconcile.conflicts import ConflictPolicy
from connector.sync.references import references_for

if TYPE_CHECKING:
    from connector.sync.engine import MappingSource
    from connector.sync.pull.stream import StreamReport

__all__ = ["AUDIT_STREAM", "AuditReport", "KindGap", "audit_kinds", "check_listing", "last_audit", "run_audit"]

log = get_logger("connector.sync")



@dataclass(slots=True)
class KindGap:
    """One kind's audit: ids listed at the service, missing from the store, read back, still missing."""

    kind: str
    listed: int = 0
    missing: int = 0
    fetched: int = 0
    remaining: int = 0

    def as_json(self) -> dict[str, int]:
        """The kept form (the audit cursor, `connector status --json`)."""
        return {"listed": self.listed, "missing": self.missing, "fetched": self.fetched, "remaining": self.remaining}


@dataclass(slots=True)
class AuditReport:
    """What one audit of a connection found and did."""

    connection: str
    kinds: list[KindGap] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    status: RunStatus = RunStatus.RUNNING
    error: str | None = None
    fetch: FetchOutcome | None = None

    @property
    def missing(self) -> int:
        """Records found missing, every kind."""
        return sum(k.missing for k in self.kinds)

    @property
    def remaining(self) -> int:
        """Records still missing after the audit, every kind."""
        return sum(k.remaining for k in self.kinds)


def audit_kinds(provider: Provider, only: str | None = None) -> list[str]:
    """The kinds an audit covers: listable and readable by id (all of them, or just `only`), in store order."""
    kinds = [k.value for k in KIND_ORDER if k in provider.sweep_kinds and k in provider.fetchable_kinds]
    return [k for k in kinds if only is None or k == only]


def run_audit(
    engine: Engine,
    provider: Provider,
    mapping: MappingSource,
    connection: str,
    clock: Clock,
    *,
    kinds: list[str],
    max_fetch: int = 500,
    policy: ConflictPolicy | None = None,
    stop: StopToken | None = None,
) -> AuditReport:
    """Audit `kinds` of one connection (see the module docstring) and keep the result.

    Raises:
        ProviderError: the service failed (the run row says so; the kept result is the previous audit's).
        Interrupted: `stop` was set (between listing pages and after each stored page).
    """
    report = AuditReport(connection, [KindGap(kind) for kind in kinds])
    started, before = clock.monotonic(), provider.requests_made
    run_id = runs.start_run(engine, connection, AUDIT_STREAM, AUDIT_STREAM, clock.now())
    try:
        missing: dict[str, list[str]] = {}
        for gap in report.kinds:
            missing[gap.kind] = _missing(engine, provider, connection, gap, stop)
        budget = max_fetch
        wanted: dict[str, list[str]] = {}
        for gap in report.kinds:
            wanted[gap.kind] = missing[gap.kind][: max(0, budget)]
            budget -= len(wanted[gap.kind])
        if any(wanted.values()):
            needed = set(mapping.references_needed)
            bound = mapping.bind(references_for(engine, connection, needed, provider.reference_data, clock.now()))
            report.fetch = FetchOutcome()
            store_fetched(engine, provider, bound, connection, wanted, clock, stream=AUDIT_STREAM, policy=policy,
                          stop=stop, outcome=report.fetch)
        _settle(engine, connection, report, missing)
        report.status = RunStatus.GAP if report.remaining else (RunStatus.REPAIRED if report.missing else RunStatus.OK)
        kept = _kept(report, last_audit(engine, connection), clock)
        with engine.begin() as conn:
            runs.save_cursor(conn, connection, AUDIT_STREAM, kept, clock.now())
    except BaseException as exc:
        interrupted = isinstance(exc, Interrupted) or not isinstance(exc, Exception)
        report.status = RunStatus.INTERRUPTED if interrupted else RunStatus.FAILED
        report.error = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        report.requests = provider.requests_made - before
        report.seconds = clock.monotonic() - started
        _finish(engine, run_id, report, clock)
    return report


def _missing(engine: Engine, provider: Provider, connection: str, gap: KindGap, stop: StopToken | None) -> list[str]:
    """List `gap.kind` at the service and return the ids the store lacks (memory: the missing ids only)."""
    missing: list[str] = []
    for batch in provider.list_ids(gap.kind):
        gap.listed += len(batch)
        with engine.connect() as conn:
            missing.extend(gaps.absent_ids(conn, connection, gap.kind, batch))
        check_stop(stop, f"{connection}/{AUDIT_STREAM}")
    missing = list(dict.fromkeys(missing))  # a listing that shifted while paged may name an id twice
    gap.missing = len(missing)
    return missing


def _settle(engine: Engine, connection: str, report: AuditReport, missing: dict[str, list[str]]) -> None:
    """Count per kind what was read back and what the store still lacks (asked again, so nothing is assumed)."""
    fetched = report.fetch.fetched if report.fetch is not None else {}
    vanished = report.fetch.vanished if report.fetch is not None else {}
    with engine.connect() as conn:
        for gap in report.kinds:
            ids = [rid for rid in missing[gap.kind] if rid not in vanished.get(gap.kind, ())]
            gap.fetched = len(set(ids) & fetched.get(gap.kind, set()))
            gap.remaining = len(gaps.absent_ids(conn, connection, gap.kind, ids)) if ids else 0


def _kept(report: AuditReport, previous: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """The result to keep: this audit's kinds over the previous audit's (an audit of one kind keeps the others)."""
    at = clock.now().isoformat()
    kinds = dict(previous.get("kinds") or {})
    kinds.update({k.kind: {**k.as_json(), "at": at} for k in report.kinds})
    return {"at": at, "status": report.status, "kinds": kinds}


def _finish(engine: Engine, run_id: int, report: AuditReport, clock: Clock) -> None:
    finished_at = clock.now()
    fetched = report.fetch.counts if report.fetch is not None else None
    runs.finish_run(
        engine,
        run_id,
        {
            "status": report.status,
            "finished_at": finished_at,
            "records_read": sum(k.listed for k in report.kinds),
            "created": fetched.created if fetched else 0,
            "updated": fetched.updated if fetched else 0,
            "quarantined": fetched.quarantined if fetched else 0,
            "requests": report.requests,
            "error": report.error
            or (f"{report.remaining} record(s) listed at the service are still missing" if report.remaining else None),
            "duration_seconds": round(report.seconds, 3),
        },
    )
    metrics.observe_run(report.connection, AUDIT_STREAM, report.status, report.seconds, finished_at, fetched)
    log.log(
        logging.WARNING if report.missing else logging.INFO,
        "gap audit", connection=report.connection, status=report.status, listed=sum(k.listed for k in report.kinds),
        missing=report.missing, fetched=sum(k.fetched for k in report.kinds), remaining=report.remaining,
        requests=report.requests, seconds=round(report.seconds, 2),
    )


def check_listing(
    engine: Engine,
    provider: Provider,
    mapping: MappingSource,
    connection: str,
    clock: Clock,
    stream: StreamReport,
    *,
    max_fetch: int = 500,
    policy: ConflictPolicy | None = None,
    stop: StopToken | None = None,
) -> AuditReport | None:
    """After a stream run that listed every record of its kinds: does the store hold as many as were listed?

    Costs no request when it does (a count per kind against the ids the listing named). When the store holds
    fewer (a record listed but not stored: say its canonical row was lost while its link stayed, so the
    listing took it for unchanged), the gap audit runs for those kinds and the stream's run ends ``repaired``
    or ``gap`` instead of ``ok``. Returns the audit, or None when nothing was short.
    """
    if stream.status != RunStatus.OK or not stream.complete_listing:
        return None
    short: list[str] = []
    with engine.connect() as conn:
        for kind in audit_kinds(provider):
            if kind in stream.seen and gaps.held_count(conn, connection, kind) < stream.seen[kind].distinct():
                short.append(kind)
    if not short:
        return None
    log.warning("listing short", connection=connection, stream=stream.stream, kinds=",".join(short), action="auditing")
    audit = run_audit(engine, provider, mapping, connection, clock, kinds=short, max_fetch=max_fetch, policy=policy,
                      stop=stop)
    stream.status = RunStatus.GAP if audit.remaining else RunStatus.REPAIRED
    note = (f"the store held fewer records than listed: {audit.missing} missing, {audit.remaining} still missing "
            "after the gap audit")
    with engine.begin() as conn:
        gaps.mark_last_run(conn, connection, stream.stream, stream.status, note)
    return audit


def last_audit(engine: Engine, connection: str) -> dict[str, Any]:
    """The kept result of the connection's last audit ({} when it never ran)."""
    return runs.load_cursor(engine, connection, AUDIT_STREAM)
