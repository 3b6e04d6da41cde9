"""Straight-line record fillers: a record's field reads compiled into one function (the hot path of a pull).

`steps.reader` gives every field its own closure; on a first load, calling those closures costs more than
most fields' own work. `compile_fill` writes one function per record plan that reads each field inline
where the field has a common shape (top-level keys, a transform, no `map` table), calls the field's
closure otherwise, and fills `extra` the same way. The generated code holds no value from the mapping
file: keys, transforms and defaults are passed in as constants, never written into the source.

It does not keep track of which field it is reading. When any read fails it hands the record to the
reference filler (`slow`: the closures, field by field), which raises the `MappingError` naming the
entity and field exactly as it always did, so errors, and values, are those of `steps.reader`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from connector.mapping.plan import FieldPlan
from connector.mapping.registry import Inbound
from connector.mapping.steps import EMPTY_TYPES, READ_ERRORS, reader

__all__ = ["Fill", "compile_fill"]

Fill = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


class _Source:
    """The generated function's text and the constants it refers to by name."""

    def __init__(self, slow: Fill) -> None:
        self.names: dict[str, Any] = {"EMPTY": EMPTY_TYPES, "ERRORS": READ_ERRORS, "slow": slow}
        self.lines = ["def fill(raw, kw):", "    try:"]

    def const(self, value: Any) -> str:
        name = f"c{len(self.names)}"
        self.names[name] = value
        return name

    def emit(self, *lines: str) -> None:
        self.lines.extend("        " + line for line in lines)

    def read(self, plan: FieldPlan, inbound: Inbound | None) -> None:
        """Emit code that leaves the field's canonical value in `v` (or raises a read error)."""
        if not plan.paths:
            self.emit(f"v = {self.const(plan.fallback)}")
            return
        path = plan.paths[0]
        missing = "raise ValueError" if plan.required else f"v = {self.const(plan.fallback)}"
        if plan.table is not None or inbound is None or any(len(p) != 1 for p in plan.paths):
            self.emit(f"v = {self.const(reader(plan, inbound))}(raw)")
            return
        if plan.multi:  # `steps.reader`'s read_many, inline: the transform sees every value; None -> missing
            values = "".join(f"raw.get({self.const(p[0])}), " for p in plan.paths)
            self.emit(f"v = {self.const(inbound)}(({values}))", "if v is None:", f"    {missing}")
            return
        # `steps.reader`'s read_key, inline: empty -> missing; transform; None -> missing.
        self.emit(
            f"v = raw.get({self.const(path[0])})",
            "if not v and type(v) in EMPTY:",
            f"    {missing}",
            "else:",
            f"    v = {self.const(inbound)}(v)",
            "    if v is None:",
            f"        {missing}",
        )

    def build(self) -> Fill:
        self.lines += ["    except ERRORS:", "        return slow(raw, kw)", "    return kw", ""]
        scope: dict[str, Any] = {}
        exec(compile("\n".join(self.lines), "<mapping fill>", "exec"), self.names, scope)
        fill: Fill = scope["fill"]
        return fill


def compile_fill(
    fields: Sequence[tuple[FieldPlan, Inbound | None]],
    extras: Sequence[tuple[FieldPlan, Inbound | None]],
    unmapped: bool,
    consumed: frozenset[str],
    slow: Fill,
) -> Fill:
    """Compile fill(raw, kw) -> kw for one record plan.

    Args:
        fields: each canonical field with its bound inbound transform, in the plan's order.
        extras: the same for the `extra` dict's fields.
        unmapped: also copy the wire keys no field reads (not in `consumed`) into `extra`.
        consumed: the top-level wire keys the plan's fields read.
        slow: the reference filler (one closure per field), used for a record any read fails on.
    """
    source = _Source(slow)
    for plan, inbound in fields:
        source.read(plan, inbound)
        source.emit(f"kw[{source.const(plan.name)}] = v")
    if extras or unmapped:
        source.emit("extra = {}")
        for plan, inbound in extras:
            source.read(plan, inbound)
            source.emit("if v is not None:", f"    extra[{source.const(plan.name)}] = v")
        if unmapped:
            source.emit(
                "for key, value in raw.items():",
                f"    if key not in {source.const(consumed)} and key not in extra:",
                "        extra[key] = value",
            )
        source.emit('kw["extra"] = extra')
    return source.build()
