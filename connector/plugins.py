"""Finds the installed providers: every entry point of the group ``connector.providers`` is one.

An entry point names a provider class (``hydra = "connector.providers.hydra.provider:HydraProvider"``); the
package holding that module is the provider's package, and the rest of a provider is found in it by name:
its mapping transforms in ``<package>.transforms`` (imported by the mapping layer so they register), its
mapping file as ``<package>/<id>.yaml`` when the shipped mappings directory has none. Nothing else in the
connector names a provider. This module imports no provider itself (only `load` does), so every layer may
use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path
from typing import Any

__all__ = ["GROUP", "Plugin", "plugin_modules", "plugins"]

GROUP = "connector.providers"


@dataclass(frozen=True, slots=True)
class Plugin:
    """One installed provider, as its entry point names it (nothing imported yet)."""

    name: str  # the provider id
    target: str  # "module:Class"

    @property
    def module(self) -> str:
        """The module that defines the provider class."""
        return self.target.partition(":")[0]

    @property
    def package(self) -> str:
        """The provider's package: the one holding `module`."""
        return self.module.rpartition(".")[0] or self.module

    def load(self) -> Any:
        """Import the provider's module and return the object the entry point names."""
        module, _, attr = self.target.partition(":")
        found: Any = import_module(module)
        for part in filter(None, attr.split(".")):
            found = getattr(found, part)
        return found

    def submodule(self, name: str) -> str | None:
        """The dotted name of ``<package>.<name>`` if such a module exists, else None (nothing is imported
        but the package itself)."""
        dotted = f"{self.package}.{name}"
        try:
            return dotted if find_spec(dotted) is not None else None
        except ModuleNotFoundError:
            return None

    def package_dir(self) -> Path | None:
        """The provider package's directory on disk (None for a package without one)."""
        spec = find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations)))


@cache
def plugins() -> dict[str, Plugin]:
    """Every installed provider by id, sorted by id (the first entry point of a name wins)."""
    found: dict[str, Plugin] = {}
    for point in entry_points(group=GROUP):
        found.setdefault(point.name, Plugin(point.name, point.value))
    return dict(sorted(found.items()))


def plugin_modules(name: str) -> list[str]:
    """The ``<package>.<name>`` modules the installed providers have (e.g. ``transforms``), by provider id."""
    return [module for plugin in plugins().values() if (module := plugin.submodule(name)) is not None]
