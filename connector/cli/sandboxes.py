"""`connector sandbox`: serve the service simulators on loopback until interrupted.

The sandboxes are the `sandboxes` package's services, plus the ``sandbox`` module (its ``SANDBOX`` class) of any
installed provider's package that has one (a plug-in ships its own simulator).
"""

from __future__ import annotations

import json
import os
import ssl
import threading
from importlib import import_module
from typing import Any

import httpx

import sandboxes
from connector.errors import ConfigError
from connector.plugins import plugins
from connector.settings import Connection
from sandboxes._main import quirk_table
from sandboxes._quirks import parse_assignments

__all__ = [
    "SANDBOXES",
    "quirks_for",
    "sandbox_class",
    "sandbox_connection",
    "sandbox_control",
    "serve_sandboxes",
    "start_sandbox",
]



def _services() -> dict[str, str]:
    """Service name -> the module whose SANDBOX is its simulator (a plug-in's own wins over a same-named one)."""
    found = dict(sandboxes.SERVICES)
    for plugin in plugins().values():
        module = plugin.submodule("sandbox")
        if module is not None:
            found[plugin.name] = module
    return dict(sorted(found.items()))


SERVICES = _services()
SANDBOXES = tuple(SERVICES)


def sandbox_class(name: str) -> Any:
    """The class of the named sandbox (its `declared_quirks` say which quirk switches it has).

    Raises:
        ConfigError: an unknown service name; lists the known ones.
    """
    if name not in SERVICES:
        raise ConfigError("sandbox", "--service", f"unknown service {name!r}; known: {', '.join(SANDBOXES)}")
    return import_module(SERVICES[name]).SANDBOX


def start_sandbox(
    name: str, port: int, clients: int, invoices: int, seed: int, quirks: dict[str, Any] | None = None
) -> Any:
    """Start one sandbox by service name and return it (it serves from a background thread).

    Raises:
        ConfigError: an unknown service name; lists the known ones.
    """
    extra = {"quirks": quirks} if quirks else {}
    return sandbox_class(name)(port=port, seed=seed, clients=clients, invoices=invoices, **extra).start()


def quirks_for(names: list[str], given: list[str]) -> dict[str, dict[str, Any]]:
    """Split ``--quirk [SERVICE:]NAME[=VALUE]`` values among the started sandboxes, checking each.

    Raises:
        ConfigError: a quirk no started sandbox has, or a value its sandbox cannot take.
    """
    chosen: dict[str, dict[str, Any]] = {name: {} for name in names}
    for item in given:
        service, sep, rest = item.partition(":")
        targets = [service] if sep else names
        if sep and service not in names:
            raise ConfigError("sandbox", "--quirk", f"{item}: {service!r} is not among the started sandboxes")
        [(quirk, value)] = parse_assignments([rest if sep else item]).items()
        taken = False
        for name in targets:
            declared = {q.name: q for q in sandbox_class(name).declared_quirks}
            if quirk in declared:
                try:
                    declared[quirk].parse(value)
                except ValueError as exc:
                    raise ConfigError("sandbox", "--quirk", f"{item}: {exc}") from None
                chosen[name][quirk] = value
                taken = True
        if not taken:
            raise ConfigError("sandbox", "--quirk", f"{item}: no started sandbox has this quirk (see --list-quirks)")
    return chosen


def sandbox_control(sandbox: Any) -> httpx.Client:
    """A client for a running sandbox's control surface (trusting its own certificate where it serves TLS)."""
    ca_bundle = getattr(sandbox, "ca_bundle", None)
    verify = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    return httpx.Client(base_url=sandbox.control_url, verify=verify, timeout=60)


def sandbox_connection(service: str, sandbox: Any, name: str, **overrides: Any) -> Connection:
    """A connection to a running sandbox of `service` named `name`.

    The key reaches the connector through an environment variable (`CONNECTOR_DEMO_<NAME>_KEY`), as in
    production; a sandbox serving TLS is verified against its own CA bundle, the others are plain-http
    sandboxes. `overrides` set any other connection option (routing, rate limit, ...).
    """
    env = f"CONNECTOR_DEMO_{name.upper()}_KEY"
    os.environ[env] = str(sandbox.credentials["api_key"])
    values: dict[str, Any] = {
        "name": name,
        "provider": service,
        "base_url": sandbox.base_url,
        "api_key_env": env,
        "safety_lag_seconds": 0,
    }
    if "username" in sandbox.credentials:
        values["username"] = str(sandbox.credentials["username"])
    ca_bundle = getattr(sandbox, "ca_bundle", None)
    values.update({"ca_bundle": ca_bundle} if ca_bundle else {"sandbox": True})
    values.update(overrides)
    return Connection(**values)


def serve_sandboxes(
    services: list[str] | None,
    port: int,
    as_json: bool,
    clients: int,
    invoices: int,
    seed: int,
    quirks: list[str] | None = None,
    list_quirks: bool = False,
) -> int:
    """Start the chosen sandboxes (default: all), print where they are, serve until Ctrl-C.

    With `list_quirks`, print each chosen sandbox's quirk switches instead and return.
    """
    names = services or list(SANDBOXES)
    for name in names:
        sandbox_class(name)  # refuses an unknown name before anything starts
    if list_quirks:
        for name in names:
            declared = sandbox_class(name).declared_quirks
            print(quirk_table(declared, name) if declared else f"{name}: no quirk switches")
        return 0
    chosen = quirks_for(names, quirks or [])
    running = []
    for offset, name in enumerate(names):
        sandbox = start_sandbox(name, port + offset if port else 0, clients, invoices, seed, chosen[name])
        running.append(sandbox)
        info = {
            "service": name,
            "base_url": sandbox.base_url,
            "control_url": sandbox.control_url,
            **sandbox.credentials,
            **({"ca_bundle": sandbox.ca_bundle} if getattr(sandbox, "ca_bundle", None) else {}),
        }
        if as_json:
            print(json.dumps(info), flush=True)
        else:
            creds = " ".join(f"{k}={v}" for k, v in sandbox.credentials.items())
            print(f"{name}: {sandbox.base_url}  {creds}  (control: {sandbox.control_url})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for sandbox in running:
            sandbox.stop()
    return 0
