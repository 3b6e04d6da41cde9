"""Facturalia API v1 (seed 002): Bearer key over HTTPS, push only - invoices POST with an Idempotency-Key."""

from connector.providers.facturalia.errors import InvalidPayload, MissingScope, UntrustedCertificate
from connector.providers.facturalia.provider import FacturaliaProvider

__all__ = ["FacturaliaProvider", "InvalidPayload", "MissingScope", "UntrustedCertificate"]
