"""Service sandboxes: faithful simulators on real loopback sockets; they import nothing from the connector."""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["SERVICES", "sandbox_class", "start"]

# service name -> "module:class"; each class takes port=, seed=, clients=, invoices= and has start()/stop().
SERVICES = {
    "factuursturen": "sandboxes.factuursturen:FactuurSturenSandbox",
    "fastfaktura": "sandboxes.fastfaktura:FastFakturaSandbox",
    "facturalia": "sandboxes.facturalia:FacturaliaSandbox",
    "hydra": "sandboxes.hydra:HydraSandbox",
}


def sandbox_class(name: str) -> Any:
    """The class of the named sandbox (its `declared_quirks` say which quirk switches it has).

    Raises:
        KeyError: an unknown name (the message lists the known ones).
    """
    if name not in SERVICES:
        raise KeyError(f"unknown sandbox {name!r}; known: {', '.join(sorted(SERVICES))}")
    module, _, cls = SERVICES[name].partition(":")
    return getattr(import_module(module), cls)


def start(name: str, **options: Any) -> Any:
    """Build and start the named sandbox (``quirks=`` only where it declares any).

    Raises:
        KeyError: an unknown name (the message lists the known ones).
    """
    return sandbox_class(name)(**options).start()
