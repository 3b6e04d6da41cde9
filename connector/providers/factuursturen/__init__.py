"""FactuurSturen.nl API v1 (seed 003): HTTP Basic, start/count paging, invoices by sent date, 250 req/hour."""

from connector.providers.factuursturen.provider import FactuurSturenProvider

__all__ = ["FactuurSturenProvider"]
