"""Quirk switches: the ways a real service may behave where the evidence allows more than one.

Each sandbox declares its quirks (name, default, a one-line summary and the evidence for it). They are set
from the command line (``--quirk NAME[=VALUE]``, repeatable), from the control surface
(``POST /_sandbox/quirks`` with a JSON object ``{"name": value}``; ``DELETE`` goes back to the values the
sandbox was started with) and listed by ``GET /_sandbox/quirks`` and ``connector sandbox --list-quirks``.
A sandbox reads a quirk's current value with `QuirkSet.get` on every request, so switching needs no restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Quirk", "QuirkSet", "choice", "flag", "parse_assignments", "positive_int_or_off", "whole_number"]


def flag(value: Any) -> bool:
    """A switch: true/false (``--quirk name`` alone means true)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "on", "yes"):
        return True
    if text in ("0", "false", "off", "no"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def positive_int_or_off(value: Any) -> int | None:
    """A positive whole number, or off (``off``, ``0``, ``null``)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("off", "none", "null", "")):
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number or off, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a whole number or off, got {value!r}") from None
    if number < 0:
        raise ValueError(f"expected a whole number >= 0 or off, got {value!r}")
    return number or None


def whole_number(low: int, high: int) -> Callable[[Any], int]:
    """A whole number from `low` to `high`."""

    def parse(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            number = low - 1
        if isinstance(value, bool) or not low <= number <= high:
            raise ValueError(f"expected a whole number {low}..{high}, got {value!r}")
        return number

    parse.__doc__ = f"a whole number {low}..{high}"
    return parse


class choice:  # a lower-case name: used like the parser functions beside it
    """One of `options` (a parser that knows its options, so a quirk's alternatives need not be listed)."""

    def __init__(self, *options: str) -> None:
        """Args: options: the values allowed, as text."""
        self.options = options
        self.__doc__ = f"one of {', '.join(options)}"

    def __call__(self, value: Any) -> str:
        """`value` as one of the options (raises ValueError)."""
        text = str(value).strip()
        if text not in self.options:
            raise ValueError(f"expected one of {', '.join(self.options)}, got {value!r}")
        return text


@dataclass(frozen=True, slots=True)
class Quirk:
    """One switchable behaviour of a service.

    Attributes:
        name: the switch's name (``count_cap``).
        default: its value when nobody set it (the behaviour the sandbox shows by default).
        summary: one line: what it does.
        evidence: one line: why a real service may do it (the source in PROVIDERS.md).
        parse: turns a value from the command line or JSON into the switch's value (raises ValueError).
        trials: values besides the default that a client must cope with, where `parse` does not list
            them itself (a number: ``count_cap`` 100 and 250); the contract suite runs under each.
    """

    name: str
    default: Any
    summary: str
    evidence: str
    parse: Callable[[Any], Any] = flag
    trials: tuple[Any, ...] = ()

    @property
    def alternatives(self) -> tuple[Any, ...]:
        """Every value besides the default a client must cope with: the `trials`, else the other value of
        a switch or the other options of a `choice` (empty: the declaration names none)."""
        if self.trials:
            return tuple(self.parse(value) for value in self.trials)
        if self.parse is flag:
            return (not self.default,)
        if isinstance(self.parse, choice):
            return tuple(option for option in self.parse.options if option != self.default)
        return ()


class QuirkSet:
    """The current values of one sandbox's declared quirks (thread-safe; reads are lock-free)."""

    def __init__(self, declared: Sequence[Quirk], initial: Mapping[str, Any] | None = None) -> None:
        """Args: declared: the sandbox's quirks. initial: values set at start (the baseline `reset` returns to)."""
        self.declared = {quirk.name: quirk for quirk in declared}
        self._lock = threading.Lock()
        self._baseline = {name: quirk.default for name, quirk in self.declared.items()}
        self._baseline.update(self._parsed(initial or {}))
        self._values = dict(self._baseline)

    def get(self, name: str) -> Any:
        """The current value of a declared quirk.

        Raises:
            KeyError: the sandbox declares no such quirk.
        """
        return self._values[name]

    def set(self, values: Mapping[str, Any]) -> None:
        """Set some quirks now (all or none: a bad name or value changes nothing).

        Raises:
            ValueError: an unknown name (the message lists the known ones) or a bad value.
        """
        parsed = self._parsed(values)
        with self._lock:
            self._values = {**self._values, **parsed}

    def reset(self) -> None:
        """Back to the values the sandbox was started with."""
        with self._lock:
            self._values = dict(self._baseline)

    def describe(self) -> list[dict[str, Any]]:
        """Every quirk with its current value, default, summary and evidence, as JSON."""
        return [
            {"name": q.name, "value": self._values[q.name], "default": q.default, "summary": q.summary,
             "evidence": q.evidence}
            for q in self.declared.values()
        ]

    def _parsed(self, values: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(values) - set(self.declared))
        if unknown:
            known = ", ".join(self.declared) or "none"
            raise ValueError(f"unknown quirk {', '.join(unknown)}; this sandbox has: {known}")
        parsed = {}
        for name, value in values.items():
            try:
                parsed[name] = self.declared[name].parse(value)
            except ValueError as exc:
                raise ValueError(f"quirk {name}: {exc}") from None
        return parsed


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["count_cap=100", "unknown_id_answers_list"]`` -> ``{"count_cap": "100", "unknown_id_answers_list": True}``.

    Values stay text; the quirk's own parser reads them.
    """
    values: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name.strip():
            raise ValueError(f"--quirk {item!r}: expected NAME or NAME=VALUE")
        values[name.strip()] = value if sep else True
    return values
