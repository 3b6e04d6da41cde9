"""`connector sandbox`: serve the service simulators on loopback until interrupted.

The sandboxes are the `sandboxes` package's services, plus the ``sandbox`` module (its ``SANDBOX`` class) of any
installed provider's package that has one (a plug-in ships its own simulator).
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import sys
import threading
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

import sandboxes
from connector.errors import ConfigError
from connector.plugins import plugins
from connector.settings import Connection
from sandboxes._main import quirk_table
from sandboxes._quirks import parse_assignments

__all__ = [
    "NO_LIMIT",
    "SANDBOXES",
    "connection_values",
    "env_exports",
    "port_of",
    "quirks_for",
    "sandbox_class",
    "sandbox_connection",
    "sandbox_control",
    "serve_sandboxes",
    "start_sandbox",
    "write_connections_file",
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
NO_LIMIT = 1_000_000  # a connection's rate_limit when its sandbox has none: the pacer never waits


def port_of(service: str, first: int) -> int:
    """The port `service` serves on when ``--port first`` is given: a fixed offset per service, its place among
    the installed sandboxes in name order, whichever of them are started (facturalia +0, factuursturen +1,
    fastfaktura +2, hydra +3 here); 0 stays 0 (any free port)."""
    return first + SANDBOXES.index(service) if first else 0


def sandbox_class(name: str) -> Any:
    """The class of the named sandbox (its `declared_quirks` say which quirk switches it has).

    Raises:
        ConfigError: an unknown service name; lists the known ones.
    """
    if name not in SERVICES:
        raise ConfigError("sandbox", "--service", f"unknown service {name!r}; known: {', '.join(SANDBOXES)}")
    return import_module(SERVICES[name]).SANDBOX


def start_sandbox(
    name: str, port: int, clients: int, invoices: int, seed: int, quirks: dict[str, Any] | None = None,
    **options: Any,
) -> Any:
    """Start one sandbox by service name and return it (it serves from a background thread).

    `options` go to the sandbox's constructor as they are (e.g. ``rate_limit=None``: no rate limit).

    Raises:
        ConfigError: an unknown service name; lists the known ones.
    """
    extra = {"quirks": quirks} if quirks else {}
    return sandbox_class(name)(port=port, seed=seed, clients=clients, invoices=invoices, **extra, **options).start()


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


def connection_values(service: str, sandbox: Any) -> dict[str, Any]:
    """The settings of a connection to a running sandbox of `service`, without its key: where it is, its user
    name (HTTP Basic services), its own CA bundle where it serves TLS (else ``sandbox = true`` for plain http), and
    no safety lag (the sandbox's clock is the one it stamps records with)."""
    values: dict[str, Any] = {"provider": service, "base_url": sandbox.base_url}
    if "username" in sandbox.credentials:
        values["username"] = str(sandbox.credentials["username"])
    ca_bundle = getattr(sandbox, "ca_bundle", None)
    values.update({"ca_bundle": ca_bundle} if ca_bundle else {"sandbox": True})
    values["safety_lag_seconds"] = 0
    return values


def sandbox_connection(service: str, sandbox: Any, name: str, **overrides: Any) -> Connection:
    """A connection to a running sandbox of `service` named `name`.

    The key reaches the connector through an environment variable (`CONNECTOR_DEMO_<NAME>_KEY`), as in
    production; a sandbox serving TLS is verified against its own CA bundle, the others are plain-http
    sandboxes. `overrides` set any other connection option (routing, rate limit, ...).
    """
    env = f"CONNECTOR_DEMO_{name.upper()}_KEY"
    os.environ[env] = str(sandbox.credentials["api_key"])
    values = {"name": name, **connection_values(service, sandbox), "api_key_env": env}
    values.update(overrides)
    return Connection(**values)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string: JSON's escapes are TOML's


def write_connections_file(path: Path, running: Sequence[tuple[str, Any]], *, rate_limited: bool) -> Path:
    """Write a ready connections file for the running sandboxes: one ``[connections.<service>]`` each, its key
    in a file of ``<stem>.keys/`` beside it (mode 600) referenced by ``api_key_file``.

    Args:
        path: the connections file to (over)write; written whole or not at all.
        running: (service, sandbox) of each started sandbox.
        rate_limited: False when the sandboxes run without a rate limit: each connection's ``rate_limit`` is then
            set out of reach, so the connector does not pace to the provider's default budget.

    Returns:
        The directory holding the keys.
    """
    path = path.resolve()
    keys = path.parent / f"{path.stem}.keys"
    keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines = [
        "# Written by `connector sandbox --toml` for the sandboxes it serves. Ports, keys and any CA",
        "# bundle are that run's; with --port the ports stay the same from run to run. Keys: " + str(keys),
    ]
    for service, sandbox in running:
        key_file = keys / f"{service}.key"
        key_file.touch(mode=0o600)
        key_file.write_text(str(sandbox.credentials["api_key"]) + "\n", encoding="utf-8")
        values = {**connection_values(service, sandbox), "api_key_file": str(key_file),
                  **getattr(sandbox, "connection_settings", {})}
        if not rate_limited:
            values["rate_limit"] = NO_LIMIT
        options = values.pop("options", None)
        lines += ["", f"[connections.{service}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        if options:
            lines += ["", f"[connections.{service}.options]"]
            lines += [f"{key} = {_toml_value(value)}" for key, value in options.items()]
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temporary.replace(path)  # a reader sees the whole file or none
    return keys


def env_exports(running: Sequence[tuple[str, Any]], connections_file: Path | None) -> list[str]:
    """Shell ``export`` lines: ``CONNECTOR_CONNECTIONS_FILE`` (when a file was written) and each sandbox's
    ``CONNECTOR_SANDBOX_<SERVICE>_URL`` and ``_KEY`` (``_USERNAME``, ``_CA_BUNDLE`` where it has them)."""
    lines = [f"export CONNECTOR_CONNECTIONS_FILE={_shell(str(connections_file.resolve()))}"] if connections_file else []
    for service, sandbox in running:
        prefix = f"CONNECTOR_SANDBOX_{service.upper()}"
        values = {"URL": sandbox.base_url, "CONTROL_URL": sandbox.control_url,
                  **{name.upper(): value for name, value in sandbox.credentials.items()}}
        if getattr(sandbox, "ca_bundle", None):
            values["CA_BUNDLE"] = sandbox.ca_bundle
        lines += [f"export {prefix}_{name}={_shell(str(value))}" for name, value in values.items()]
    return lines


def _shell(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def serve_sandboxes(
    services: list[str] | None,
    port: int,
    as_json: bool,
    clients: int,
    invoices: int,
    seed: int,
    quirks: list[str] | None = None,
    list_quirks: bool = False,
    *,
    toml: Path | None = None,
    env: bool = False,
    rate_limited: bool = True,
) -> int:
    """Start the chosen sandboxes (default: all), say where they are, serve until Ctrl-C or SIGTERM.

    With `list_quirks`, print each chosen sandbox's quirk switches instead and return. With `toml`, write a
    ready connections file for them (`write_connections_file`); with `env`, stdout carries only shell lines
    (``export`` lines and ``#`` comments), so it can be sourced. Without `rate_limited`, the sandboxes count no
    requests and the written connections do not pace.
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
    stop = threading.Event()
    running: list[tuple[str, Any]] = []

    def stopped(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, stopped)
    try:
        for name in names:
            extra = {} if rate_limited else {"rate_limit": None}
            sandbox = start_sandbox(name, port_of(name, port), clients, invoices, seed, chosen[name] or None, **extra)
            running.append((name, sandbox))
            info = {
                "service": name,
                "base_url": sandbox.base_url,
                "control_url": sandbox.control_url,
                **sandbox.credentials,
                **({"ca_bundle": sandbox.ca_bundle} if getattr(sandbox, "ca_bundle", None) else {}),
            }
            creds = " ".join(f"{k}={v}" for k, v in sandbox.credentials.items())
            line = f"{name}: {sandbox.base_url}  {creds}  (control: {sandbox.control_url})"
            print(f"# {line}" if env else json.dumps(info) if as_json else line, flush=True)
        if toml is not None:
            write_connections_file(toml, running, rate_limited=rate_limited)
            print(f"connector sandbox: wrote {toml} ({len(running)} connections); use it with "
                  f"CONNECTOR_CONNECTIONS_FILE={toml}", file=sys.stderr, flush=True)
        if env:
            print("\n".join(env_exports(running, toml)), flush=True)
        limits = "with their services' rate limits" if rate_limited else "without rate limits"
        print(f"connector sandbox: {len(running)} sandbox(es) serving {limits}; Ctrl-C or SIGTERM stops them",
              file=sys.stderr, flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for _, sandbox in running:
            sandbox.stop()
    return 0
