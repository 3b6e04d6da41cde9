"""Revision 0005 splits `raw_record.payload` into the payload last read and the image last written, keeping data:
a row holding the image the push wrote (its ledger hash is the link's `written_hash`) becomes the written payload,
any other row the read payload with its content hash; the downgrade puts the latest of the two back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from alembic import command
from sqlalchemy import text

from connector.store import links
from connector.store.db import alembic_config, make_engine, upgrade
from connector.sync.ledger import ledger_hash
from connector.sync.payload import digest

READ = '{"clientnr":"7","company":"Read Ltd","price":12.50}'
IMAGE = '{"company":"Written BV","price":"12.5"}'


def _link(conn: object, link_id: int, written_hash: str | None) -> None:
    conn.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO link (id, connection, entity_kind, entity_id, remote_id, payload_hash, written_hash) "
            "VALUES (:id, 'fs', 'client', :id, :rid, 'old', :written)"
        ),
        {"id": link_id, "rid": str(link_id), "written": written_hash},
    )


def test_existing_raw_records_are_sorted_into_read_and_written(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0003")
    then = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    image_hash = ledger_hash(json.loads(IMAGE, parse_float=Decimal))
    with engine.begin() as conn:
        _link(conn, 1, None)  # never written by the push: a read payload
        _link(conn, 2, image_hash)  # the push wrote it and nothing was read since: the image
        _link(conn, 3, "some-older-write")  # written once, read since: a read payload
        for link_id, payload in ((1, READ), (2, IMAGE), (3, READ)):
            conn.execute(
                text("INSERT INTO raw_record (link_id, payload, fetched_at) VALUES (:id, :p, :at)"),
                {"id": link_id, "p": payload, "at": then},
            )
    upgrade(engine, "0005")
    with engine.connect() as conn:
        rows = {
            row[0]: row[1:]
            for row in conn.execute(
                text(
                    "SELECT link_id, read_payload, read_hash, written_payload, written_hash, latest FROM raw_record "
                    "ORDER BY link_id"
                )
            )
        }
        seen = links.last_seen_payloads(conn, [1, 2, 3])
    assert rows[1] == (READ, digest(READ), None, None, "read")
    assert rows[2] == (None, None, IMAGE, image_hash, "written")
    assert rows[3] == (READ, digest(READ), None, None, "read")
    assert seen == {1: READ, 2: IMAGE, 3: READ}

    command.downgrade(alembic_config(engine), "0003")
    with engine.connect() as conn:
        back = dict(conn.execute(text("SELECT link_id, payload FROM raw_record ORDER BY link_id")).all())
    engine.dispose()
    assert back == {1: READ, 2: IMAGE, 3: READ}

