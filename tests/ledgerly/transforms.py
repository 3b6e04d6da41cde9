"""Ledgerly's own mapping transform (found by package and registered when the provider is installed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.mapping.registry import Inbound, Outbound, References, Transform, register

__all__: list[str] = []


def _cents(params: Mapping[str, Any], refs: References) -> tuple[Inbound, Outbound]:
    """Ledgerly sends money as a JSON integer of cents; anything else is unreadable."""

    def inbound(value: Any) -> int:
        if type(value) is not int:
            raise ValueError(f"expected whole cents, got {value!r}")
        return value

    return inbound, lambda value: value


register(Transform("ledgerly_cents", _cents, (int,), summary="Ledgerly cents (a JSON integer) -> minor units"))
