"""Finds providers by name: every `connector/providers/<id>/` package exporting `PROVIDER` is one."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import connector.providers as _pkg
from connector.errors import ConfigError
from connector.providers.base import Provider

__all__ = ["get_provider_class", "known_providers"]


@cache
def _discover() -> dict[str, type[Provider]]:
    found: dict[str, type[Provider]] = {}
    for info in pkgutil.iter_modules(_pkg.__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{_pkg.__name__}.{info.name}")
        cls = getattr(module, "PROVIDER", None)
        if isinstance(cls, type) and issubclass(cls, Provider):
            found[cls.id] = cls
    return found


def known_providers() -> list[str]:
    """Return the ids of every installed provider, sorted."""
    return sorted(_discover())


def get_provider_class(provider_id: str) -> type[Provider]:
    """Return the provider class for `provider_id`.

    Raises:
        ConfigError: no such provider; the message lists the known ones.
    """
    try:
        return _discover()[provider_id]
    except KeyError:
        raise ConfigError(
            "provider", provider_id, f"unknown provider; known providers: {', '.join(known_providers())}"
        ) from None
