"""The status table, the FactuurSturen 403 override, Retry-After parsing and transport exceptions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connector.errors import (
    AuthFailed,
    NotFound,
    Permanent,
    ProtocolError,
    ProviderError,
    RateLimited,
    Rejected,
    Timeout,
    Transient,
    Unavailable,
    Unsupported,
)
from connector.http import (
    Classifier,
    classify_exception,
    forbidden_with_zero_remaining_is_rate_limit,
    rejection_fields,
    retry_after_seconds,
)

URL = "https://api.acme.test/v1/invoices?api_key=hunter2-secret&page=3"


def response(
    status: int, body: Any = None, headers: dict[str, str] | None = None, method: str = "GET"
) -> httpx.Response:
    request = httpx.Request(method, URL)
    if isinstance(body, str | bytes):
        return httpx.Response(status, content=body, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def classify(resp: httpx.Response, classifier: Classifier | None = None) -> ProviderError | None:
    return (classifier or Classifier()).classify(resp, provider="acme", connection="acme-main")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(200, None, id="200-ok"),
        pytest.param(201, None, id="201-created"),
        pytest.param(204, None, id="204-no-content"),
        pytest.param(301, ProtocolError, id="301-redirect"),
        pytest.param(400, Rejected, id="400"),
        pytest.param(401, AuthFailed, id="401"),
        pytest.param(403, AuthFailed, id="403-default"),
        pytest.param(404, NotFound, id="404"),
        pytest.param(405, Rejected, id="405"),
        pytest.param(408, Timeout, id="408"),
        pytest.param(409, Rejected, id="409"),
        pytest.param(410, NotFound, id="410"),
        pytest.param(418, Rejected, id="418-other-4xx"),
        pytest.param(422, Rejected, id="422"),
        pytest.param(429, RateLimited, id="429"),
        pytest.param(500, Unavailable, id="500"),
        pytest.param(501, Unsupported, id="501"),
        pytest.param(502, Unavailable, id="502"),
        pytest.param(503, Unavailable, id="503"),
        pytest.param(599, Unavailable, id="599"),
        pytest.param(600, ProtocolError, id="600-nonsense"),
        pytest.param(101, ProtocolError, id="101-unexpected"),
    ],
)
def test_status_table(status: int, expected: type[ProviderError] | None) -> None:
    err = classify(response(status, {"message": "nope"}))
    if expected is None:
        assert err is None
    else:
        assert type(err) is expected
        assert err.provider == "acme" and err.connection == "acme-main"
        assert str(err).startswith("[acme-main] GET /v1/invoices ")
        assert str(status) in str(err)
        assert "hunter2" not in str(err) and "page=3" not in str(err)  # no query string in messages


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, Transient),
        (503, Transient),
        (408, Transient),
        (401, Permanent),
        (404, Permanent),
        (422, Permanent),
    ],
)
def test_retryability_is_decided_by_the_type(status: int, kind: type[ProviderError]) -> None:
    assert isinstance(classify(response(status)), kind)


def test_typed_fields_are_filled() -> None:
    assert classify(response(503)).status == 503  # type: ignore[union-attr]
    assert classify(response(403)).status == 403  # type: ignore[union-attr]
    assert classify(response(410)).status == 410  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("headers", "expected", "retry_after"),
    [
        pytest.param({"X-RateLimit-Limit": "250", "X-RateLimit-Remaining": "0"}, RateLimited, None, id="spent"),
        pytest.param({"X-RateLimit-Remaining": "0", "Retry-After": "120"}, RateLimited, 120.0, id="spent-retry-after"),
        pytest.param({"X-RateLimit-Limit": "250", "X-RateLimit-Remaining": "17"}, AuthFailed, None, id="budget-left"),
        pytest.param({}, AuthFailed, None, id="no-headers"),
    ],
)
def test_factuursturen_403_override(
    headers: dict[str, str], expected: type[ProviderError], retry_after: float | None
) -> None:
    classifier = Classifier({403: forbidden_with_zero_remaining_is_rate_limit})
    err = classify(response(403, "Forbidden", headers), classifier)
    assert type(err) is expected
    assert err.connection == "acme-main"  # the override knows no names; the classifier adds them
    assert str(err).startswith("[acme-main] GET /v1/invoices -> 403")
    if isinstance(err, RateLimited):
        assert err.retry_after == retry_after
    # other statuses still follow the table
    assert type(classify(response(401), classifier)) is AuthFailed


def test_an_override_returning_none_means_success() -> None:
    classifier = Classifier({404: lambda r: None})
    assert classify(response(404), classifier) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"Retry-After": "30"}, 30.0, id="seconds"),
        pytest.param({"Retry-After": " 2.5 "}, 2.5, id="fractional-seconds"),
        pytest.param({"Retry-After": "-4"}, 0.0, id="negative-clamped"),
        pytest.param(
            {"Retry-After": "Mon, 06 Jan 2025 09:02:00 GMT", "Date": "Mon, 06 Jan 2025 09:00:30 GMT"},
            90.0,
            id="http-date-vs-date-header",
        ),
        pytest.param(
            {"Retry-After": "Mon, 06 Jan 2025 09:00:00 GMT", "Date": "Mon, 06 Jan 2025 09:00:30 GMT"},
            0.0,
            id="http-date-in-the-past",
        ),
        pytest.param({"Retry-After": "Mon, 06 Jan 2025 09:01:10 GMT"}, 60.0, id="http-date-vs-now"),
        pytest.param({"Retry-After": "soon"}, None, id="garbage"),
        pytest.param({}, None, id="absent"),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    now = datetime(2025, 1, 6, 9, 0, 10, tzinfo=UTC)
    assert retry_after_seconds(response(429, headers=headers), now) == expected


def test_429_carries_retry_after_in_both_forms() -> None:
    now = datetime(2025, 1, 6, 9, 0, 10, tzinfo=UTC)
    seconds = Classifier().classify(response(429, headers={"Retry-After": "7"}), provider="p", connection="c")
    dated = Classifier().classify(
        response(429, headers={"Retry-After": "Mon, 06 Jan 2025 09:00:40 GMT"}),
        provider="p",
        connection="c",
        now=now,
    )
    assert isinstance(seconds, RateLimited) and seconds.retry_after == 7.0
    assert isinstance(dated, RateLimited) and dated.retry_after == 30.0


@pytest.mark.parametrize(
    ("body", "code", "message", "details"),
    [
        pytest.param(
            {
                "error": {
                    "code": "validation_error",
                    "message": "Invalid invoice",
                    "details": {"lines[0].vat_rate": "must be one of 0, 6, 12, 21"},
                }
            },
            "validation_error",
            "Invalid invoice",
            {"lines[0].vat_rate": "must be one of 0, 6, 12, 21"},
            id="facturalia-envelope",
        ),
        pytest.param(
            {
                "title": "An error occurred",
                "detail": "number: This value should not be blank.",
                "violations": [{"propertyPath": "number", "message": "This value should not be blank."}],
            },
            "",
            "number: This value should not be blank.",
            {"number": "This value should not be blank."},
            id="problem-json",
        ),
        pytest.param(
            {"@type": "hydra:Error", "hydra:title": "An error occurred", "hydra:description": "bad date"},
            "",
            "bad date",
            {},
            id="legacy-hydra",
        ),
        pytest.param(
            {"code": 42, "message": "no", "errors": {"email": ["invalid", "taken"]}},
            "42",
            "no",
            {"email": "invalid; taken"},
            id="errors-dict",
        ),
        pytest.param(
            {"error": "invalid_request"},
            "invalid_request",
            '{"error":"invalid_request"}',
            {},
            id="plain-error-string",
        ),
        pytest.param("Client heeft nog facturen", "", "Client heeft nog facturen", {}, id="opaque-text"),
        pytest.param("", "", "(empty body)", {}, id="empty"),
    ],
)
def test_rejected_reads_the_service_shape(body: Any, code: str, message: str, details: dict[str, str]) -> None:
    resp = response(422, body)
    assert rejection_fields(resp) == (code, message, details)
    err = classify(resp)
    assert isinstance(err, Rejected)
    assert (err.status, err.code, err.details) == (422, code, details)
    assert message in str(err)


def test_body_excerpt_is_short_and_flattened() -> None:
    html = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000 + "</body></html>"
    err = classify(response(502, html))
    assert "502 Bad Gateway" in str(err)
    assert "<title>" not in str(err)
    assert len(err.detail) < 260  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        pytest.param(httpx.ConnectError("[Errno 111] Connection refused"), Unavailable, id="refused"),
        pytest.param(httpx.ReadError("connection reset"), Unavailable, id="reset"),
        pytest.param(
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            Unavailable,
            id="dropped",
        ),
        pytest.param(httpx.ConnectTimeout("timed out"), Timeout, id="connect-timeout"),
        pytest.param(httpx.ReadTimeout("timed out"), Timeout, id="read-timeout"),
        pytest.param(httpx.PoolTimeout("timed out"), Timeout, id="pool-timeout"),
        pytest.param(httpx.UnsupportedProtocol("ftp"), ProtocolError, id="unsupported-protocol"),
        pytest.param(httpx.DecodingError("bad gzip"), ProtocolError, id="decoding"),
    ],
)
def test_transport_exceptions_table(exc: Exception, expected: type[ProviderError]) -> None:
    request = httpx.Request("POST", URL)
    err = classify_exception(exc, request, provider="acme", connection="acme-main", secrets=["hunter2-secret"])
    assert type(err) is expected
    assert str(err).startswith("[acme-main] POST /v1/invoices: ")
    assert "hunter2" not in str(err)
