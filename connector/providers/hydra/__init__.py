"""Seed 004, an API Platform app: Bearer token, JSON-LD/Hydra collections, next links, ``updatedAt`` windows."""

from connector.providers.hydra.provider import HydraProvider

__all__ = ["HydraProvider"]
