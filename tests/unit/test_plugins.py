"""Providers found through entry points (connector/plugins.py, providers/registry.py), no import needed to list."""

from __future__ import annotations

import pytest

from connector.errors import ConfigError
from connector.plugins import Plugin, plugin_modules, plugins
from connector.providers import registry
from connector.providers.base import Provider


def test_every_installed_provider_is_a_provider_class_whose_id_is_its_entry_point_name() -> None:
    assert len(plugins()) >= 4
    for name in plugins():
        cls = registry.get_provider_class(name)
        assert issubclass(cls, Provider) and cls.id == name


def test_the_rest_of_a_provider_is_found_in_its_package() -> None:
    for plugin in plugins().values():
        assert plugin.package == plugin.module.rpartition(".")[0]
        assert plugin.submodule("no_such_module") is None
    assert len(plugin_modules("transforms")) >= 4  # every shipped provider brings its own transforms


def test_an_entry_point_that_names_no_provider_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = {"bogus": Plugin("bogus", "connector.errors:ConfigError")}
    monkeypatch.setattr(registry, "plugins", lambda: bogus)
    registry.get_provider_class.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"connector\.errors:ConfigError is not a Provider whose id is 'bogus'"):
            registry.get_provider_class("bogus")
        with pytest.raises(ConfigError, match="unknown provider; known providers: bogus"):
            registry.get_provider_class("nope")
    finally:
        registry.get_provider_class.cache_clear()
