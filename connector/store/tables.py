"""SQLModel tables of the canonical store (see DESIGN.md "Canonical store")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from connector.domain import RunStatus
from connector.store.types import DecimalText

__all__ = [
    "Client",
    "Conflict",
    "Invoice",
    "InvoiceLine",
    "Lease",
    "Link",
    "Outbox",
    "Payment",
    "Quarantine",
    "RawRecord",
    "Replica",
    "SyncRun",
    "SyncState",
    "client_table",
    "conflict_table",
    "invoice_line_table",
    "invoice_table",
    "lease_table",
    "link_table",
    "outbox_table",
    "payment_table",
    "quarantine_table",
    "raw_record_table",
    "replica_table",
    "sync_run_table",
    "sync_state_table",
    "table_of",
]


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable, index=index)


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def _money() -> Any:
    return Field(default=0, sa_type=BigInteger, nullable=False)


def _decimal() -> Any:
    return Field(default=Decimal(0), sa_type=DecimalText, nullable=False)


class Client(SQLModel, table=True):
    """A canonical client; `extra` holds mapped custom fields."""

    __tablename__ = "client"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=Text)
    contact_name: str | None = Field(default=None, sa_type=Text)
    email: str | None = Field(default=None, sa_type=Text, index=True)
    phone: str | None = Field(default=None, sa_type=Text)
    mobile: str | None = Field(default=None, sa_type=Text)
    street: str | None = Field(default=None, sa_type=Text)
    postal_code: str | None = Field(default=None, sa_type=Text)
    city: str | None = Field(default=None, sa_type=Text)
    country: str | None = Field(default=None, max_length=2)
    vat_number: str | None = Field(default=None, sa_type=Text, index=True)
    external_id: str | None = Field(default=None, sa_type=Text, index=True)
    currency: str | None = Field(default=None, max_length=3)
    extra: dict[str, Any] = _json()
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    remote_updated_at: datetime | None = _ts()
    version: int = Field(default=1)
    archived_at: datetime | None = _ts()
    remote_deleted_at: datetime | None = _ts()


class Invoice(SQLModel, table=True):
    """A canonical invoice; totals in minor units of `currency`."""

    __tablename__ = "invoice"
    __table_args__ = (Index("ix_invoice_origin_number", "origin_connection", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    origin_connection: str | None = Field(default=None, max_length=100)
    number: str | None = Field(default=None, sa_type=Text)
    currency: str = Field(max_length=3)
    status: str = Field(max_length=20)
    issued_on: date | None = None
    due_on: date | None = None
    subtotal_minor: int = _money()
    tax_minor: int = _money()
    total_minor: int = _money()
    discount_minor: int = _money()  # invoice-level, excluding tax: subtotal = sum of line totals - discount
    open_minor: int | None = Field(default=None, sa_type=BigInteger)
    paid_on: date | None = None
    extra: dict[str, Any] = _json()
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    remote_updated_at: datetime | None = _ts()
    version: int = Field(default=1)
    archived_at: datetime | None = _ts()
    remote_deleted_at: datetime | None = _ts()


class InvoiceLine(SQLModel, table=True):
    """One line of a canonical invoice; prices and quantities are exact decimals."""

    __tablename__ = "invoice_line"
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    position: int
    description: str = Field(default="", sa_type=Text)
    quantity: Decimal = _decimal()
    unit: str | None = Field(default=None, sa_type=Text)
    unit_price: Decimal = _decimal()
    vat_rate: Decimal = _decimal()
    discount_percent: Decimal = _decimal()
    line_total_minor: int = _money()
    tax_minor: int | None = Field(default=None, sa_type=BigInteger)
    extra: dict[str, Any] = _json()


class Payment(SQLModel, table=True):
    """One payment event on a canonical invoice."""

    __tablename__ = "payment"
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    amount_minor: int = _money()
    currency: str = Field(max_length=3)
    paid_on: date
    paid_at: datetime | None = _ts()
    method: str | None = Field(default=None, sa_type=Text)
    extra: dict[str, Any] = _json()
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    version: int = Field(default=1)
    remote_deleted_at: datetime | None = _ts()


class Link(SQLModel, table=True):
    """Canonical entity <-> (connection, remote id), with the hashes that make reruns and echoes free."""

    __tablename__ = "link"
    __table_args__ = (
        UniqueConstraint("connection", "entity_kind", "remote_id", name="uq_link_remote"),
        Index("ix_link_entity", "entity_kind", "entity_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=100)
    entity_kind: str = Field(max_length=20)
    entity_id: int
    remote_id: str = Field(max_length=200)
    payload_hash: str | None = Field(default=None, max_length=64)
    projection_hash: str | None = Field(default=None, max_length=64)
    written_hash: str | None = Field(default=None, max_length=64)
    change_stamp: str | None = Field(default=None, max_length=64)
    entity_version: int | None = None  # the canonical version this connection holds (pulled or pushed)
    first_seen_at: datetime | None = _ts()
    last_changed_at: datetime | None = _ts()
    remote_deleted_at: datetime | None = _ts()


class RawRecord(SQLModel, table=True):
    """Two payloads per link: the last one read from the service (so `connector remap` can map it again without a
    request) and the last image the push wrote there, each with its hash and time; `latest` names the one the
    service held when the connector last saw it there ("read" or "written")."""

    __tablename__ = "raw_record"
    link_id: int = Field(primary_key=True, foreign_key="link.id")
    read_payload: str | None = Field(default=None, sa_type=Text)
    read_hash: str | None = Field(default=None, max_length=64)  # the content hash `link.payload_hash` keeps
    read_at: datetime | None = _ts()
    written_payload: str | None = Field(default=None, sa_type=Text)
    written_hash: str | None = Field(default=None, max_length=64)  # the ledger hash `link.written_hash` keeps
    written_at: datetime | None = _ts()
    latest: str = Field(default="read", max_length=10, sa_column_kwargs={"server_default": "read"})


class SyncState(SQLModel, table=True):
    """The cursor of one connection x stream; written in the same transaction as the page it covers."""

    __tablename__ = "sync_state"
    connection: str = Field(primary_key=True, max_length=100)
    stream: str = Field(primary_key=True, max_length=50)
    cursor: dict[str, Any] = _json()
    updated_at: datetime | None = _ts()


class SyncRun(SQLModel, table=True):
    """History of every run of one connection x stream."""

    __tablename__ = "sync_run"
    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=100, index=True)
    stream: str = Field(max_length=50)
    mode: str = Field(max_length=20)
    status: str = Field(default=RunStatus.RUNNING.value, max_length=20)
    window_start: datetime | None = _ts()
    window_end: datetime | None = _ts()
    started_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()
    pages: int = 0
    records_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0
    requests: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    duration_seconds: float | None = None


class Outbox(SQLModel, table=True):
    """A pending push of one entity version to one target connection."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_target_status", "connection", "status", "entity_kind"),)
    id: int | None = Field(default=None, primary_key=True)
    entity_kind: str = Field(max_length=20)
    entity_id: int
    connection: str = Field(max_length=100, index=True)
    operation: str = Field(max_length=20)
    idempotency_key: str = Field(max_length=100, unique=True)
    projection_hash: str | None = Field(default=None, max_length=64)
    payload: dict[str, Any] = _json()
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts()
    last_error: str | None = Field(default=None, sa_type=Text)
    remote_id: str | None = Field(default=None, max_length=200)
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class Quarantine(SQLModel, table=True):
    """A record that failed mapping or validation, with the reason; replayable."""

    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_open", "connection", "entity_kind", "remote_id"),)
    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=100)
    stream: str = Field(max_length=50)
    entity_kind: str = Field(max_length=20)
    remote_id: str = Field(max_length=200)
    payload: str = Field(sa_type=Text)
    payload_hash: str | None = Field(default=None, max_length=64)
    error: str = Field(sa_type=Text)
    created_at: datetime | None = _ts()
    resolved_at: datetime | None = _ts()


class Conflict(SQLModel, table=True):
    """Both sides changed one field since the last sync; what the policy decided."""

    __tablename__ = "conflict"
    id: int | None = Field(default=None, primary_key=True)
    entity_kind: str = Field(max_length=20)
    entity_id: int
    field: str = Field(max_length=100)
    policy: str = Field(max_length=30)
    versions: dict[str, Any] = _json()
    decision: str = Field(max_length=100)
    created_at: datetime | None = _ts()


class Lease(SQLModel, table=True):
    """A named lease (one per connection) claimed atomically by one replica at a time."""

    __tablename__ = "lease"
    name: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=200)
    acquired_at: datetime | None = _ts()
    expires_at: datetime | None = _ts()


class Replica(SQLModel, table=True):
    """A `connector run` replica: registered at start, its heartbeat renewed with its leases, gone once the
    heartbeat is older than the lease time-to-live (see `connector.store.replicas`)."""

    __tablename__ = "replica"
    id: str = Field(primary_key=True, max_length=200)
    host: str | None = Field(default=None, max_length=255)
    pid: int | None = Field(default=None)
    started_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    heartbeat_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False, index=True)


def table_of(model: Any) -> Table:
    """The SQLAlchemy `Table` of a SQLModel table class, typed (SQLModel does not declare `__table__`)."""
    table: Table = model.__table__
    return table


# The tables, typed once here, for the Core statements of the store's modules.
client_table = table_of(Client)
conflict_table = table_of(Conflict)
invoice_table = table_of(Invoice)
invoice_line_table = table_of(InvoiceLine)
lease_table = table_of(Lease)
link_table = table_of(Link)
outbox_table = table_of(Outbox)
payment_table = table_of(Payment)
quarantine_table = table_of(Quarantine)
raw_record_table = table_of(RawRecord)
sync_run_table = table_of(SyncRun)
sync_state_table = table_of(SyncState)
replica_table = table_of(Replica)
