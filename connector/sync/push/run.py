"""One push cycle for one target: plan the desired state, queue it, drain it; or only describe it (dry run)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from connector.clock import Clock
from connector.domain import PushOperation, PushOutcome
from connector.errors import MappingError
from connector.observability import activity, metrics
from connector.providers.base import Provider
from connector.stopping import StopToken
from connector.store import links
from connector.store.canonical import load_entities
from connector.sync.payload import load_payload
from connector.sync.push.drain import DrainReport, drain, enqueue
from connector.sync.push.plan import PlannedPush, plan_target
from connector.sync.push.wire import InStep, OutboundMapper, map_for_target

__all__ = ["PlanLine", "TargetPush", "describe_plan", "push_target"]



@dataclass(slots=True)
class PlanLine:
    """One planned push with what would change at the target (wire field -> (now there, to be sent))."""

    plan: PlannedPush
    diff: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    note: str | None = None


@dataclass(slots=True)
class TargetPush:
    """The outcome of one push cycle for a target."""

    target: str
    planned: int = 0
    queued: int = 0
    drain: DrainReport | None = None


def push_target(
    engine: Engine,
    clock: Clock,
    target: str,
    receives: list[str],
    provider: Provider,
    mapper: OutboundMapper,
    *,
    max_attempts: int,
    stop: StopToken | None = None,
) -> TargetPush:
    """Plan, queue and drain the pushes for `target` (a set `stop` ends the drain between rows)."""
    result = TargetPush(target)
    with engine.begin() as conn:
        in_step = InStep(conn, target, provider, mapper)
        plans = plan_target(conn, target, receives, provider.capabilities, in_step)
        in_step.mark_held()
        result.planned = len(plans)
        result.queued = enqueue(conn, plans, clock.now())
    activity.push_planned(target, result.queued)  # progress display hooks (no-ops if nobody listens)
    result.drain = drain(
        engine,
        target,
        provider,
        mapper,
        clock,
        max_attempts=max_attempts,
        on_row=lambda kind, outcome: _observe(target, kind, outcome.counted),
        stop=stop,
    )
    return result


def _observe(target: str, kind: str, outcome: PushOutcome) -> None:
    metrics.observe_push(target, kind, outcome)
    activity.row_pushed(target, kind, outcome)


def describe_plan(
    engine: Engine, target: str, receives: list[str], provider: Provider, mapper: OutboundMapper | None
) -> list[PlanLine]:
    """The plan with field diffs, computed from the store alone: no request reaches any service."""
    with engine.connect() as conn:
        in_step = InStep(conn, target, provider, mapper) if mapper is not None else None
        plans = plan_target(conn, target, receives, provider.capabilities, in_step)
        lines = []
        for plan in plans:
            line = PlanLine(plan)
            if plan.operation is PushOperation.UNSUPPORTED:
                line.note = plan.reason
            elif plan.operation is PushOperation.ARCHIVE:
                line.note = "archived: the service's DELETE archives it"
            elif mapper is None:
                line.note = "field diff unavailable: the target's reference lists were never fetched (run a sync)"
            else:
                entity = load_entities(conn, plan.kind, [plan.entity_id])[plan.entity_id]
                try:
                    desired = map_for_target(conn, mapper, provider, target, entity).payload
                except MappingError as exc:
                    line.note = f"would fail: {exc}"
                else:
                    line.diff = _diff(_last_seen(conn, target, plan), desired)
            lines.append(line)
    return lines


def _last_seen(conn: Any, target: str, plan: PlannedPush) -> dict[str, Any]:
    if plan.remote_id is None:
        return {}
    held = links.held_by_connection(conn, target, plan.kind, [plan.entity_id]).get(plan.entity_id)
    if held is None:
        return {}
    text = links.last_seen_payloads(conn, [held.link_id]).get(held.link_id)
    return dict(load_payload(text)) if text else {}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Field by field (dotted paths, list items by 1-based position) what the push would change."""
    old, new = _flat(before), _flat(after)
    return {key: (old.get(key), value) for key, value in new.items() if _plain(old.get(key)) != _plain(value)}


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        out = {}
        for position, item in enumerate(value, 1):
            out.update(_flat(item, f"{prefix}[{position}]"))
        return out
    return {prefix: value}


def _plain(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
