"""SyncEngine: runs a connection's streams (and its deletion sweep) against the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine

from connector.clock import Clock
from connector.domain import RunStatus
from connector.errors import ConfigError
from connector.observability import metrics
from connector.observability.events import get_logger
from connector.providers.base import Provider
from connector.store import runs
from connector.store.db import serialize_canonical_writes
from connector.sync.listing import ListedIds
from connector.sync.pull.dangling import resolve_dangling_clients
from connector.sync.pull.gap import AuditReport, check_listing
from connector.sync.pull.page import InboundMapper, PageCounts
from connector.sync.pull.refetch import FetchOutcome, RefetchPolicy, refetch_quarantined
from connector.sync.pull.stream import PullOptions, StreamReport, run_stream, soft_delete_unlisted
from connector.sync.references import save_references

__all__ = ["ConnectionReport", "MappingSource", "SyncEngine"]

log = get_logger("connector.sync")

SWEEP_STREAM = "sweep"


class MappingSource(Protocol):
    """A loaded mapping that can be bound to reference data."""

    references_needed: set[str]

    def bind(self, references: dict[str, list[dict[str, Any]]]) -> Any:
        """Return an inbound/outbound mapper bound to the service's reference lists."""
        ...


@dataclass(slots=True)
class ConnectionReport:
    """What one `sync` of a connection did, stream by stream."""

    connection: str
    streams: list[StreamReport] = field(default_factory=list)
    setup_requests: int = 0  # requests outside any stream (reference lists for the mapping)
    resolved_refs: int = 0  # invoices stored before their client, linked to it after the run
    refetched: FetchOutcome | None = None  # quarantined records read again after the streams (None: none)
    audits: list[AuditReport] = field(default_factory=list)  # gap audits after listings the store fell short of

    @property
    def totals(self) -> PageCounts:
        """Counts summed over every stream."""
        total = PageCounts()
        for report in self.streams:
            total.add(report.counts)
        return total

    @property
    def requests(self) -> int:
        """HTTP requests made by every stream."""
        extra = (self.refetched.requests if self.refetched is not None else 0) + sum(a.requests for a in self.audits)
        return self.setup_requests + sum(r.requests for r in self.streams) + extra


class SyncEngine:
    """Pulls connections into the canonical store."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        """Args: engine: the migrated store's engine. clock: time source for windows and stamps."""
        self.engine = engine
        self.clock = clock

    def sync(
        self,
        connection: str,
        provider: Provider,
        mapping: MappingSource,
        *,
        streams: Sequence[str] | None = None,
        full: bool = False,
        options: PullOptions | None = None,
        refetch: RefetchPolicy | None = None,
    ) -> ConnectionReport:
        """Pull the selected streams (default: the provider's default ones) in the provider's order.

        After the streams of an incremental run, a bounded batch of the connection's quarantined records is
        read again by id (`refetch`, default `RefetchPolicy()`), so a record the service served broken once
        is stored once it serves it readable again, without a ``--full`` run. After a stream that listed every
        record of its kinds, the store must hold as many as were listed (`gap.check_listing`); when it holds
        fewer, a gap audit brings them back and the stream's run ends ``repaired`` or ``gap``, never ``ok``.

        Raises:
            ConfigError: an unknown stream name (the message lists the known ones).
            ProviderError: the service failed; the failing stream's run row says so.
        """
        specs = {s.name: s for s in provider.streams()}
        known = [*specs, SWEEP_STREAM]
        for name in streams or ():
            if name not in known:
                raise ConfigError(f"connection '{connection}'", "stream", f"unknown stream {name!r}; known: {known}")
        wanted = list(streams) if streams else [n for n, s in specs.items() if s.default]
        report = ConnectionReport(connection)
        started = self.clock.now()
        if [n for n in wanted if n != SWEEP_STREAM]:
            before = provider.requests_made
            try:
                references = provider.reference_data(set(mapping.references_needed))
                bound: InboundMapper = mapping.bind(references)
                with self.engine.begin() as conn:
                    save_references(conn, connection, references, self.clock.now())
            except Exception as exc:
                self._record_failure(connection, wanted, exc)
                raise
            finally:
                report.setup_requests = provider.requests_made - before
        for name in wanted:
            if name == SWEEP_STREAM:
                report.streams.append(self.sweep(connection, provider))
                continue
            spec = specs[name]
            sweep_kinds = () if spec.refresh else spec.kinds
            stream = run_stream(
                self.engine,
                provider,
                bound,
                connection,
                spec,
                full=full,
                clock=self.clock,
                options=options or PullOptions(),
                sweep_kinds=sweep_kinds,
            )
            report.streams.append(stream)
            policy = options or PullOptions()
            audit = check_listing(
                self.engine, provider, mapping, connection, self.clock, stream,
                max_fetch=(refetch or RefetchPolicy()).audit_max_fetch, policy=policy.conflicts, stop=policy.stop,
            )
            if audit is not None:
                report.audits.append(audit)
        if [n for n in wanted if n != SWEEP_STREAM]:  # the mapping was bound: re-map client-less invoices
            if not full:
                options = options or PullOptions()
                report.refetched = refetch_quarantined(
                    self.engine, provider, bound, connection, self.clock, refetch or RefetchPolicy(),
                    since=started, policy=options.conflicts, stop=options.stop,
                )
            with self.engine.begin() as conn:
                serialize_canonical_writes(conn)
                report.resolved_refs = resolve_dangling_clients(conn, connection, bound)
        return report

    def _record_failure(self, connection: str, streams: Sequence[str], exc: Exception) -> None:
        """Leave a failed run row per stream when the connection failed before any stream started."""
        now = self.clock.now()
        for name in streams:
            run_id = runs.start_run(self.engine, connection, name, "connect", now)
            runs.finish_run(
                self.engine,
                run_id,
                {"status": RunStatus.FAILED, "finished_at": now, "error": f"{type(exc).__name__}: {exc}"[:2000]},
            )
            metrics.observe_run(connection, name, RunStatus.FAILED, None, now)  # a hook: a no-op if not installed

    def sweep(self, connection: str, provider: Provider) -> StreamReport:
        """List every id at the service (cheaply, where it allows) and soft-delete what vanished."""
        report = StreamReport(connection, SWEEP_STREAM, "sweep")
        started, before = self.clock.monotonic(), provider.requests_made
        run_id = runs.start_run(self.engine, connection, SWEEP_STREAM, "sweep", self.clock.now())
        try:
            for kind in provider.sweep_kinds:
                listed = ListedIds()
                for batch in provider.list_ids(kind):
                    listed.add(batch)
                with self.engine.begin() as conn:
                    report.counts.deleted += soft_delete_unlisted(conn, connection, kind, listed, self.clock.now())
                report.counts.read += len(listed)
            report.status = RunStatus.OK
        except Exception as exc:
            report.status, report.error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
            raise
        finally:
            report.requests = provider.requests_made - before
            report.seconds = self.clock.monotonic() - started
            finished_at = self.clock.now()
            runs.finish_run(
                self.engine,
                run_id,
                {
                    "status": report.status,
                    "finished_at": finished_at,
                    "records_read": report.counts.read,
                    "deleted": report.counts.deleted,
                    "requests": report.requests,
                    "error": report.error,
                    "duration_seconds": round(report.seconds, 3),
                },
            )
            # observability hook: a no-op unless the daemon installed its metrics; never raises
            metrics.observe_run(connection, SWEEP_STREAM, report.status, report.seconds, finished_at, report.counts)
            log.info(
                "stream run",
                connection=connection,
                stream=SWEEP_STREAM,
                mode="sweep",
                status=report.status,
                read=report.counts.read,
                deleted=report.counts.deleted,
                requests=report.requests,
                seconds=round(report.seconds, 2),
            )
        return report
