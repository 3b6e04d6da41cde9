"""FactuurSturen errors as the service shows them: a status and a short plain-text body (text/html)."""

from __future__ import annotations

from sandboxes._server import Response

__all__ = ["BadRequest", "Conflict", "Forbidden", "FsError", "MethodNotAllowed", "NotFound", "Unauthorized",
           "error_response"]

CONTENT_TYPE = "text/html; charset=UTF-8"


def error_response(status: int, message: str) -> Response:
    """The service's error shape: plain text labelled text/html (cf. the doc's response-info example)."""
    return Response(status, message.encode("utf-8"), CONTENT_TYPE)


class FsError(Exception):
    """An error the service answers with; raised by the model and the wire layer alike."""

    status = 500

    def __init__(self, message: str) -> None:
        """Args: message: the plain-text body."""
        super().__init__(message)
        self.message = message

    def response(self) -> Response:
        """The wire answer for this error."""
        return error_response(self.status, self.message)


class BadRequest(FsError):
    """400: input the service refuses (missing or malformed field)."""

    status = 400


class Unauthorized(FsError):
    """401: missing or wrong user name / API key."""

    status = 401


class Forbidden(FsError):
    """403: not allowed (a client that still has documents; the hourly budget is spent)."""

    status = 403


class NotFound(FsError):
    """404: no such record or path."""

    status = 404


class MethodNotAllowed(FsError):
    """405: the path exists, the method does not (e.g. PUT on an invoice)."""

    status = 405

    def __init__(self, message: str, allowed: list[str]) -> None:
        """Args: message: the body. allowed: methods for the ``Allow`` header."""
        super().__init__(message)
        self.allowed = allowed

    def response(self) -> Response:
        """405 with an ``Allow`` header."""
        response = error_response(self.status, self.message)
        response.headers.append(("Allow", ", ".join(self.allowed)))
        return response


class Conflict(BadRequest):
    """400 as well: a duplicate (own invoice number, saved-invoice name) the service refuses."""
