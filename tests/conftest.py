"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and sandboxes on real sockets."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from tests.hydra.harness import HydraHarness
    from tests.support import FsSandbox

POSTGRES_URL = os.environ.get("CONNECTOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("CONNECTOR_REQUIRE_POSTGRES") == "1"


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any driver or network failure means "not here"
        return f"{type(exc).__name__}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a private schema in the CI PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    problem = _postgres_reachable()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL required but unreachable at {POSTGRES_URL}: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({problem}); CI runs these")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file (for tests that do not need to run on both backends)."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(scope="session")
def fs_server() -> Iterator[FsSandbox]:
    """One FactuurSturen sandbox on a real socket for the whole session; tests reset it."""
    from tests.support import FsSandbox

    sandbox = FsSandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def fs(fs_server: FsSandbox) -> FsSandbox:
    """The FactuurSturen sandbox, reset to empty with no faults and the rate limit off."""
    fs_server.reset()
    return fs_server


@pytest.fixture(scope="session")
def hy_server() -> Iterator[HydraHarness]:
    """One hydra sandbox on a real socket for the whole session; tests reset it."""
    from tests.hydra.harness import HydraHarness

    harness = HydraHarness.start()
    yield harness
    harness.stop()


@pytest.fixture
def hy(hy_server: HydraHarness) -> HydraHarness:
    """The hydra sandbox, reset: empty, no faults, no rate limit, real time, flavour 3."""
    hy_server.reset()
    return hy_server
