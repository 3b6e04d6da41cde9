"""What reconciling a page (or a whole run, summed) did to the store."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PageCounts"]


@dataclass(slots=True)
class PageCounts:
    """What one page (or a whole run, summed) did to the store."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0
    unresolved_refs: int = 0
    matched: int = 0  # new remote records linked to a canonical entity another service already gave
    conflicts: int = 0  # changed here and elsewhere since this service last had the record
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, other: PageCounts) -> None:
        """Accumulate `other` into this one."""
        for name in (
            "read", "created", "updated", "unchanged", "deleted", "quarantined", "unresolved_refs", "matched",
            "conflicts",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, n in other.by_kind.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + n
