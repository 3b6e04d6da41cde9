"""Fixtures for the mapping tests: the shipped FactuurSturen mapping, its wire samples, spec-file helpers."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.mapping import BoundMapper, Mapper, load_mapping

REPO = Path(__file__).resolve().parents[3]
MAPPINGS = REPO / "mappings"
FS_DATA = REPO / "tests" / "data" / "factuursturen"


def wire(name: str) -> Any:
    """Load a FactuurSturen sample the way the provider decodes wire JSON (numbers as Decimal)."""
    return json.loads((FS_DATA / name).read_text(encoding="utf-8"), parse_float=Decimal)


def write_yaml(directory: Path, name: str, text: str) -> Path:
    """Write a mapping file (dedented) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def fs_mapper() -> Mapper:
    """The shipped mappings/factuursturen.yaml, loaded."""
    return load_mapping("factuursturen", MAPPINGS)


@pytest.fixture(scope="session")
def countrylist() -> list[dict[str, Any]]:
    """A slice of GET countrylist/en."""
    data: list[dict[str, Any]] = wire("mapping_countrylist_en.json")
    return data


@pytest.fixture(scope="session")
def fs(fs_mapper: Mapper, countrylist: list[dict[str, Any]]) -> BoundMapper:
    """The FactuurSturen mapping bound to the sample country list."""
    return fs_mapper.bind({"countrylist": countrylist})


@pytest.fixture(scope="session")
def fs_clients() -> list[dict[str, Any]]:
    """Sample client records."""
    data: list[dict[str, Any]] = wire("mapping_clients.json")
    return data


@pytest.fixture(scope="session")
def fs_invoices() -> dict[str, dict[str, Any]]:
    """Sample invoice records by id."""
    return {inv["id"]: inv for inv in wire("mapping_invoices.json")}
