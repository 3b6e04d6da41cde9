"""Conflict policy as a table over plain rows: what counts as changed on both sides, and who wins
(`reconcile.conflicts`; the newest-wins clocks alone are in `tests/unit/test_conflict_policy.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from connector.sync.reconcile.conflicts import (
    CANONICAL,
    ConflictPolicy,
    changed_fields,
    contested,
    decide_conflict,
    differs,
    versions_of,
)

from .rows import T, client

SOT = ConflictPolicy({"client": "source_of_truth"}, frozenset({"client"}))
SOT_FIELD = ConflictPolicy({"client": "source_of_truth"}, frozenset({"client.email"}))
SOT_OTHER = ConflictPolicy({"client": "source_of_truth"}, frozenset({"invoice"}))
NEWEST = ConflictPolicy()

# (id naming the rule, policy, stored, incoming, base, incoming_at, seen, expected (contested, winner) or None)
DECIDE: list[tuple[str, ConflictPolicy, dict[str, Any], dict[str, Any], dict[str, Any] | None, datetime | None,
                   tuple[datetime | None, datetime | None], tuple[set[str], str] | None]] = [
    ("no-field-differs-no-conflict", NEWEST, client(), client(updated_at=T[9]), client(), None, (T[9], T[1]), None),
    ("changed-only-there-is-no-conflict", NEWEST, client(), client(name="New"), client(), None, (T[9], T[1]), None),
    ("changed-on-both-sides-is-a-conflict", NEWEST, client(name="Ours"), client(name="Theirs"), client(), None,
     (T[9], T[1]), ({"name"}, "fs")),
    ("base-unknown-every-difference-is-contested", NEWEST, client(name="Ours"), client(name="Theirs"), None, None,
     (T[9], T[1]), ({"name"}, "fs")),
    ("a-gap-the-incoming-fills-is-not-contested", NEWEST, client(phone=None), client(phone="1"), client(phone="2"),
     None, (T[9], T[1]), None),
    ("only-the-fields-moved-on-both-sides-are-contested", NEWEST, client(name="Ours", email="o@x"),
     client(name="Theirs", email="t@x"), client(email="o@x"), None, (T[9], T[1]), ({"name"}, "fs")),
    ("extra-key-changed-on-both-sides-is-contested", NEWEST, client(extra={"a": 2}), client(extra={"a": 3}),
     client(extra={"a": 1}), None, (T[9], T[1]), ({"extra"}, "fs")),
    ("extra-key-moved-only-there-is-not-contested", NEWEST, client(extra={"a": 1, "b": 5}),
     client(extra={"a": 3, "b": 5}), client(extra={"a": 1, "b": 4}), None, (T[9], T[1]), None),
    ("newest-wins-canonical-seen-later-wins", NEWEST, client(name="Ours"), client(name="Theirs"), client(), None,
     (T[2], T[5]), ({"name"}, CANONICAL)),
    ("newest-wins-both-clocks-compare-the-clocks", NEWEST, client(name="Ours", remote_updated_at=T[3]),
     client(name="Theirs"), client(), T[4], (T[2], T[5]), ({"name"}, "fs")),
    ("source-of-truth-for-the-kind-the-connection-wins", SOT, client(name="Ours"), client(name="Theirs"), client(),
     None, (T[2], T[5]), ({"name"}, "fs")),
    ("source-of-truth-for-every-changed-field-the-connection-wins", SOT_FIELD, client(email="o@x"),
     client(email="t@x"), client(), None, (T[2], T[5]), ({"email"}, "fs")),
    ("source-of-truth-not-for-a-changed-field-canonical-wins", SOT_FIELD, client(name="Ours"),
     client(name="Theirs"), client(), None, (T[9], T[1]), ({"name"}, CANONICAL)),
    ("source-of-truth-for-another-kind-canonical-wins", SOT_OTHER, client(name="Ours"), client(name="Theirs"),
     client(), None, (T[9], T[1]), ({"name"}, CANONICAL)),
    ("bookkeeping-columns-never-conflict", NEWEST, client(origin_connection="a", created_at=T[1]),
     client(origin_connection="b", created_at=T[2]), client(origin_connection="c"), None, (T[9], T[1]), None),
]


@pytest.mark.parametrize(("policy", "stored", "incoming", "base", "incoming_at", "seen", "expected"),
                         [c[1:] for c in DECIDE], ids=[c[0] for c in DECIDE])
def test_decide_conflict(policy: ConflictPolicy, stored: dict[str, Any], incoming: dict[str, Any],
                         base: dict[str, Any] | None, incoming_at: datetime | None,
                         seen: tuple[datetime | None, datetime | None],
                         expected: tuple[set[str], str] | None) -> None:
    decision = decide_conflict(policy, "client", "fs", stored, incoming, base, incoming_at, seen)
    if expected is None:
        assert decision is None
    else:
        assert decision is not None
        assert (set(decision.diff), decision.winner) == expected
        assert decision.policy == policy.policies.get("client", "newest_wins")


DIFFERS = [
    ("same-values-do-not-differ", client(), client(), False),
    ("a-changed-value-differs", client(), client(name="New"), True),
    ("bookkeeping-times-do-not-count", client(), client(updated_at=T[9], remote_updated_at=T[8]), False),
    ("values-compare-as-text", client(extra={"n": 1}), client(extra={"n": 1}), False),
]


@pytest.mark.parametrize(("stored", "incoming", "expected"), [c[1:] for c in DIFFERS], ids=[c[0] for c in DIFFERS])
def test_differs(stored: dict[str, Any], incoming: dict[str, Any], expected: bool) -> None:
    assert differs(stored, incoming) is expected


def test_changed_fields_skip_a_stored_gap_and_contested_keeps_unknown_base_whole() -> None:
    diff = changed_fields(client(phone=None, name="A"), client(phone="1", name="B"))
    assert diff == {"name": ("A", "B")}
    assert contested(diff, client(name="A"), None) == diff


def test_versions_of_keeps_both_sides_as_text() -> None:
    assert versions_of({"due_on": (T[1], T[2])}, "fs") == {
        CANONICAL: {"due_on": T[1].isoformat()},
        "fs": {"due_on": T[2].isoformat()},
    }
