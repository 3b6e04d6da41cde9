"""The connector's one vocabulary: entity kinds and their order, push operations and outcomes, outbox and run
statuses. Every layer may use it (providers too: it imports nothing of the connector); `connector.domain`
re-exports it beside the canonical shapes.
"""

from __future__ import annotations

import enum

__all__ = [
    "ENTITY_KINDS",
    "KIND_ORDER",
    "EntityKind",
    "JobStatus",
    "OutboxStatus",
    "PushOperation",
    "PushOutcome",
    "RunStatus",
]


class EntityKind(enum.StrEnum):
    """The canonical entity kinds."""

    CLIENT = "client"
    INVOICE = "invoice"
    PAYMENT = "payment"


ENTITY_KINDS: tuple[str, ...] = tuple(k.value for k in EntityKind)

KIND_ORDER: tuple[EntityKind, ...] = (EntityKind.CLIENT, EntityKind.INVOICE, EntityKind.PAYMENT)
"""The one order kinds are stored, read again and pushed in: a client before the invoices that name it, an
invoice before its payments."""


class PushOperation(enum.StrEnum):
    """What a planned push (an outbox row) asks of its target."""

    CREATE = "create"
    UPDATE = "update"
    ARCHIVE = "archive"
    UNSUPPORTED = "unsupported"  # the service cannot do what the desired state asks; kept with the reason


class OutboxStatus(enum.StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"
    SUPERSEDED = "superseded"  # a newer version of the entity was queued, or the entity moved on


class PushOutcome(enum.StrEnum):
    """What the push drain did with one outbox row (what its `on_row` hook and the push metrics see)."""

    DONE = "done"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"
    SUPERSEDED = "superseded"
    DEFERRED = "deferred"  # waits on another row (a reference not pushed yet); the drain goes on
    DEFERRED_STOP = "deferred-stop"  # the target is struggling: the drain leaves the rest for next time

    @property
    def counted(self) -> PushOutcome:
        """The outcome as counted (a deferral that stopped the drain is still a deferral)."""
        return PushOutcome.DEFERRED if self is PushOutcome.DEFERRED_STOP else self


class RunStatus(enum.StrEnum):
    """Where a run (a `sync_run` row: a stream pull, sweep, audit, refetch or backfill) stands or ended."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    GAP = "gap"  # an audit: records the service lists are still missing
    REPAIRED = "repaired"  # an audit: what was missing was brought back

    @property
    def succeeded(self) -> bool:
        """Whether the run counts as a success (its finish time is the connection's last success)."""
        return self in (RunStatus.OK, RunStatus.REPAIRED)


class JobStatus(enum.StrEnum):
    """How one daemon job ended (its ``job run`` log line); the run rows it left say more, in `RunStatus`."""

    OK = "ok"
    SKIPPED = "skipped"  # not run here: stopping, or another replica holds the connection's lease
    GAP = "gap"  # records the service lists are still missing: not a plain ok
    INTERRUPTED = "interrupted"
    FAILED = "failed"
