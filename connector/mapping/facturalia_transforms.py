"""Transforms particular to the facturalia mapping; importing this module registers them."""

from __future__ import annotations

__all__: list[str] = []
