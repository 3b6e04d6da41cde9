"""Facturalia's own kinds of the connector's typed errors (each a subclass of a shared one)."""

from __future__ import annotations

from collections.abc import Mapping

from connector.errors import AuthFailed, Rejected, UntrustedCertificate

__all__ = ["InvalidPayload", "MissingScope", "UntrustedCertificate"]  # UntrustedCertificate: re-exported


class MissingScope(AuthFailed):
    """403: the API key works, but scopes are on for it and it lacks the one this call needs."""

    def __init__(self, scope: str, message: str, **kw: str) -> None:
        """Args: scope: the missing scope (``invoices:create``). message: what to show."""
        self.scope = scope
        super().__init__(message, status=403, **kw)


class InvalidPayload(Rejected):
    """The provider refused a payload before sending it: nothing reached the service.

    `details` uses the service's own dot paths (``lines.0.vat_rate``); `status` is 0 (no answer) and
    `code` is ``invalid_payload``.
    """

    def __init__(self, details: Mapping[str, str], **kw: str) -> None:
        """Args: details: problem by dot path."""
        summary = "; ".join(f"{path}: {problem}" for path, problem in details.items())
        super().__init__(f"payload refused before sending: {summary}", status=0, code="invalid_payload",
                         details=dict(details), **kw)
