"""The service's error answers: typed exceptions and their bodies in both API Platform flavours.

3.x (``rfc_7807_compliant_errors: false``): a JSON-LD request gets a legacy Hydra error
(``application/ld+json``, ``hydra:title``/``hydra:description``; validation as a
``ConstraintViolationList``); a plain-JSON request (and a 406) gets the legacy problem shape
(``type`` = the RFC 2616 link, ``title``, ``detail``). 4.x: every error is ``application/problem+json``
with ``title``, ``detail``, ``status``, ``type`` (``/errors/404``, ``/validation_errors/<code>``) and
``description``; JSON-LD requests also get ``@context``/``@id``/``@type``; a ``Link`` header points at
the Hydra error vocabulary. Authentication failures are LexikJWT's own ``{"code", "message"}`` in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandboxes._server import Response
from sandboxes.hydra.wire import API_PREFIX, dumps

__all__ = ["INVALID_EMAIL", "INVALID_TYPE", "NOT_BLANK", "NOT_NULL", "NO_SUCH_CHOICE", "NO_SUCH_COUNTRY",
           "NO_SUCH_CURRENCY", "TOO_LOW", "BadRequest", "HydraError", "MethodNotAllowed", "NotAcceptable", "NotFound",
           "ServerError", "TooManyRequests", "Unauthorized", "Unprocessable", "UnsupportedMediaType", "Violation",
           "error_response"]

_TITLE = "An error occurred"
_RFC2616 = "https://tools.ietf.org/html/rfc2616#section-10"
_LD = "application/ld+json; charset=utf-8"
_PROBLEM = "application/problem+json; charset=utf-8"
_ERROR_LINK = '<http://www.w3.org/ns/hydra/error>; rel="http://www.w3.org/ns/json-ld#error"'


@dataclass(frozen=True, slots=True)
class Violation:
    """One constraint violation: the property, Symfony's message and its constraint code (a UUID)."""

    path: str
    message: str
    code: str


# Symfony constraint codes carried in `violations[].code`.
NOT_BLANK = "c1051bb4-d103-4f74-8988-acbcafc7fdc3"
NOT_NULL = "ad32d13f-c3d4-423b-909a-857b961eb720"
INVALID_EMAIL = "bd79c0ab-ddba-46cc-a703-a7a4b08de310"
NO_SUCH_COUNTRY = "8f900c12-61bd-455d-9398-996cd040f32e"
NO_SUCH_CURRENCY = "69945ac1-2db4-405f-bec7-d2772f73df52"
INVALID_TYPE = "ba785a8c-82cb-4283-967c-3cf342181b40"
TOO_LOW = "ea4e51d1-3342-48bd-87f1-9e672cd90cad"
NO_SUCH_CHOICE = "8e179f1b-97aa-4560-a02f-2a8b42e49df7"


class HydraError(Exception):
    """An error answer of the API: a status, a message and extra headers."""

    status = 500

    def __init__(self, message: str, headers: list[tuple[str, str]] | None = None) -> None:
        """Args: message: the description/detail text. headers: extra response headers."""
        super().__init__(message)
        self.message = message
        self.headers = list(headers or [])


class BadRequest(HydraError):
    """400: unreadable JSON, bad IRIs, nested documents, wrong types, bad paging values."""

    status = 400


class Unauthorized(HydraError):
    """401 from the JWT authenticator (rendered in LexikJWT's own shape)."""

    status = 401


class NotFound(HydraError):
    """404: unknown item (also soft-deleted ones) or route."""

    status = 404


class MethodNotAllowed(HydraError):
    """405 with an ``Allow`` header."""

    status = 405

    def __init__(self, message: str, allowed: list[str]) -> None:
        """Args: message: the text. allowed: the methods the route has."""
        super().__init__(message, [("Allow", ", ".join(allowed))])


class NotAcceptable(HydraError):
    """406: no supported format in ``Accept``."""

    status = 406


class TooManyRequests(HydraError):
    """429 from the (optional) rate limiter, with ``Retry-After``."""

    status = 429


class ServerError(HydraError):
    """Any other status (injected faults): 5xx and the like."""

    def __init__(self, status: int, message: str) -> None:
        """Args: status: the HTTP status. message: the description."""
        super().__init__(message)
        self.status = status


class UnsupportedMediaType(HydraError):
    """415: a body in a content type the operation does not read."""

    status = 415


class Unprocessable(HydraError):
    """422: validation failed; carries the violations."""

    status = 422

    def __init__(self, violations: list[Violation]) -> None:
        """Args: violations: at least one."""
        super().__init__("\n".join(f"{v.path}: {v.message}" for v in violations))
        self.violations = violations


def _violations(err: Unprocessable) -> list[dict[str, str]]:
    return [{"propertyPath": v.path, "message": v.message, "code": v.code} for v in err.violations]


def _legacy(err: HydraError, fmt: str) -> tuple[dict[str, object], str]:
    """API Platform 3.x defaults: Hydra JSON-LD for JSON-LD requests, the old problem shape otherwise."""
    if fmt == "jsonld":
        if isinstance(err, Unprocessable):
            return {"@context": f"{API_PREFIX}/contexts/ConstraintViolationList", "@type": "ConstraintViolationList",
                    "hydra:title": _TITLE, "hydra:description": err.message,
                    "violations": _violations(err)}, _LD
        return {"@context": f"{API_PREFIX}/contexts/Error", "@type": "hydra:Error", "hydra:title": _TITLE,
                "hydra:description": err.message}, _LD
    doc: dict[str, object] = {"type": _RFC2616, "title": _TITLE, "detail": err.message}
    if isinstance(err, Unprocessable):
        doc["violations"] = _violations(err)
    return doc, _PROBLEM


def _problem(err: HydraError, fmt: str) -> dict[str, object]:
    """API Platform 4.x: RFC 7807 problem documents (with JSON-LD keys for JSON-LD requests)."""
    if isinstance(err, Unprocessable):
        kind = f"/validation_errors/{err.violations[0].code}"
        ld = {"@context": f"{API_PREFIX}/contexts/ConstraintViolation", "@id": f"{API_PREFIX}{kind}",
              "@type": "ConstraintViolation"}
        doc: dict[str, object] = {"status": 422, "violations": _violations(err), "detail": err.message,
                                  "description": err.message, "type": kind, "title": _TITLE}
    else:
        kind = f"/errors/{err.status}"
        ld = {"@context": f"{API_PREFIX}/contexts/Error", "@id": f"{API_PREFIX}{kind}", "@type": "Error"}
        doc = {"title": _TITLE, "detail": err.message, "status": err.status, "type": kind,
               "description": err.message}
    return {**ld, **doc} if fmt == "jsonld" else doc


def error_response(err: HydraError, fmt: str, flavour: str) -> Response:
    """Render `err` for a request negotiated to `fmt` ("jsonld", "json", or "problem" when none was).

    Args:
        err: the error.
        fmt: the negotiated response format.
        flavour: "3" (legacy errors) or "4" (problem+json).
    """
    headers = list(err.headers)
    if isinstance(err, Unauthorized):
        body = dumps({"code": 401, "message": err.message})
        return Response(401, body.encode(), "application/json", [("WWW-Authenticate", "Bearer"), *headers])
    if flavour == "4":
        doc, content_type = _problem(err, fmt), _PROBLEM
        headers.append(("Link", _ERROR_LINK))
    else:
        doc, content_type = _legacy(err, fmt)
    return Response(err.status, dumps(doc).encode(), content_type, headers)
