"""Facturalia errors as the service shows them: ``{"error": {"code", "message", "details"?}}`` in Dutch."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sandboxes._server import Response
from sandboxes.facturalia.wire import JSON_TYPE, encode

__all__ = ["CODES", "MESSAGES", "ApiError", "error_response", "validation_error"]

CODES: dict[int, str] = {
    400: "invalid_json",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "idempotency_conflict",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "server_error",
}
"""The documented code of each status (FL5); any other 5xx is also `server_error`."""

MESSAGES: dict[str, str] = {
    "invalid_json": "Body is geen geldige JSON.",  # the texts of the service's own examples (FL5)
    "unauthorized": "Authorization header ontbreekt of ongeldig.",
    "forbidden": "Scope ontbreekt: invoices:create",
    "not_found": "Deze route bestaat niet.",
    "method_not_allowed": "Deze methode is niet toegestaan op deze route.",
    "idempotency_conflict": "Deze idempotency-sleutel werd al gebruikt met een andere payload.",
    "unsupported_media_type": "Content-Type moet application/json zijn.",
    "validation_error": "Controleer de velden.",
    "rate_limited": "Te veel verzoeken. Probeer het later opnieuw.",
    "server_error": "Er ging iets mis aan onze kant. Probeer het later opnieuw.",
}


def code_for(status: int) -> str:
    """The error code a status carries (5xx: ``server_error``; unknown 4xx: ``validation_error``)."""
    if status in CODES:
        return CODES[status]
    return "server_error" if status >= 500 else "validation_error"


def error_response(status: int, code: str | None = None, message: str | None = None,
                   details: Mapping[str, str] | None = None) -> Response:
    """The service's error answer; 5xx answers carry an ``X-Request-Id``.

    Args:
        status: HTTP status.
        code: the stable code (default: the status's own).
        message: the Dutch message (default: the code's standard one).
        details: field errors by dot path, only for validation errors.
    """
    code = code or code_for(status)
    error: dict[str, object] = {"code": code, "message": message or MESSAGES.get(code, MESSAGES["server_error"])}
    if details:
        error["details"] = dict(details)
    response = Response(status, encode({"error": error}), JSON_TYPE)
    if status >= 500:
        response.headers.append(("X-Request-Id", uuid.uuid4().hex))
    return response


class ApiError(Exception):
    """An error the service answers with; raised anywhere below the request pipeline."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None,
                 details: Mapping[str, str] | None = None, headers: tuple[tuple[str, str], ...] = ()) -> None:
        """Args: status, code, message, details: see `error_response`. headers: extra answer headers."""
        self.status = status
        self.code = code or code_for(status)
        self.message = message or MESSAGES.get(self.code, "")
        self.details = dict(details or {})
        self.headers = headers
        super().__init__(f"{status} {self.code}: {self.message}")

    def response(self) -> Response:
        """The wire answer for this error."""
        response = error_response(self.status, self.code, self.message, self.details)
        response.headers.extend(self.headers)
        return response


def validation_error(details: Mapping[str, str]) -> ApiError:
    """422 ``validation_error`` with field errors by dot path (``lines.0.unit_price``)."""
    return ApiError(422, "validation_error", MESSAGES["validation_error"], details)
