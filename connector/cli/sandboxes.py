"""`connector sandbox`: serve the service simulators on loopback until interrupted."""

from __future__ import annotations

import json
import threading
from typing import Any

from connector.errors import ConfigError
from connector.sandbox import SERVICES, start

__all__ = ["SANDBOXES", "serve_sandboxes", "start_sandbox"]


SANDBOXES = tuple(SERVICES)


def start_sandbox(name: str, port: int, clients: int, invoices: int, seed: int) -> Any:
    """Start one sandbox by service name and return it (it serves from a background thread).

    Raises:
        ConfigError: an unknown service name; lists the known ones.
    """
    if name not in SERVICES:
        raise ConfigError("sandbox", "--service", f"unknown service {name!r}; known: {', '.join(SANDBOXES)}")
    return start(name, port=port, seed=seed, clients=clients, invoices=invoices)


def serve_sandboxes(
    services: list[str] | None, port: int, as_json: bool, clients: int, invoices: int, seed: int
) -> int:
    """Start the chosen sandboxes (default: all), print where they are, serve until Ctrl-C."""
    names = services or list(SANDBOXES)
    running = []
    for offset, name in enumerate(names):
        sandbox = start_sandbox(name, port + offset if port else 0, clients, invoices, seed)
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
