"""The three-way merge of a client, as a table over plain rows (`reconcile.merge`, `reconcile.client`)."""

from __future__ import annotations

from typing import Any

import pytest

from connector.domain import CanonicalClient
from connector.store.entities import client_row
from connector.sync.reconcile.client import kept_values
from connector.sync.reconcile.merge import column_of, merge_row, seen_there, unchanged_there

from .rows import T, client, reads

# (id naming the rule, incoming, stored, reads, unchanged, expected changes over `stored`)
MERGE: list[tuple[str, dict[str, Any], dict[str, Any], Any, frozenset[str], dict[str, Any]]] = [
    ("no-reads-takes-the-incoming-row-whole", client(name="New", phone=None), client(), None, frozenset(),
     {"name": "New", "phone": None}),
    ("a-field-read-and-changed-comes-from-the-service", client(name="New"), client(), reads("name"), frozenset(),
     {"name": "New"}),
    ("a-field-not-read-keeps-the-stored-value", client(phone=None), client(), reads("name"), frozenset(), {}),
    ("a-field-read-but-unchanged-there-keeps-the-stored-value", client(phone="+31201234567"),
     client(phone="020 7654 321"), reads("phone"), frozenset({"phone"}), {}),
    ("a-field-read-and-changed-there-overwrites-a-stored-edit", client(phone="+31201234567"),
     client(phone="020 7654 321"), reads("phone"), frozenset(), {"phone": "+31201234567"}),
    ("bookkeeping-times-are-always-the-newest", client(updated_at=T[5], remote_updated_at=T[4]), client(),
     reads(), frozenset(), {"updated_at": T[5], "remote_updated_at": T[4]}),
    ("archived-is-read-into-archived-at", client(archived_at=T[3]), client(), reads("archived"), frozenset(),
     {"archived_at": T[3]}),
    ("extra-keys-not-read-are-kept", client(extra={"a": 1}), client(extra={"b": 2}), reads(extra=frozenset({"a"})),
     frozenset(), {"extra": {"b": 2, "a": 1}}),
    ("extra-every-key-read-replaces-the-stored-extra", client(extra={"a": 1}), client(extra={"b": 2}),
     reads(extra=None), frozenset(), {"extra": {"a": 1}}),
    ("extra-key-unchanged-there-keeps-the-stored-value", client(extra={"a": 1}), client(extra={"a": 9}),
     reads(extra=frozenset({"a"})), frozenset({"extra.a"}), {"extra": {"a": 9}}),
    ("extra-key-unchanged-there-and-not-stored-is-dropped", client(extra={"default": "x"}), client(extra={}),
     reads(extra=frozenset({"default"})), frozenset({"extra.default"}), {"extra": {}}),
]


@pytest.mark.parametrize(("incoming", "stored", "read", "unchanged", "changes"), [c[1:] for c in MERGE],
                         ids=[c[0] for c in MERGE])
def test_merge_row(incoming: dict[str, Any], stored: dict[str, Any], read: Any, unchanged: frozenset[str],
                   changes: dict[str, Any]) -> None:
    merged = merge_row(incoming, stored, read, unchanged)
    expected = incoming if read is None else {**{k: stored[k] for k in incoming}, **changes}
    assert merged == expected


# (id, incoming, before, reads, expected unchanged columns)
UNCHANGED: list[tuple[str, dict[str, Any], dict[str, Any], Any, frozenset[str]]] = [
    ("no-reads-nothing-counts-as-unchanged", client(), client(), None, frozenset()),
    ("same-value-as-last-seen-is-unchanged", client(), client(), reads("name", "phone"),
     frozenset({"name", "phone"})),
    ("a-value-edited-there-since-is-changed", client(name="New"), client(), reads("name", "phone"),
     frozenset({"phone"})),
    ("only-fields-read-are-judged", client(), client(), reads("email"), frozenset({"email"})),
    ("archived-compares-set-or-not-not-the-moment", client(archived_at=T[5]), client(archived_at=T[2]),
     reads("archived"), frozenset({"archived_at"})),
    ("archived-set-since-is-a-change", client(archived_at=T[5]), client(), reads("archived"), frozenset()),
    ("extra-key-same-as-last-seen-is-unchanged", client(extra={"a": 1, "b": 2}), client(extra={"a": 1, "b": 3}),
     reads(), frozenset({"extra.a"})),
]


@pytest.mark.parametrize(("incoming", "before", "read", "expected"), [c[1:] for c in UNCHANGED],
                         ids=[c[0] for c in UNCHANGED])
def test_unchanged_there(incoming: dict[str, Any], before: dict[str, Any], read: Any,
                         expected: frozenset[str]) -> None:
    assert unchanged_there(incoming, before, read) == expected


SEEN = [
    ("a-payload-read-is-whole-a-missing-key-was-empty", {"id": 1, "phone": "1"}, {"id": 1}, False, {"id": 1}),
    ("an-image-lacks-the-service-keys-taken-from-now", {"id": 1, "phone": "1", "email": "a"}, {"email": "b"},
     True, {"id": 1, "phone": "1", "email": "b"}),
]


@pytest.mark.parametrize(("now", "then", "image", "expected"), [c[1:] for c in SEEN], ids=[c[0] for c in SEEN])
def test_seen_there(now: dict[str, Any], then: dict[str, Any], image: bool, expected: dict[str, Any]) -> None:
    assert seen_there(now, then, image) == expected


def full(**values: Any) -> dict[str, Any]:
    """A whole client row as the store writes it (every canonical column)."""
    return {**client_row(CanonicalClient("c1", "Acme", email="billing@acme.test", phone="020"), T[1]), **values}


KEPT = [
    ("nothing-kept-when-the-merge-took-the-service-values", full(), full(), {}),
    ("a-stored-value-kept-over-the-service-value", full(phone="+31"), full(phone="020"), {"phone": "020"}),
    ("a-kept-archive-is-a-flag", full(), full(archived_at=T[2]), {"archived": True}),
    ("service-times-are-not-kept-values", full(remote_updated_at=T[3]), full(remote_updated_at=T[2]), {}),
]


@pytest.mark.parametrize(("theirs", "merged", "expected"), [c[1:] for c in KEPT], ids=[c[0] for c in KEPT])
def test_kept_values(theirs: dict[str, Any], merged: dict[str, Any], expected: dict[str, Any]) -> None:
    assert kept_values(theirs, merged) == expected


def test_column_of_archived_is_archived_at() -> None:
    assert (column_of("archived"), column_of("email")) == ("archived_at", "email")
