"""Finds providers by id: the installed ones are the entry points of group ``connector.providers``
(`connector.plugins`); each names its provider class."""

from __future__ import annotations

from functools import cache

from connector.errors import ConfigError
from connector.plugins import plugins
from connector.providers.base import Provider

__all__ = ["get_provider_class", "known_providers"]


def known_providers() -> list[str]:
    """Return the ids of every installed provider, sorted."""
    return list(plugins())


@cache
def get_provider_class(provider_id: str) -> type[Provider]:
    """Return the provider class for `provider_id`.

    Raises:
        ConfigError: no such provider (the message lists the known ones), or an entry point that names
            something other than a `Provider` subclass with that id.
    """
    plugin = plugins().get(provider_id)
    if plugin is None:
        known = ", ".join(known_providers()) or (
            "none: no entry point of group connector.providers is installed (reinstall the connector, e.g. "
            "pip install -e ., so that its metadata lists them)"
        )
        raise ConfigError("provider", provider_id, f"unknown provider; known providers: {known}")
    cls = plugin.load()
    if not (isinstance(cls, type) and issubclass(cls, Provider)) or cls.id != provider_id:
        raise ConfigError(
            "provider", provider_id, f"the entry point {plugin.target} is not a Provider whose id is {provider_id!r}"
        )
    return cls
