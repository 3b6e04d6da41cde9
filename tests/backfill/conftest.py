"""Fixtures: the FactuurSturen sandbox comes from tests/conftest.py; the hydra one is shared from its package."""

from __future__ import annotations

from tests.hydra.conftest import hy, hy_server  # noqa: F401  (fixtures, found by pytest by name)
