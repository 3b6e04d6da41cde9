"""Alembic environment: runs migrations on the engine handed over by `connector.store.db`."""

from alembic import context
from sqlmodel import SQLModel

import connector.store.tables  # noqa: F401  (registers the tables on the metadata)

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
