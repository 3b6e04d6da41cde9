"""Facturalia API v1 (seed 002): Bearer key over HTTPS, push only - invoices POST with an Idempotency-Key."""

from connector.providers.facturalia.errors import InvalidPayload, MissingScope, UntrustedCertificate
from connector.providers.facturalia.provider import FacturaliaProvider

PROVIDER = FacturaliaProvider

__all__ = ["PROVIDER", "FacturaliaProvider", "InvalidPayload", "MissingScope", "UntrustedCertificate"]
