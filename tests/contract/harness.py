"""What the provider contract suite needs from each provider's test kit, and where the kits are.

Each installed provider (an entry point of group ``connector.providers``) has a kit: the ``KIT`` class of the
``harness`` module in the provider's own package, else of ``tests/<provider id>/harness.py``. Each kit
implements `ContractHarness` over its own sandbox on a real socket; the suite in
``tests/contract/test_contract.py`` runs the same checks against every kit under each of its sandbox's
quirk settings (`tests.contract.matrix`), with ``provider[quirk=value]`` as the test id. Kits own their
sandbox's lifetime (`start`/`stop`) and make every other call leave the sandbox in a state the next test
can `reset` from. The part under "readable services" is only called on kits with ``readable`` true.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.util import find_spec
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from connector.plugins import plugins
from connector.settings import Connection


class ContractHarness(Protocol):
    """A provider's sandbox plus what the contract suite needs to drive it."""

    provider_id: str
    readable: bool  # False for a push-only service (Facturalia): pulls must raise Unsupported
    page_size: int  # a page size for `connection(...)` small enough that `seed(...)` spans several pages
    rate_limit_status: int  # what the service answers when its budget is spent (429, or 403 at some)

    def stop(self) -> None:
        """Stop the sandbox."""

    def reset(self) -> None:
        """Empty the sandbox: no records, no faults, rate limiting off, clock back to real time, quirks as started."""

    def quirks(self, values: Mapping[str, Any]) -> None:
        """Switch the sandbox's quirks (``POST /_sandbox/quirks``); `reset` switches them back."""

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock forward (its rate windows and ``Date`` with it)."""

    def seed(self, clients: int, invoices: int) -> None:
        """Fill the sandbox with generated clients and invoices (with lines and some payments)."""

    def connection(self, name: str = "c", *, wrong_key: bool = False, **overrides: Any) -> Connection:
        """A connection to the sandbox (credentials by reference, set up by the kit); `wrong_key` uses a bad key.

        `overrides` are Connection fields (page_size, rate_limit, ...).
        """

    def faults(self, rules: list[dict[str, Any]]) -> None:
        """Install fault rules in the shared control format (sandboxes/_control.py)."""

    def rate_limit(self, limit: int | None, window_seconds: float, phase_seconds: float = 0.0) -> None:
        """Set the sandbox's own rate limit (None: off), in windows from epoch multiples plus `phase_seconds`."""

    def corrupt_one(self) -> tuple[str, str]:
        """Make one stored record unreadable for the mapping (e.g. a non-numeric amount).

        Returns:
            (canonical kind, remote id) of the corrupted record.
        """

    def request_statuses(self) -> list[int]:
        """The statuses of every API request the sandbox answered since the last `reset` (0: dropped)."""

    def invoice_count(self) -> int:
        """How many invoices the sandbox holds now (its truth)."""

    def sample_invoice_payload(self) -> dict[str, Any]:
        """A valid wire payload for creating one invoice (used for write-only services)."""


    # -- readable services --------------------------------------------------------------------------

    def seed_history(self) -> None:
        """A history dated up to yesterday (today's changes are new), long enough that every listing spans
        several pages under every page-size quirk at the page size of `connection()`'s defaults."""

    def change_as_a_person(self) -> None:
        """Edits, a payment, a new invoice and whatever deletions the service's listings show, as a person
        working in the service's own app would make them."""

    def delete_behind_the_listing(self) -> int:
        """Delete records at the service whose going only a sweep can see; returns how many (0: none such)."""

    def assert_store_matches(self, engine: Engine, connection: str) -> None:
        """The store's live records of `connection` are exactly the sandbox's truth (raises AssertionError)."""



def kits() -> dict[str, str | None]:
    """Provider id -> the module of its kit, for every installed provider (None: no kit found)."""
    found: dict[str, str | None] = {}
    for name, plugin in plugins().items():
        fallback = f"tests.{name}.harness"
        found[name] = plugin.submodule("harness") or (fallback if find_spec(fallback) is not None else None)
    return found
