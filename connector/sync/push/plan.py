"""Plan: the pushes the desired state asks of one target.

For each connection's routed kinds, every live canonical entity whose current version the connection does
not hold (no link: create; an older `link.entity_version`: update) becomes one planned push, keyed by
(target, kind, entity, version), so replanning never duplicates an outbox row. A link made by a pull holds
the version the pull wrote, so nothing goes back to where it came from (echo suppression); an older version
whose content the target has anyway (a change in fields it does not take, such as an invoice's payment
state) is marked held instead of planned (`wire.InStep`). An operation the service cannot do is planned as
`unsupported` with the reason and never sent. A payment reaches only the services that hold its invoice;
an archived client goes to a target that receives an invoice naming it, and a client archived since a
target had it is archived there too.

`plan_versions`, `plan_archivals` and `is_stale` are pure (table-tested in `tests/unit/reconcile/`);
`plan_target` reads the store for them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from connector.domain import KIND_ORDER, EntityKind, PushOperation
from connector.providers.base import Capabilities
from connector.store import links
from connector.store.canonical import archived_client_versions, live_entity_versions

__all__ = [
    "PlannedPush",
    "is_stale",
    "plan_archivals",
    "plan_target",
    "plan_versions",
    "with_needed_archived",
]

Versions = Sequence[tuple[int, int, int | None]]  # (entity id, current version, id of what it refers to)


@dataclass(frozen=True, slots=True)
class PlannedPush:
    """One push the desired state asks for."""

    target: str
    kind: str
    entity_id: int
    version: int
    operation: PushOperation
    remote_id: str | None = None
    reason: str | None = None

    @property
    def idempotency_key(self) -> str:
        """Deterministic per target, entity and version: the same version is never queued or created twice."""
        return f"{self.target}/{self.kind}/{self.entity_id}/v{self.version}"


def is_stale(link: links.HeldLink | None, version: int) -> bool:
    """True when the target holds the entity (a live link made by the connector) at an older version."""
    return link is not None and not link.deleted and link.entity_version is not None and link.entity_version < version


def plan_versions(
    target: str,
    kind: str,
    versions: Versions,
    held: Mapping[int, links.HeldLink],
    capabilities: Capabilities,
    in_step: Collection[int] = (),
    present_invoices: Collection[int] = (),
) -> list[PlannedPush]:
    """The creates, updates and unsupported operations of one routed kind at `target`.

    Args:
        versions: the live entities of `kind`: (id, current version, id of what it refers to).
        held: what the target holds, by entity id.
        in_step: entities the target holds at an older version whose content it has anyway (not planned).
        present_invoices: the invoices the target holds or is planned to receive (a payment needs its invoice).
    """
    plans: list[PlannedPush] = []
    for entity_id, version, ref_id in versions:
        link = held.get(entity_id)
        if link is not None:
            if not is_stale(link, version) or entity_id in in_step:
                continue
            if kind in capabilities.updatable:
                plans.append(PlannedPush(target, kind, entity_id, version, PushOperation.UPDATE, link.remote_id))
            else:
                reason = f"{target} cannot update a {kind} once created"
                plans.append(
                    PlannedPush(target, kind, entity_id, version, PushOperation.UNSUPPORTED, link.remote_id, reason)
                )
            continue
        if kind == EntityKind.PAYMENT and ref_id not in present_invoices:
            continue  # a payment reaches the services that hold its invoice
        if kind in capabilities.writable:
            plans.append(PlannedPush(target, kind, entity_id, version, PushOperation.CREATE))
        else:
            reason = f"{target} cannot create a {kind}"
            plans.append(PlannedPush(target, kind, entity_id, version, PushOperation.UNSUPPORTED, None, reason))
    return plans


def plan_archivals(
    target: str,
    archived: Iterable[tuple[int, int]],
    held: Mapping[int, links.HeldLink],
    capabilities: Capabilities,
) -> list[PlannedPush]:
    """Clients archived since the target last had them: archive them there too, where the service can.

    Args:
        archived: the archived clients: (id, current version).
    """
    plans = []
    for entity_id, version in archived:
        link = held.get(entity_id)
        if not is_stale(link, version):
            continue  # never sent there, or the target archived it itself
        assert link is not None
        if EntityKind.CLIENT in capabilities.archivable:
            archive = PushOperation.ARCHIVE
            plans.append(PlannedPush(target, EntityKind.CLIENT, entity_id, version, archive, link.remote_id))
        else:
            reason = f"{target} cannot archive a client (it has no archived state the connector can set)"
            unsupported = PushOperation.UNSUPPORTED
            client = EntityKind.CLIENT
            plans.append(PlannedPush(target, client, entity_id, version, unsupported, link.remote_id, reason))
    return plans


def with_needed_archived(
    versions: Versions,
    archived: Iterable[tuple[int, int]],
    named: Collection[int | None],
    held: Mapping[int, links.HeldLink],
) -> list[tuple[int, int, int | None]]:
    """Add the archived clients that a live invoice names (`named`) and the target has never had.

    An archived client still has invoices (a FactuurSturen client set inactive keeps its history); a target
    that receives those invoices needs the client first, or they wait for it until they fail.
    """
    extra = [
        (entity_id, version, None) for entity_id, version in archived if entity_id in named and entity_id not in held
    ]
    return sorted([*versions, *extra]) if extra else list(versions)


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
            returns the entity ids whose content the target has anyway (`wire.InStep`); those are
            not planned. Without it every newer version is.
    """
    routed = set(receives)
    plans: list[PlannedPush] = []
    present_invoices: set[int] = set()
    for kind in (k.value for k in KIND_ORDER):
        if kind not in routed and kind != EntityKind.INVOICE:
            continue
        held = links.held_by_connection(conn, target, kind)
        if kind == EntityKind.INVOICE:
            present_invoices = {eid for eid, h in held.items() if not h.deleted}
            if kind not in routed:
                continue
        versions: Versions = live_entity_versions(conn, kind)
        if kind == EntityKind.CLIENT and EntityKind.INVOICE in routed:
            named = {ref for _, _, ref in live_entity_versions(conn, EntityKind.INVOICE) if ref is not None}
            versions = with_needed_archived(versions, archived_client_versions(conn), named, held)
        stale = [(eid, held[eid]) for eid, version, _ in versions if is_stale(held.get(eid), version)]
        current = in_step(kind, stale) if in_step is not None and stale else set()
        planned = plan_versions(target, kind, versions, held, capabilities, current, present_invoices)
        plans.extend(planned)
        if kind == EntityKind.INVOICE:
            present_invoices.update(p.entity_id for p in planned if p.operation is PushOperation.CREATE)
        if kind == EntityKind.CLIENT:
            plans.extend(plan_archivals(target, archived_client_versions(conn), held, capabilities))
    return plans
