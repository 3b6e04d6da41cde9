"""FactuurSturen's connection options (the `options` table): how the invoices the connector creates are sent."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connector.providers.base import ProviderOptions

__all__ = ["FactuurSturenOptions"]


class FactuurSturenOptions(ProviderOptions):
    """Options of a FactuurSturen connection."""

    # Only `send` makes an invoice the API lists (a `save`d one is a draft it never shows), so the connector
    # could not find its own create again with anything else (PROVIDERS.md, write operations).
    invoice_action: Literal["send"] = Field(default="send", description="`action` of an invoice create.")
    send_method: Literal["mail", "email", "printcenter"] = Field(
        default="mail", description="`sendmethod` of an invoice create: how the service delivers it."
    )
