"""Engine and migrations: builds the engine, migrates with Alembic, refuses an unmigrated database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from connector.errors import ConfigError, NotMigrated, StoreError

__all__ = [
    "alembic_config",
    "current_revision",
    "ensure_migrated",
    "head_revision",
    "make_engine",
    "serialize_canonical_writes",
    "upgrade",
]

CANONICAL_WRITE_LOCK = 0x636F6E6E  # any fixed 64-bit key, the same in every replica

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, *, pool_size: int | None = None) -> Engine:
    """Create the engine; SQLite gets its parent directory, WAL mode and foreign keys.

    `pool_size` is the number of PostgreSQL connections kept open (default 5; the daemon passes its workers plus
    its own threads, so no job waits for a connection); 10 more may be opened for bursts.

    Raises:
        StoreError: the URL cannot be parsed.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL text in it
        raise StoreError(f"CONNECTOR_DATABASE_URL is not a valid database URL ({type(exc).__name__})") from None
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg"):  # postgres:// as most tools take it
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
        raise ConfigError(
            "settings",
            "CONNECTOR_DATABASE_URL",
            f"unsupported database {parsed.drivername!r}: use sqlite:///PATH or postgresql://HOST:PORT/DATABASE",
        )
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(parsed, pool_pre_ping=True, pool_size=pool_size or 5, max_overflow=10)


def serialize_canonical_writes(conn: Connection) -> None:
    """Make this transaction the only one writing canonical records until it ends (call it first thing).

    Matching a pulled record to a canonical one (by link, e-mail, VAT number...) reads before it writes; two
    such transactions at once (two streams, two connections, two replicas) could both miss each other's new
    record and create it twice. SQLite already serialises writing transactions (BEGIN IMMEDIATE); on
    PostgreSQL a transaction-scoped advisory lock does the same, across every replica.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CANONICAL_WRITE_LOCK})


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver must not BEGIN on its own; see _sqlite_begin_immediate
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock when the transaction starts: no lock upgrade can deadlock, and ids allocated
    # from max(id) (store.sql.allocate_ids) cannot be taken by another writer.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic config pointing at the packaged migrations and at `engine`."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """Return the newest migration revision the code knows."""
    script = ScriptDirectory(str(_MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the database's migration revision, or None for an empty database.

    Raises:
        StoreError: the database cannot be reached.
    """
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot reach the database: {type(exc).__name__}: {exc.__cause__ or exc}") from None


def ensure_migrated(engine: Engine) -> None:
    """Refuse a database whose schema is not at the head revision.

    Raises:
        NotMigrated: names the command that migrates it.
    """
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise NotMigrated(current, head)


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Migrate the database to `revision` and return the revision it is now at."""
    command.upgrade(alembic_config(engine), revision)
    return current_revision(engine) or ""
