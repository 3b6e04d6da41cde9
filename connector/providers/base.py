"""The provider contract: what the sync engine may ask of a service adapter, in wire terms only.

A provider yields raw wire dicts grouped in pages and takes raw wire dicts to write. It never touches the
database and never knows the canonical model; the sync engine never knows a wire format.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from connector.http.classify import Override
from connector.http.client import HttpSession

__all__ = [
    "AuthScheme",
    "Capabilities",
    "ChangeStamps",
    "NoStamps",
    "OptionProblem",
    "Page",
    "Provider",
    "ProviderOptions",
    "RawRecord",
    "StreamSpec",
    "Window",
]


@dataclass(frozen=True, slots=True)
class AuthScheme:
    """How a service takes the connection's key: HTTP Basic (user name + key), a Bearer token, or the key in a
    header of its own (`header`)."""

    kind: Literal["basic", "bearer", "header"]
    header: str | None = None  # the header's name, for kind "header"

    @classmethod
    def basic(cls) -> AuthScheme:
        """HTTP Basic: the connection's `username` and the key as password."""
        return cls("basic")

    @classmethod
    def bearer(cls) -> AuthScheme:
        """``Authorization: Bearer <key>``."""
        return cls("bearer")

    @classmethod
    def in_header(cls, name: str) -> AuthScheme:
        """The key alone in the header `name` (e.g. ``X-Api-Key``)."""
        return cls("header", name)


class ProviderOptions(BaseModel):
    """A provider's `options` table of a connection; each provider declares its own subclass (none: no options).

    Unknown options are refused (`extra="forbid"`), so a misspelt option is an error, not a silent default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionProblem(ValueError):
    """A connection's `options` do not fit its provider's model: which option, and what is wrong."""

    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        self.problem = problem
        super().__init__(f"{option}: {problem}")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a service can do, declared once per provider."""

    readable: frozenset[str] = frozenset()  # entity kinds that can be pulled
    writable: frozenset[str] = frozenset()  # entity kinds that can be created
    updatable: frozenset[str] = frozenset()  # entity kinds that can be updated after creation
    deletable: frozenset[str] = frozenset()
    archivable: frozenset[str] = frozenset()  # kinds whose DELETE archives (the record stays, marked archived)
    incremental: bool = False  # has a since/cursor filter for at least one stream
    id_sweep: bool = False  # can list ids to detect deletions
    idempotency_keys: bool = False  # accepts an Idempotency-Key on creates
    marked: frozenset[str] = frozenset()  # kinds whose ambiguous create `find_marked` can find again

    def safe_to_retry(self, kind: str) -> bool:
        """Whether a create of `kind` whose answer was lost can be tried again without making it twice:
        the service takes an idempotency key, or `find_marked` looks for it first (or it cannot be created)."""
        return self.idempotency_keys or kind in self.marked or kind not in self.writable


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One pullable stream of a provider.

    Attributes:
        name: stream name used in config and on the command line (``invoices``).
        kinds: canonical entity kinds its records map to (``invoice``, ``payment``).
        windowed: True when the stream takes a since/until window (the engine computes it).
        refresh: True when the stream re-reads a working set each run (open invoices) rather than a window.
        default: part of a plain ``connector sync`` run.
    """

    name: str
    kinds: tuple[str, ...]
    windowed: bool = False
    refresh: bool = False
    default: bool = True


@dataclass(frozen=True, slots=True)
class Window:
    """A closed time window [since, until] in UTC; `since` None means from the beginning."""

    since: datetime | None
    until: datetime | None


@dataclass(slots=True)
class RawRecord:
    """One wire record: its entity kind, the service's id, the payload and an optional change stamp.

    `text` is the payload's exact source text when the provider has it (`HttpSession.get_json_array`)
    and `data` is exactly its decoding; the engine then hashes and keeps that text instead of encoding
    `data` again. Leave it None for records the provider derives or alters.
    """

    kind: str
    remote_id: str
    data: dict[str, Any]
    change_stamp: str | None = None
    text: str | None = None
    marker: str | None = None  # the connector's marker on the record (`markers.marker`): one of its own creates


@dataclass(slots=True)
class Page:
    """A page of records plus the opaque checkpoint to store with it (None: nothing to resume from).

    `vanished` lists remote ids (per kind) the provider has established are gone at the service
    (a 404 on a record it was asked to refresh); the engine soft-deletes them. `unchanged` lists remote
    ids (per kind) the provider listed but did not re-fetch because `ChangeStamps` said they had not
    changed; the engine counts them as read and unchanged and as present for deletion sweeps.
    `untrusted` says why the listing this page belongs to may have missed records (it shifted past
    recovery, or a page came longer than asked): the engine then treats the run's listing as incomplete,
    sweeps no deletions from it and does not move the stream's cursor past its window.
    """

    records: list[RawRecord]
    checkpoint: dict[str, Any] | None = None
    vanished: dict[str, list[str]] = field(default_factory=dict)
    unchanged: dict[str, list[str]] = field(default_factory=dict)
    untrusted: str | None = None


class ChangeStamps(Protocol):
    """The engine's memory of change stamps, so a provider can skip re-fetching what did not change.

    A provider that lists cheap summaries and fetches expensive details (FastFaktura) stamps each
    summary (e.g. a hash of the list entry), asks which stamps the store already holds, fetches details
    only for the rest, and names the skipped ids in `Page.unchanged` (they still count as listed, so a
    complete listing does not mistake them for deletions).
    """

    def unchanged(self, kind: str, stamps: Mapping[str, str]) -> set[str]:
        """Return the remote ids of `kind` whose stored change stamp equals the given one (and live)."""
        ...


class NoStamps:
    """A `ChangeStamps` that knows nothing: every record counts as changed."""

    def unchanged(self, kind: str, stamps: Mapping[str, str]) -> set[str]:
        """Return no ids."""
        return set()


class Provider(ABC):
    """Base class of every service adapter; one instance per connection and run.

    Everything the app reads from a provider is declared here: its id and capabilities, how it authenticates
    (`auth_scheme`), its rate budget when the connection sets none, the headers it always sends, the statuses
    its service uses its own way (`status_overrides`), its options model (`Options`), and the constructor the
    app calls with the connection's HTTP session, page size and validated options.
    """

    id: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    auth_scheme: ClassVar[AuthScheme]
    # The service's own budget, used when the connection sets no rate_limit / rate_window_seconds (None: unpaced).
    default_rate_limit: ClassVar[int | None] = None
    default_rate_window_seconds: ClassVar[float | None] = None
    default_headers: ClassVar[Mapping[str, str]] = MappingProxyType({})  # sent with every request
    # Statuses this service uses its own way (e.g. 403 for a spent budget): the rule that classifies each.
    status_overrides: ClassVar[Mapping[int, Override]] = MappingProxyType({})
    Options: ClassVar[type[ProviderOptions]] = ProviderOptions  # the connection's `options` table
    sweep_kinds: ClassVar[tuple[str, ...]] = ()  # kinds `list_ids` can list for the deletion sweep
    # The capability to read records again by id (`fetch`): the kinds it takes, none by default.
    fetchable_kinds: ClassVar[frozenset[str]] = frozenset()
    inline_kinds: ClassVar[frozenset[str]] = frozenset()  # related kinds a write takes inline (see `embed`)

    def __init__(self, session: HttpSession, *, page_size: int = 500, options: ProviderOptions | None = None) -> None:
        """Args: session: the connection's HTTP session (closed by `close`). page_size: records per list request
        (a provider may bound it to what its service takes). options: the connection's options, read by
        `read_options` (None: every option at its default)."""
        self.session = session
        self.page_size = page_size
        self.options: ProviderOptions = options if options is not None else self.Options()

    @classmethod
    def read_options(cls, raw: Mapping[str, Any]) -> ProviderOptions:
        """Validate a connection's `options` table against `Options`.

        Raises:
            OptionProblem: the first option that is unknown (naming the valid ones) or has an invalid value.
        """
        try:
            return cls.Options.model_validate(dict(raw))
        except ValidationError as exc:
            error = exc.errors()[0]
            option = ".".join(str(part) for part in error["loc"]) or "options"
            valid = ", ".join(sorted(cls.Options.model_fields)) or f"none ({cls.id} takes no options)"
            if error["type"] == "extra_forbidden":
                raise OptionProblem(option, f"unknown option; valid options: {valid}") from None
            raise OptionProblem(option, f"{error['msg']} (got {repr(error.get('input'))[:60]})") from None

    @abstractmethod
    def streams(self) -> list[StreamSpec]:
        """Return the streams this provider can pull, in the order a full run should pull them."""

    @abstractmethod
    def pull(
        self,
        stream: str,
        window: Window | None,
        resume: Mapping[str, Any] | None,
        known: Mapping[str, Any],
        stamps: ChangeStamps,
    ) -> Iterator[Page]:
        """Yield pages of raw records for one stream.

        Args:
            stream: one of `streams()` names.
            window: the since/until window the engine computed for a windowed stream, else None.
            resume: the checkpoint of the last committed page of an interrupted run, else None.
            known: provider-owned state kept by the engine between runs (the stream's ``memo``),
                e.g. the ids a refresh stream saw last time; the final page's checkpoint may carry
                a new ``memo`` key to replace it. A refresh stream of invoices also gets
                ``store_open_ids``: the remote ids of the invoices the store holds as open.
            stamps: the store's change stamps (see `ChangeStamps`); providers without a
                detail-on-change strategy ignore it.

        Raises:
            ProviderError: typed failures from the HTTP layer or the payloads.
        """

    @abstractmethod
    def list_ids(self, kind: str) -> Iterator[list[str]]:
        """Yield batches of every remote id of `kind` that currently exists, for the deletion sweep."""

    @abstractmethod
    def reference_data(self, names: set[str]) -> dict[str, list[dict[str, Any]]]:
        """Return raw reference lists the mapping needs (e.g. ``countrylist``), by name."""

    @abstractmethod
    def server_now(self) -> datetime | None:
        """Return the service's clock (from its Date header), asking the service if nothing was seen yet."""

    @property
    @abstractmethod
    def requests_made(self) -> int:
        """Return how many HTTP requests this provider instance has sent so far."""

    def fetch(self, kind: str, remote_ids: Sequence[str]) -> Iterator[Page]:
        """Read the records of `kind` with these remote ids again, one by one or in batches, as pages.

        Used to heal quarantined records and to bring back records the store lacks (the gap audit). A page
        holds the records found (with the related records the service gives with them, like an invoice's
        payments, as `pull` would yield them) and names in `Page.vanished` the asked ids the service does
        not hold (404, or an answer that is not the record). Pages carry no checkpoint. Only kinds in
        `fetchable_kinds` are taken.

        Raises:
            Unsupported: the provider cannot read `kind` by id.
            ProviderError: typed failures from the HTTP layer or the payloads.
        """
        from connector.errors import Unsupported

        raise Unsupported(f"fetch {kind}", f"{self.id} cannot read records by id")

    def write(
        self,
        kind: str,
        operation: str,
        payload: dict[str, Any],
        remote_id: str | None,
        *,
        idempotency_key: str | None = None,
    ) -> str | None:
        """Create or update one record at the service; return its remote id.

        Args:
            kind: canonical entity kind (``invoice``).
            operation: ``create``, ``update`` or ``delete``.
            payload: the wire payload the mapping's outbound direction produced.
            remote_id: the service's id for updates and deletes, else None.
            idempotency_key: a deterministic key per entity version; a provider whose service takes
                one (Facturalia's ``Idempotency-Key``) sends it, others leave their own marker.

        Raises:
            Unsupported: the service cannot do this operation.
            Rejected: the service refused the payload (IdempotencyConflict for a reused key).
        """
        from connector.errors import Unsupported

        raise Unsupported(f"{operation} {kind}", f"{self.id} has no write support yet")

    def find_marked(
        self,
        kind: str,
        idempotency_key: str,
        payload: Mapping[str, Any],
        taken: Callable[[str], bool] | None = None,
    ) -> str | None:
        """After an ambiguous create (timeout, dropped connection): the remote id of the record carrying
        this key's marker if the service made it, else None. `payload` is what the create sent (minus
        the marker). Services with idempotency keys need not look.

        `taken(remote_id)` tells whether a record is already linked to another canonical entity: a
        provider that must recognise its create by content (no field to mark) skips those.
        """
        return None

    def embed(self, kind: str, payload: dict[str, Any], related: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        """Complete a write payload with related records the service takes inline.

        The push side maps each record on its own (an invoice, and separately its client); a service
        that takes the customer inside the invoice (Facturalia) merges it here. The default takes
        references by id and returns the payload unchanged.
        """
        return payload

    def close(self) -> None:
        """Release the HTTP session."""
        self.session.close()
