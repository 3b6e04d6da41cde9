"""Facturalia's connection options (the `options` table)."""

from __future__ import annotations

from pydantic import Field

from connector.providers.base import ProviderOptions

__all__ = ["FacturaliaOptions"]


class FacturaliaOptions(ProviderOptions):
    """Options of a Facturalia connection."""

    default_product_code: str | None = Field(default=None, description="Product code for lines that carry none.")
