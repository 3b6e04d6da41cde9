"""No secret ever reaches an exception text or a log line."""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import Callable

import httpx
import pytest

from connector.errors import AuthFailed, ProviderError, Unavailable
from connector.http import BasicAuth, HttpConfig, HttpSession, RedactingFilter, excerpt, redact
from tests.unit.http.conftest import FakeClock

SECRET = "fs-s3cret-KEY/+=9"
BASIC = base64.b64encode(f"tester:{SECRET}".encode()).decode()


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        pytest.param(f"key is {SECRET}", [SECRET], "key is ***", id="literal"),
        pytest.param("a=fs-s3cret-KEY%2F%2B%3D9", [SECRET], "a=***", id="url-encoded"),
        pytest.param(f"Authorization: Basic {BASIC}", [], "Authorization: Basic ***", id="basic-header"),
        pytest.param(f"sent {BASIC} raw", [SECRET], "sent *** raw", id="bare-basic-token-of-a-known-secret"),
        pytest.param("Authorization: Bearer abc.def-ghi", [], "Authorization: Bearer ***", id="bearer-header"),
        pytest.param("{'x-api-key': 'ffk_live_123'}", [], "{'x-api-key': '***'}", id="api-key-in-a-dict-repr"),
        pytest.param("X-Api-Key: ffk_live_123", [], "X-Api-Key: ***", id="api-key-header"),
        pytest.param("https://tester:pw@api.test/v1", [], "https://***@api.test/v1", id="url-userinfo"),
        pytest.param("GET /v1/x?api_key=zzz&page=2", [], "GET /v1/x?api_key=***&page=2", id="query-key"),
        pytest.param("token=abc; next", [], "token=***; next", id="token-param"),
        pytest.param("nothing to see", ["s3"], "nothing to see", id="untouched"),
        pytest.param("", [SECRET], "", id="empty"),
    ],
)
def test_redact_table(text: str, secrets: list[str], expected: str) -> None:
    assert redact(text, secrets) == expected


def test_excerpt_redacts_before_it_cuts() -> None:
    text = "x" * 195 + SECRET  # the cut at 200 would leave half the secret
    assert "fs-s3" not in excerpt(text, [SECRET])
    assert len(excerpt("y" * 1000)) == 200


def test_redacting_filter_scrubs_messages_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("connector.http.test_redact")
    redactor = RedactingFilter([SECRET])
    logger.addFilter(redactor)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("calling with key %s and header %r", SECRET, {"Authorization": f"Basic {BASIC}"})
            try:
                raise ValueError(f"bad key {SECRET}")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.removeFilter(redactor)
    assert SECRET not in caplog.text and BASIC not in caplog.text
    assert "calling with key ***" in caplog.text and "bad key ***" in caplog.text


def echoing(status: int) -> Callable[[httpx.Request], httpx.Response]:
    """A careless service that echoes the request (with its credentials) in the error body."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = f"denied for {request.url} headers={dict(request.headers)} key={SECRET}"
        return httpx.Response(status, text=body, headers={"WWW-Authenticate": 'Basic realm="api"'})

    return handler


@pytest.mark.parametrize(("status", "expected"), [(401, AuthFailed), (503, Unavailable), (422, ProviderError)])
def test_errors_and_logs_never_carry_the_secret(
    clock: FakeClock, status: int, expected: type[ProviderError], caplog: pytest.LogCaptureFixture
) -> None:
    config = HttpConfig(
        provider="factuursturen",
        connection="fs-main",
        base_url="https://api.fs.test/api/v1",
        auth=BasicAuth("tester", SECRET),
        max_attempts=3,
    )
    session = HttpSession(config, clock=clock, transport=httpx.MockTransport(echoing(status)))
    with caplog.at_level(logging.DEBUG, logger="connector.http"), pytest.raises(expected) as caught:
        session.get_json("clients", params={"api_key": SECRET})
    rendered = "".join(traceback.format_exception(caught.value)) + repr(caught.value) + caught.value.detail
    for leaked in (SECRET, BASIC, "fs-s3cret"):
        assert leaked not in rendered
        assert leaked not in caplog.text
    assert str(caught.value).startswith(f"[fs-main] GET /api/v1/clients -> {status}")


def test_transport_errors_do_not_leak_through_their_cause(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url} with {request.headers['authorization']}")

    config = HttpConfig(
        provider="p", connection="c", base_url="https://api.test", auth=BasicAuth("u", SECRET), max_attempts=1
    )
    session = HttpSession(config, clock=clock, transport=httpx.MockTransport(handler))
    with pytest.raises(Unavailable) as caught:
        session.get_json("x", params={"token": SECRET})
    rendered = "".join(traceback.format_exception(caught.value))
    assert SECRET not in rendered and base64.b64encode(f"u:{SECRET}".encode()).decode() not in rendered
    assert "ConnectError" in str(caught.value)
