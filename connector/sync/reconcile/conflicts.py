"""Conflicts: a service changed a record whose canonical entity changed elsewhere since the service last had it.

The pull finds them (the link's `entity_version` is older than the entity's) and asks the connection's
policy who wins: `source_of_truth` (the connection wins for the kinds, or all the changed fields, it is
authoritative for; otherwise the canonical side) or `newest_wins`: the later of the two sides' own
modification times when both services keep one; when either does not (FactuurSturen clients carry no
reliable time, PROVIDERS.md decision 23; FastFaktura none), the change the connector saw later, by when it
first saw each side's change (the incoming one now, the canonical one when it was stored). A side without a
clock therefore never loses by having none; the incoming side wins a tie. Every conflict leaves a
`conflict` row with both versions and the decision; when the canonical side wins, the service keeps an older
version and the push puts the decided value back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.clock import as_utc

__all__ = [
    "CANONICAL",
    "ConflictPolicy",
    "Decision",
    "changed_fields",
    "contested",
    "decide_conflict",
    "differs",
    "versions_of",
]

CANONICAL = "canonical"
_IGNORED = frozenset({"updated_at", "remote_updated_at", "remote_deleted_at", "origin_connection", "created_at"})


@dataclass(frozen=True, slots=True)
class ConflictPolicy:
    """A connection's conflict rules (from its `conflict_policy` and `source_of_truth` settings)."""

    policies: Mapping[str, str] = field(default_factory=dict)
    source_of_truth: frozenset[str] = frozenset()

    def decide(
        self,
        kind: str,
        connection: str,
        fields: Iterable[str],
        incoming_at: datetime | None,
        canonical_at: datetime | None,
        seen: tuple[datetime | None, datetime | None] = (None, None),
    ) -> tuple[str, str]:
        """Return (winner: the connection's name or CANONICAL, the policy applied).

        Args:
            incoming_at: the incoming side's own modification time, if its service keeps one.
            canonical_at: the canonical side's own modification time, if the service it came from keeps one.
            seen: when the connector first saw (the incoming change, the canonical change); unknown: None.
        """
        policy = self.policies.get(kind, "newest_wins")
        if policy == "source_of_truth":
            owned = kind in self.source_of_truth or all(f"{kind}.{name}" in self.source_of_truth for name in fields)
            return (connection if owned else CANONICAL), policy
        if incoming_at is not None and canonical_at is not None:
            return (connection if incoming_at >= canonical_at else CANONICAL), policy
        incoming_seen, canonical_seen = seen
        if incoming_seen is not None and canonical_seen is not None:
            return (connection if incoming_seen >= canonical_seen else CANONICAL), policy
        return connection, policy


def differs(current: Mapping[str, Any], incoming: Mapping[str, Any]) -> bool:
    """True when writing `incoming` would change any stored column (bookkeeping times aside)."""
    return any(
        name not in _IGNORED and _plain(current.get(name)) != _plain(value) for name, value in incoming.items()
    )


def changed_fields(current: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Columns whose incoming value differs from a stored value: {column: (stored, incoming)}.

    A column the stored side has no value for is not contested: the incoming side fills a gap (a paid date
    the service that reported the payment does not keep), it does not overwrite anyone's change.
    """
    return {
        name: (current.get(name), value)
        for name, value in incoming.items()
        if name not in _IGNORED and current.get(name) is not None and _plain(current.get(name)) != _plain(value)
    }


def contested(
    diff: Mapping[str, tuple[Any, Any]], current: Mapping[str, Any], base: Mapping[str, Any] | None
) -> dict[str, tuple[Any, Any]]:
    """The part of `diff` changed on both sides: columns whose stored value moved away from `base` too.

    Args:
        diff: what the service changed against the stored values (`changed_fields`).
        current: the stored values.
        base: what the service held when the connector last saw it there (None: unknown, all of `diff`).
    """
    if base is None:
        return dict(diff)
    kept = {}
    for name, (stored, incoming) in diff.items():
        then = base.get(name)
        if isinstance(stored, Mapping) and isinstance(incoming, Mapping) and isinstance(then, Mapping):
            # a JSON column (`extra`): contested when a key the service changed moved on the stored side too
            moved = [k for k in {*stored, *incoming} if _plain(stored.get(k)) != _plain(incoming.get(k))]
            if any(_plain(then.get(k)) != _plain(stored.get(k)) for k in moved):
                kept[name] = (stored, incoming)
        elif _plain(then) != _plain(stored):
            kept[name] = (stored, incoming)
    return kept


def _plain(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@dataclass(frozen=True, slots=True)
class Decision:
    """A decided conflict: the fields changed on both sides, who won, under which policy."""

    diff: Mapping[str, tuple[Any, Any]]  # column -> (stored, incoming)
    winner: str  # the incoming connection's name, or CANONICAL
    policy: str


def decide_conflict(
    policy: ConflictPolicy,
    kind: str,
    connection: str,
    current: Mapping[str, Any],
    incoming: Mapping[str, Any],
    base: Mapping[str, Any] | None,
    incoming_at: datetime | None,
    seen: tuple[datetime | None, datetime | None],
) -> Decision | None:
    """Decide an incoming row against a stored one that changed since the service last had it.

    Args:
        current: the stored row.
        incoming: the row the incoming record would write.
        base: what the service held when the connector last saw it there (None: unknown).
        incoming_at: the incoming side's own modification time, if its service keeps one.
        seen: when the connector first saw (the incoming change, the canonical change).

    Returns:
        None when no field changed on both sides (no conflict), else the decision.
    """
    diff = contested(changed_fields(current, incoming), current, base)
    if not diff:
        return None
    canonical_at = as_utc(current.get("remote_updated_at"))
    winner, applied = policy.decide(kind, connection, diff, incoming_at, canonical_at, seen=seen)
    return Decision(diff, winner, applied)


def versions_of(diff: Mapping[str, tuple[Any, Any]], connection: str) -> dict[str, dict[str, str]]:
    """Both versions of the contested fields, as the `conflict` row keeps them."""
    return {
        CANONICAL: {k: _plain(old) for k, (old, _) in diff.items()},
        connection: {k: _plain(new) for k, (_, new) in diff.items()},
    }
