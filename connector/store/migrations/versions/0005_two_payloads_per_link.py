"""raw_record keeps two payloads per link: the last one read from the service and the last image written to it

Before, one `payload` column held whichever came last, so a mapping could not be re-applied to what the service
sent once the push had written over it (`connector remap`), and nothing said which of the two a row held. Now:
`read_payload`/`read_hash`/`read_at` (what the service sent, exactly as it came), `written_payload`/
`written_hash`/`written_at` (the image the push sent), and `latest` ("read" or "written"): which of the two is
what the service held when the connector last saw it there (the merge of a client starts from it).

Each existing row is sorted by what it holds: a payload whose ledger hash (the hash the push keeps of the image
it sent, `link.written_hash`) it matches is the image the push wrote and nothing has been read since, so it
becomes the written payload and `latest` is "written"; any other payload is one read from the service, so it
becomes the read payload with its content hash (the one `link.payload_hash` keeps) and `latest` is "read".

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-07 19:00:00
"""

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _digest(text: str) -> str:
    # Frozen copies of `connector.sync.payload.digest` and `connector.sync.push_wire.ledger_hash` as they were
    # when this revision was written: a migration must keep meaning the same when the code moves on.
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, Decimal)):
        return format(Decimal(value).normalize(), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _ledger_hash(text: str) -> str | None:
    try:
        image = json.loads(text, parse_float=Decimal)
    except ValueError:
        return None
    return _digest(json.dumps(_plain(image), sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def upgrade() -> None:
    with op.batch_alter_table("raw_record") as batch:
        batch.add_column(sa.Column("read_payload", sa.Text(), nullable=True))
        batch.add_column(sa.Column("read_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("written_payload", sa.Text(), nullable=True))
        batch.add_column(sa.Column("written_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("written_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("latest", sa.String(length=10), nullable=False, server_default="read"))
    bind = op.get_bind()
    raw = sa.table(
        "raw_record",
        sa.column("link_id", sa.Integer()),
        sa.column("payload", sa.Text()),
        sa.column("fetched_at", sa.DateTime(timezone=True)),
        sa.column("read_payload", sa.Text()),
        sa.column("read_hash", sa.String()),
        sa.column("read_at", sa.DateTime(timezone=True)),
        sa.column("written_payload", sa.Text()),
        sa.column("written_hash", sa.String()),
        sa.column("written_at", sa.DateTime(timezone=True)),
        sa.column("latest", sa.String()),
    )
    link = sa.table("link", sa.column("id", sa.Integer()), sa.column("written_hash", sa.String()))
    rows = bind.execute(
        sa.select(raw.c.link_id, raw.c.payload, raw.c.fetched_at, link.c.written_hash).join(
            link, link.c.id == raw.c.link_id
        )
    ).all()
    for link_id, payload, fetched_at, ledger in rows:
        if ledger is not None and _ledger_hash(payload) == ledger:
            values = {"written_payload": payload, "written_hash": ledger, "written_at": fetched_at, "latest": "written"}
        else:
            values = {"read_payload": payload, "read_hash": _digest(payload), "read_at": fetched_at, "latest": "read"}
        bind.execute(sa.update(raw).where(raw.c.link_id == link_id).values(**values))
    with op.batch_alter_table("raw_record") as batch:
        batch.drop_column("payload")
        batch.drop_column("fetched_at")


def downgrade() -> None:
    with op.batch_alter_table("raw_record") as batch:
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    raw = sa.table(
        "raw_record",
        sa.column("payload", sa.Text()),
        sa.column("fetched_at", sa.DateTime(timezone=True)),
        sa.column("read_payload", sa.Text()),
        sa.column("read_at", sa.DateTime(timezone=True)),
        sa.column("written_payload", sa.Text()),
        sa.column("written_at", sa.DateTime(timezone=True)),
        sa.column("latest", sa.String()),
    )
    written = raw.c.latest == "written"
    bind.execute(
        sa.update(raw).values(
            payload=sa.case((written, raw.c.written_payload), else_=raw.c.read_payload),
            fetched_at=sa.case((written, raw.c.written_at), else_=raw.c.read_at),
        )
    )
    bind.execute(sa.delete(raw).where(raw.c.payload.is_(None)))
    with op.batch_alter_table("raw_record") as batch:
        batch.alter_column("payload", existing_type=sa.Text(), nullable=False)
        for name in ("read_payload", "read_hash", "read_at", "written_payload", "written_hash", "written_at", "latest"):
            batch.drop_column(name)
