"""The canonical store: SQLModel tables, Alembic migrations, the engine and the page writer."""
