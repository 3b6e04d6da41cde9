"""The foreground runner behind every ``python -m connector.sandbox.<name>``: start, print one JSON line, serve."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

from connector.sandbox._lifecycle import SandboxApp

__all__ = ["argument_parser", "serve"]

S = TypeVar("S", bound=SandboxApp)


def argument_parser(service: str, description: str) -> argparse.ArgumentParser:
    """A parser for ``python -m connector.sandbox.<service>`` with the options every sandbox has.

    Args:
        service: the package name, e.g. ``hydra``.
        description: one line for ``--help``.

    Returns:
        The parser with ``--port`` and ``--seed``; the service adds its own options.
    """
    parser = argparse.ArgumentParser(prog=f"python -m connector.sandbox.{service}", description=description)
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: any free port)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    return parser


def serve(sandbox: S, service: str, describe: Callable[[S], dict[str, Any]] | None = None) -> int:
    """Start `sandbox`, print one JSON line saying where, and serve until SIGINT/SIGTERM.

    Args:
        sandbox: the built (not yet started) sandbox.
        service: the ``service`` value of the printed line.
        describe: further keys of the line after the URLs (default: the credentials, spread).

    Returns:
        The exit status (0).
    """
    sandbox.start()
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    extra = describe(sandbox) if describe is not None else sandbox.credentials
    print(json.dumps({"service": service, "base_url": sandbox.base_url, "control_url": sandbox.control_url,
                      **extra}), flush=True)
    try:
        done.wait()
    finally:
        sandbox.stop()
    return 0
