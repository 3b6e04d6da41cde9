"""Column types that keep money exact on every backend (SQLite has no decimal type)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["DecimalText"]


class DecimalText(TypeDecorator[Decimal]):
    """A `Decimal` stored as its exact text ('5.952'), so no backend ever rounds it through a float."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Store the decimal's canonical text."""
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("refusing to store a float as a decimal")
        return str(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Read the text back as a `Decimal`."""
        return None if value is None else Decimal(value)
