"""Fair shares: rendezvous hashing, the share, and what a replica claims or releases (tables), plus a simulated
cluster that joins, loses and regains a replica and must end balanced having moved only what it had to."""

from __future__ import annotations

from collections import Counter

import pytest

from connector.daemon.shares import Moves, fair_share, owner, plan_moves, quotas, score

NAMES = [f"c{i:02d}" for i in range(60)]


@pytest.mark.parametrize(
    ("connections", "replicas", "share"),
    [(60, 3, 20), (60, 2, 30), (61, 3, 21), (59, 3, 20), (1, 3, 1), (0, 3, 0), (5, 1, 5), (5, 0, 5), (1000, 7, 143)],
)
def test_fair_share_is_the_ceiling(connections: int, replicas: int, share: int) -> None:
    assert fair_share(connections, replicas) == share


@pytest.mark.parametrize(
    ("connections", "replicas", "expected"),
    [(60, "abc", {"a": 20, "b": 20, "c": 20}), (100, "abc", {"a": 34, "b": 33, "c": 33}),
     (2, "cab", {"a": 1, "b": 1, "c": 0}), (0, "ab", {"a": 0, "b": 0}), (5, "", {})],
)
def test_quotas_add_up_and_differ_by_at_most_one(connections: int, replicas: str, expected: dict[str, int]) -> None:
    assert quotas(connections, list(replicas)) == expected


def test_rendezvous_is_stable_and_moves_about_one_nth_on_a_join() -> None:
    assert score("a", "c01") == score("a", "c01"), "deterministic"
    assert score("a", "c01") != score("b", "c01")
    before = {n: owner(n, ["a", "b"]) for n in NAMES}
    after = {n: owner(n, ["a", "b", "c"]) for n in NAMES}
    moved = [n for n in NAMES if before[n] != after[n]]
    assert all(after[n] == "c" for n in moved), "a join only moves connections to the joiner"
    assert 10 <= len(moved) <= 30, len(moved)
    assert {n: owner(n, ["b", "a"]) for n in NAMES} == before, "order of the replicas does not matter"
    with pytest.raises(ValueError):
        owner("c01", [])


def _owned(me: str, replicas: list[str], count: int) -> list[str]:
    return [n for n in NAMES if owner(n, replicas) == me][:count]


CASES = [
    # id, me, live, mine, holders(other than mine) -> expected (share, room, claim-set or None, release count)
    ("alone takes everything", "a", ["a"], [], {}, (60, 60, set(NAMES), 0)),
    ("balanced stays put", "a", ["a", "b", "c"], "20 own", {}, (20, 0, set(), 0)),
    ("over its share releases the surplus", "a", ["a", "b"], "all", {}, (30, 0, set(), 30)),
    ("never claims what a live replica holds", "a", ["a", "b"], [], "b holds all", (30, 30, set(), 0)),
]


@pytest.mark.parametrize(("case", "me", "live", "mine", "holders", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan_moves_table(
    case: str, me: str, live: list[str], mine: object, holders: object, expected: tuple[int, int, set[str], int]
) -> None:
    held = {"all": NAMES, "20 own": _owned(me, live, 20)}.get(str(mine), mine)
    assert isinstance(held, list)
    others = {n: "b" for n in NAMES} if holders == "b holds all" else {}
    assert isinstance(others, dict)
    leases = {**others, **{n: me for n in held}}
    moves = plan_moves(me, NAMES, live, held, leases)
    share, room, claim, released = expected
    assert (moves.share, moves.room) == (share, room)
    if claim:
        assert set(moves.claim) == claim
    else:
        assert moves.claim == ()
    assert len(moves.release) == released


def test_surplus_released_is_what_the_others_own_and_claims_prefer_own_connections() -> None:
    moves = plan_moves("a", NAMES, ["a", "b"], NAMES, {n: "a" for n in NAMES})
    a_owns = {n for n in NAMES if owner(n, ["a", "b"]) == "a"}
    kept = set(NAMES) - set(moves.release)
    assert len(kept) == 30
    assert kept <= a_owns or a_owns <= kept, "keeps its own; releases the others' first"

    # b (empty) may claim only what it owns while a is not full; once a is full, a's free ones too.
    b_owns = set(NAMES) - a_owns
    free_half = {n: "a" for n in sorted(a_owns)[:5]}
    early = plan_moves("b", NAMES, ["a", "b"], [], free_half)
    assert set(early.claim) == b_owns, "a holds 5 of its own: under its share, so its free ones are left to it"
    full = {n: "a" for n in sorted(NAMES)[:30]}
    late = plan_moves("b", NAMES, ["a", "b"], [], full)
    assert set(late.claim) == set(NAMES) - set(full)
    assert late.claim[: len(b_owns - set(full))] == tuple(
        sorted(b_owns - set(full), key=lambda n: score("b", n), reverse=True)
    ), "its own first, best score first"


def test_a_restarted_replica_never_counts_another_processes_leases_under_its_id_as_its_own() -> None:
    moves = plan_moves("a", NAMES[:3], ["a"], [], {NAMES[0]: "a"})
    assert moves == Moves(3, 3, tuple(sorted(NAMES[:3], key=lambda n: score("a", n), reverse=True)), ())


class Cluster:
    """Replicas ticking in turn against one lease table; releases take effect at once (no job in the way)."""

    def __init__(self, names: list[str] = NAMES) -> None:
        self.names = names
        self.leases: dict[str, str] = {}
        self.live: list[str] = []

    def tick(self, me: str) -> None:
        mine = [n for n, h in self.leases.items() if h == me]
        moves = plan_moves(me, self.names, self.live, mine, self.leases)
        for name in moves.release:
            del self.leases[name]
        room = moves.room
        for name in moves.claim:
            if room and name not in self.leases:
                self.leases[name] = me
                room -= 1

    def settle(self, rounds: int = 10) -> dict[str, str]:
        for _ in range(rounds):
            for replica in list(self.live):
                self.tick(replica)
        return dict(self.leases)


def _counts(leases: dict[str, str]) -> Counter[str]:
    return Counter(leases.values())


def test_a_simulated_cluster_balances_and_moves_only_what_it_must() -> None:
    cluster = Cluster()
    for replica in ("a", "b", "c"):  # started one after the other: the first takes everything, then shares
        cluster.live.append(replica)
        cluster.settle()
    three = cluster.settle()
    assert len(three) == 60 and set(_counts(three).values()) == {20}, _counts(three)

    cluster.live.remove("c")  # killed: its leases expire
    cluster.leases = {n: h for n, h in cluster.leases.items() if h != "c"}
    two = cluster.settle()
    assert len(two) == 60 and set(_counts(two).values()) == {30}, _counts(two)
    assert all(two[n] == three[n] for n in three if three[n] != "c"), "the survivors kept theirs"

    cluster.live.append("c")  # restarted
    again = cluster.settle()
    assert set(_counts(again).values()) == {20}, _counts(again)
    moved = [n for n in NAMES if again[n] != two[n]]
    assert len(moved) == 20 and all(again[n] == "c" for n in moved), "only what the joiner needs, all to it"


def test_a_simulated_cluster_spreads_an_uneven_count_within_one() -> None:
    cluster = Cluster([f"n{i:03d}" for i in range(100)])
    for replica in ("a", "b", "c"):
        cluster.live.append(replica)
        cluster.settle()
    assert sorted(_counts(cluster.settle()).values()) == [33, 33, 34]
    cluster.live.remove("b")
    cluster.leases = {n: h for n, h in cluster.leases.items() if h != "b"}
    assert sorted(_counts(cluster.settle()).values()) == [50, 50]
