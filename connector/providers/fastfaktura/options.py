"""FastFaktura's connection options (the `options` table): how wide its listing and detail reads go."""

from __future__ import annotations

from pydantic import Field

from connector.providers.base import ProviderOptions

__all__ = ["FastFakturaOptions"]


class FastFakturaOptions(ProviderOptions):
    """Options of a FastFaktura connection."""

    list_pages_per_batch: int = Field(default=4, ge=1, le=100, description="List pages read per batch.")
    detail_workers: int = Field(default=4, ge=1, le=32, description="Invoice details read at once.")
