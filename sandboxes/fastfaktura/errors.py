"""FastFaktura errors as the sandbox shows them: ``{"error": {"code", "message", "fields"?}}`` (decision 10)."""

from __future__ import annotations

import json

from sandboxes._server import Response

__all__ = ["ApiError", "BadRequest", "Conflict", "MethodNotAllowed", "NotFound", "Unauthorized", "Unprocessable",
           "error_body", "error_response"]

CONTENT_TYPE = "application/json"
_CODES = {400: "invalid_json", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
          422: "validation_failed", 429: "rate_limited"}


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> bytes:
    """The JSON error envelope; `fields` (dotted paths such as ``lines.0.quantity``) only when given."""
    inner: dict[str, object] = {"code": code, "message": message}
    if fields:
        inner["fields"] = fields
    return json.dumps({"error": inner}, ensure_ascii=False, separators=(",", ":")).encode()


def error_response(status: int, message: str) -> Response:
    """An error answer for a bare status (faults, rate limit): the code follows from the status."""
    code = _CODES.get(status, "server_error" if status >= 500 else "error")
    return Response(status, error_body(code, message), CONTENT_TYPE)


class ApiError(Exception):
    """An error the service answers with; raised by the model and the wire layer alike."""

    status = 500
    code = "server_error"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        """Args: message: a human sentence. fields: per-field problems (422)."""
        super().__init__(message)
        self.message = message
        self.fields = fields

    def response(self) -> Response:
        """The wire answer for this error."""
        return Response(self.status, error_body(self.code, self.message, self.fields), CONTENT_TYPE)


class BadRequest(ApiError):
    """400: the body is not JSON (or not a JSON object)."""

    status, code = 400, "invalid_json"


class Unauthorized(ApiError):
    """401: no API key, or not this account's."""

    status, code = 401, "unauthorized"


class NotFound(ApiError):
    """404: no such record or path."""

    status, code = 404, "not_found"


class Conflict(ApiError):
    """409: the record is in a state that forbids the operation (sending a cancelled invoice)."""

    status, code = 409, "conflict"


class Unprocessable(ApiError):
    """422: a field is missing or wrong; `fields` names each (dotted paths with numeric indices)."""

    status, code = 422, "validation_failed"


class MethodNotAllowed(ApiError):
    """405: the path exists, the method does not."""

    status, code = 405, "method_not_allowed"

    def __init__(self, message: str, allowed: list[str]) -> None:
        """Args: message: the sentence. allowed: methods for the ``Allow`` header."""
        super().__init__(message)
        self.allowed = allowed

    def response(self) -> Response:
        """405 with an ``Allow`` header."""
        response = super().response()
        response.headers.append(("Allow", ", ".join(self.allowed)))
        return response
