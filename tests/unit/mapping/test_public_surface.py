"""The public surface of connector.mapping: `__all__` complete and sorted (httpx `test_exported_members`)."""

from __future__ import annotations

import pkgutil

import connector.mapping as mapping


def test_all_is_sorted_and_complete() -> None:
    submodules = {m.name for m in pkgutil.iter_modules(mapping.__path__)}
    public = {name for name in dir(mapping) if not name.startswith("_")} - submodules - {"annotations"}
    assert mapping.__all__ == sorted(mapping.__all__)
    assert set(mapping.__all__) == public


def test_the_api_other_layers_use() -> None:
    for name in ("load_mapping", "check_mappings", "Mapper", "BoundMapper"):
        assert name in mapping.__all__
