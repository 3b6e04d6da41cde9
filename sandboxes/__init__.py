"""Service sandboxes: faithful simulators on real loopback sockets; they import nothing from the connector.

Each service is a subpackage whose ``SANDBOX`` is its class (found by package: no list of services here).
"""

from __future__ import annotations

import pkgutil
from importlib import import_module
from typing import Any

__all__ = ["SERVICES", "sandbox_class", "start"]

# service name -> module; each module's SANDBOX takes port=, seed=, clients=, invoices= and has start()/stop().
SERVICES = {
    info.name: f"{__name__}.{info.name}"
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    if info.ispkg and not info.name.startswith("_")
}


def sandbox_class(name: str) -> Any:
    """The class of the named sandbox (its `declared_quirks` say which quirk switches it has).

    Raises:
        KeyError: an unknown name (the message lists the known ones).
    """
    if name not in SERVICES:
        raise KeyError(f"unknown sandbox {name!r}; known: {', '.join(sorted(SERVICES))}")
    return import_module(SERVICES[name]).SANDBOX


def start(name: str, **options: Any) -> Any:
    """Build and start the named sandbox (``quirks=`` only where it declares any).

    Raises:
        KeyError: an unknown name (the message lists the known ones).
    """
    return sandbox_class(name)(**options).start()
