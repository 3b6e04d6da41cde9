"""The Alembic migrations build exactly the schema the SQLModel tables declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import connector.store.tables  # noqa: F401  (registers the tables)
from connector.store.db import current_revision, head_revision, make_engine, upgrade


def test_migrated_schema_equals_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == [], diff
