"""FastFaktura API v1 (seeds 000/001): API key, 25-per-page lists newest first, details with lines and events."""

from connector.providers.fastfaktura.provider import FastFakturaProvider

__all__ = ["FastFakturaProvider"]
