"""`ConflictPolicy.decide` as a table: own modification times when both sides have one, else the change seen later."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.sync.reconcile.conflicts import CANONICAL, ConflictPolicy

T = [datetime(2026, 12, 7, h, tzinfo=UTC) for h in range(24)]

CASES = [
    # (id, incoming_at, canonical_at, incoming_seen, canonical_seen, winner)
    ("both-clocks-incoming-newer", T[10], T[9], T[11], T[12], "fs"),
    ("both-clocks-canonical-newer-even-if-seen-earlier", T[8], T[9], T[12], T[10], CANONICAL),
    ("both-clocks-tie-goes-to-incoming", T[9], T[9], T[12], T[10], "fs"),
    ("incoming-without-clock-seen-later-wins", None, T[9], T[12], T[10], "fs"),
    ("incoming-without-clock-seen-earlier-loses", None, T[9], T[10], T[12], CANONICAL),
    ("canonical-without-clock-seen-earlier-loses", T[3], None, T[12], T[10], "fs"),
    ("neither-clock-seen-later-wins", None, None, T[12], T[10], "fs"),
    ("nothing-known-incoming-wins", None, None, None, None, "fs"),
]


@pytest.mark.parametrize(("incoming_at", "canonical_at", "incoming_seen", "canonical_seen", "winner"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_newest_wins(incoming_at: datetime | None, canonical_at: datetime | None, incoming_seen: datetime | None,
                     canonical_seen: datetime | None, winner: str) -> None:
    decided = ConflictPolicy().decide("client", "fs", ["email"], incoming_at, canonical_at,
                                      seen=(incoming_seen, canonical_seen))
    assert decided == (winner, "newest_wins")


@pytest.mark.parametrize(("owned", "winner"), [(["client"], "fs"), (["client.email"], "fs"), (["invoice"], CANONICAL),
                                              (["client.phone"], CANONICAL)])
def test_source_of_truth_ignores_times(owned: list[str], winner: str) -> None:
    policy = ConflictPolicy({"client": "source_of_truth"}, frozenset(owned))
    assert policy.decide("client", "fs", ["email"], T[1], T[20], seen=(T[1], T[20])) == (winner, "source_of_truth")
