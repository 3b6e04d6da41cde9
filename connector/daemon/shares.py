"""Fair shares of the connections among live replicas: pure functions, no I/O.

Each replica holds at most `fair_share` = ceil(connections / live replicas); exactly, its `quotas` entry: the
first (connections mod replicas) live replicas by id get the ceiling, the others the floor, so the quotas add up
to the connections and no two replicas differ by more than one. Which ones: rendezvous hashing
(highest random weight) over the live replica ids ranks the replicas for every connection; a connection's
`owner` is the replica ranked first. A join or a leave changes the owner of only the connections the joining
or leaving replica wins or held, about 1/N of them, so rebalancing moves little.

`plan_moves` is what one replica decides on each membership tick, from the database's view:
- over its quota: release the surplus, least preferred first (connections it does not own, then its own by
  ascending score), at a safe point (the daemon waits for the connection's running job to end);
- under its quota: claim free connections it owns first; a free connection owned by another live replica only
  when that owner is full (at its quota: it cannot take it), so owners are not raced for their own connections
  and a joiner gets back what it owns;
- otherwise: nothing, so a balanced cluster stays put.
Leases held by a live replica are never claimed; those of gone replicas are claimed once they expire (the lease
store decides), and those of one-shot commands only as the lease store allows.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Moves", "fair_share", "owner", "plan_moves", "quotas", "score"]


def score(replica: str, name: str) -> int:
    """The rendezvous weight of `replica` for connection `name` (stable across processes and versions)."""
    digest = hashlib.blake2b(f"{replica}\x00{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(name: str, replicas: Iterable[str]) -> str:
    """The replica that rendezvous hashing assigns `name` to (ties, which need a hash collision, by id).

    Raises:
        ValueError: no replica given.
    """
    ranked = sorted(replicas, key=lambda r: (score(r, name), r), reverse=True)
    if not ranked:
        raise ValueError("owner of a connection among no replicas")
    return ranked[0]


def fair_share(connections: int, replicas: int) -> int:
    """ceil(connections / replicas): the most connections one replica holds (replicas counts at least 1)."""
    replicas = max(1, replicas)
    return -(-max(0, connections) // replicas)


def quotas(connections: int, replicas: Iterable[str]) -> dict[str, int]:
    """How many connections each replica holds when balanced: floor or ceiling of connections / replicas, the
    ceiling going to the first (connections mod replicas) replicas by id; they add up to `connections`."""
    ordered = sorted(set(replicas))
    if not ordered:
        return {}
    base, extra = divmod(max(0, connections), len(ordered))
    return {replica: base + (1 if i < extra else 0) for i, replica in enumerate(ordered)}


@dataclass(frozen=True, slots=True)
class Moves:
    """What one replica should do now: `release` (surplus, in order) and `claim` (candidates, in order, to try
    until `room` are held); `share` is its quota under the current membership (at most the fair share)."""

    share: int
    room: int
    claim: tuple[str, ...]
    release: tuple[str, ...]


def plan_moves(
    me: str,
    names: Iterable[str],
    live: Iterable[str],
    mine: Iterable[str],
    holders: Mapping[str, str],
) -> Moves:
    """Decide which connections replica `me` releases or tries to claim.

    Args:
        me: this replica's id (counted live whatever `live` says: it is deciding).
        names: every connection to share.
        live: the ids of live replicas.
        mine: the connections this replica holds now.
        holders: unexpired leases, connection -> holder (this replica's own included).

    Returns:
        The moves; at most one of `claim` and `release` is non-empty.
    """
    every = sorted(set(names))
    replicas = sorted(set(live) | {me})
    held = set(mine) & set(every)
    quota = quotas(len(every), replicas)
    share = quota[me]
    owners = {name: owner(name, replicas) for name in every}

    def preference(name: str) -> tuple[bool, int, str]:  # ascending: least preferred first
        return (owners[name] == me, score(me, name), name)

    if len(held) > share:
        surplus = sorted(held, key=preference)[: len(held) - share]
        return Moves(share, 0, (), tuple(surplus))
    room = share - len(held)
    if room == 0:
        return Moves(share, 0, (), ())
    others = set(replicas) - {me}
    load = Counter(holder for name, holder in holders.items() if holder in others and name in owners)
    load[me] = len(held)
    free = [n for n in every if n not in held and holders.get(n) not in others]
    own = [n for n in free if owners[n] == me]
    spill = [n for n in free if owners[n] != me and load[owners[n]] >= quota[owners[n]]]
    ordered = sorted(own, key=preference, reverse=True) + sorted(spill, key=preference, reverse=True)
    return Moves(share, room, tuple(ordered), ())
