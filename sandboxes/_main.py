"""The foreground runner behind every ``python -m sandboxes.<name>``: start, print one JSON line, serve."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, TypeVar

from sandboxes._lifecycle import SandboxApp
from sandboxes._quirks import Quirk, parse_assignments

__all__ = ["argument_parser", "quirk_table", "quirks_given", "serve"]

S = TypeVar("S", bound=SandboxApp)


def argument_parser(service: str, description: str, quirks: Sequence[Quirk] = ()) -> argparse.ArgumentParser:
    """A parser for ``python -m sandboxes.<service>`` with the options every sandbox has.

    Args:
        service: the package name, e.g. ``hydra``.
        description: one line for ``--help``.
        quirks: the sandbox's quirk switches: adds ``--quirk NAME[=VALUE]`` and ``--list-quirks``.

    Returns:
        The parser with ``--port`` and ``--seed``; the service adds its own options.
    """
    parser = argparse.ArgumentParser(prog=f"python -m sandboxes.{service}", description=description)
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: any free port)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    if quirks:
        parser.add_argument("--quirk", action="append", default=[], metavar="NAME[=VALUE]",
                            help="switch a quirk on (repeatable); see --list-quirks")
        parser.add_argument("--list-quirks", action=_ListQuirks, quirks=quirks,
                            help="print every quirk with its default and evidence, then exit")
    return parser


def quirk_table(quirks: Sequence[Quirk], service: str | None = None) -> str:
    """One line per quirk: its name, default, what it does and the evidence for it."""
    lines = []
    for quirk in quirks:
        name = f"{service}:{quirk.name}" if service else quirk.name
        default = "off" if quirk.default in (None, False) else str(quirk.default).lower()
        lines.append(f"{name}  (default {default})  {quirk.summary}\n    evidence: {quirk.evidence}")
    return "\n".join(lines)


def quirks_given(parser: argparse.ArgumentParser, args: argparse.Namespace, quirks: Sequence[Quirk]) -> dict[str, Any]:
    """The ``--quirk`` values as a dict; a bad one ends the program with the parser's usage error (exit 2)."""
    values = parse_assignments(getattr(args, "quirk", []) or [])
    known = {q.name: q for q in quirks}
    for name, value in values.items():
        if name not in known:
            parser.error(f"--quirk {name}: unknown; known: {', '.join(known)}")
        try:
            known[name].parse(value)
        except ValueError as exc:
            parser.error(f"--quirk {name}: {exc}")
    return values


class _ListQuirks(argparse.Action):
    def __init__(self, option_strings: list[str], dest: str, quirks: Sequence[Quirk] = (), **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)
        self.quirks = quirks

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(quirk_table(self.quirks))
        parser.exit(0)


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
