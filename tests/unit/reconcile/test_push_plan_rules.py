"""Push planning as a table over plain rows: what a target is sent for the versions it holds
(`connector.sync.push.plan`)."""

from __future__ import annotations

import pytest

from connector.providers.base import Capabilities
from connector.store.links import HeldLink
from connector.sync.push.plan import PlannedPush, is_stale, plan_archivals, plan_versions, with_needed_archived

ALL = frozenset({"client", "invoice", "payment"})
FULL = Capabilities(writable=ALL, updatable=ALL, archivable=frozenset({"client"}))
CREATE_ONLY = Capabilities(writable=ALL)
READ_ONLY = Capabilities()


def held(version: int | None, deleted: bool = False) -> HeldLink:
    """A link of the target at `version` (None: a link the connector did not make, e.g. matched at the start)."""
    return HeldLink(1, "r1", version, deleted)


# (id naming the rule, kind, versions, held, capabilities, in step, present invoices, expected (op, entity) pairs)
PLAN: list[tuple[str, str, list[tuple[int, int, int | None]], dict[int, HeldLink], Capabilities, set[int],
                 set[int], list[tuple[str, int]]]] = [
    ("not-held-is-created", "client", [(1, 1, None)], {}, FULL, set(), set(), [("create", 1)]),
    ("held-at-the-current-version-sends-nothing", "client", [(1, 3, None)], {1: held(3)}, FULL, set(), set(), []),
    ("held-at-an-older-version-is-updated", "client", [(1, 3, None)], {1: held(2)}, FULL, set(), set(),
     [("update", 1)]),
    ("older-version-whose-content-the-target-has-is-not-planned", "client", [(1, 3, None)], {1: held(2)}, FULL,
     {1}, set(), []),
    ("update-the-service-cannot-do-is-unsupported", "invoice", [(1, 3, 9)], {1: held(2)}, CREATE_ONLY, set(),
     set(), [("unsupported", 1)]),
    ("create-the-service-cannot-do-is-unsupported", "client", [(1, 1, None)], {}, READ_ONLY, set(), set(),
     [("unsupported", 1)]),
    ("deleted-there-is-never-sent-again", "client", [(1, 3, None)], {1: held(2, deleted=True)}, FULL, set(), set(),
     []),
    ("a-link-without-a-version-is-not-updated", "client", [(1, 3, None)], {1: held(None)}, FULL, set(), set(), []),
    ("payment-goes-where-its-invoice-is", "payment", [(5, 1, 9)], {}, FULL, set(), {9}, [("create", 5)]),
    ("payment-waits-where-its-invoice-is-not", "payment", [(5, 1, 9)], {}, FULL, set(), {8}, []),
    ("payment-held-older-is-updated-even-without-its-invoice", "payment", [(5, 2, 9)], {5: held(1)}, FULL, set(),
     set(), [("update", 5)]),
    ("each-entity-planned-on-its-own", "client", [(1, 1, None), (2, 2, None), (3, 2, None)],
     {2: held(2), 3: held(1)}, FULL, set(), set(), [("create", 1), ("update", 3)]),
]


@pytest.mark.parametrize(("kind", "versions", "links", "capabilities", "in_step", "present", "expected"),
                         [c[1:] for c in PLAN], ids=[c[0] for c in PLAN])
def test_plan_versions(kind: str, versions: list[tuple[int, int, int | None]], links: dict[int, HeldLink],
                       capabilities: Capabilities, in_step: set[int], present: set[int],
                       expected: list[tuple[str, int]]) -> None:
    plans = plan_versions("t", kind, versions, links, capabilities, in_step, present)
    assert [(p.operation, p.entity_id) for p in plans] == expected
    assert all(p.reason for p in plans if p.operation == "unsupported")


ARCHIVE = [
    ("archived-since-the-target-had-it-is-archived-there", [(1, 4)], {1: held(3)}, FULL, [("archive", 1)]),
    ("archived-where-the-service-cannot-is-unsupported", [(1, 4)], {1: held(3)}, CREATE_ONLY, [("unsupported", 1)]),
    ("archived-never-sent-there-is-not-archived", [(1, 4)], {}, FULL, []),
    ("archived-by-the-target-itself-is-not-archived-again", [(1, 4)], {1: held(4)}, FULL, []),
]


@pytest.mark.parametrize(("archived", "links", "capabilities", "expected"), [c[1:] for c in ARCHIVE],
                         ids=[c[0] for c in ARCHIVE])
def test_plan_archivals(archived: list[tuple[int, int]], links: dict[int, HeldLink], capabilities: Capabilities,
                        expected: list[tuple[str, int]]) -> None:
    assert [(p.operation, p.entity_id) for p in plan_archivals("t", archived, links, capabilities)] == expected


NEEDED = [
    ("archived-client-an-invoice-names-is-sent-first", [(2, 1, None)], [(1, 3)], {1}, {}, [1, 2]),
    ("archived-client-no-invoice-names-stays-behind", [(2, 1, None)], [(1, 3)], {7}, {}, [2]),
    ("archived-client-the-target-had-is-left-to-archival", [(2, 1, None)], [(1, 3)], {1}, {1: held(2)}, [2]),
]


@pytest.mark.parametrize(("versions", "archived", "named", "links", "expected"), [c[1:] for c in NEEDED],
                         ids=[c[0] for c in NEEDED])
def test_with_needed_archived(versions: list[tuple[int, int, int | None]], archived: list[tuple[int, int]],
                              named: set[int], links: dict[int, HeldLink], expected: list[int]) -> None:
    assert [eid for eid, _, _ in with_needed_archived(versions, archived, named, links)] == expected


STALE = [
    ("no-link-is-not-stale", None, 2, False),
    ("older-version-is-stale", held(1), 2, True),
    ("same-version-is-not-stale", held(2), 2, False),
    ("deleted-link-is-not-stale", held(1, deleted=True), 2, False),
]


@pytest.mark.parametrize(("link", "version", "expected"), [c[1:] for c in STALE], ids=[c[0] for c in STALE])
def test_is_stale(link: HeldLink | None, version: int, expected: bool) -> None:
    assert is_stale(link, version) is expected


def test_idempotency_key_is_per_target_entity_and_version() -> None:
    assert PlannedPush("hydra", "invoice", 7, 3, "create").idempotency_key == "hydra/invoice/7/v3"
