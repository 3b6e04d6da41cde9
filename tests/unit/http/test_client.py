"""HttpSession on a MockTransport: retries, no blind retry of writes, JSON decoding, typed errors."""

from __future__ import annotations

import json
import random
import ssl
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import tenacity

from connector.errors import (
    AuthFailed,
    ConfigError,
    NotFound,
    ProtocolError,
    RateLimited,
    Timeout,
    Unavailable,
)
from connector.http import (
    ApiKeyHeader,
    BasicAuth,
    BearerToken,
    Classifier,
    HttpConfig,
    HttpSession,
    Pacer,
    forbidden_with_zero_remaining_is_rate_limit,
    retry_policy,
)
from tests.unit.http.conftest import FakeClock, respond, sequence

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def session_for(clock: FakeClock, make_config: Callable[..., HttpConfig]) -> Callable[..., HttpSession]:
    def build(handler: Handler, **config: Any) -> HttpSession:
        options = {k: config.pop(k) for k in ("classifier", "on_response", "pacer") if k in config}
        return HttpSession(make_config(**config), clock=clock, transport=httpx.MockTransport(handler), **options)

    return build


def test_5xx_is_retried_then_succeeds(session_for: Callable[..., HttpSession], clock: FakeClock) -> None:
    handler, seen = sequence(httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"ok": True}))
    with session_for(handler) as session:
        assert session.get_json("ping") == {"ok": True}
    assert len(seen) == 3 and session.requests_made == 3
    assert len(clock.slept) == 2  # two backoffs, on the fake clock
    assert 0.5 <= clock.slept[0] <= 1.0 and 1.0 <= clock.slept[1] <= 2.0  # equal-jitter exponential


def test_transient_errors_give_up_after_max_attempts_with_the_typed_error(
    session_for: Callable[..., HttpSession],
) -> None:
    handler, seen = sequence(httpx.Response(500, text="boom"))
    session = session_for(handler, max_attempts=3)
    with pytest.raises(Unavailable) as caught:
        session.get_json("ping")
    assert caught.value.status == 500 and len(seen) == 3
    assert "boom" in str(caught.value)


def test_permanent_errors_are_not_retried(session_for: Callable[..., HttpSession]) -> None:
    handler, seen = sequence(httpx.Response(404))
    with pytest.raises(NotFound):
        session_for(handler).get_json("invoices/9")
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        pytest.param(httpx.ReadTimeout("timed out"), Timeout, id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError("Server disconnected"), Unavailable, id="dropped"),
    ],
)
def test_post_with_retry_false_is_never_resent(
    session_for: Callable[..., HttpSession], exc: Exception, expected: type[Exception]
) -> None:
    # Given a service that times out (the invoice may or may not have been created)
    handler, seen = sequence(exc, httpx.Response(201, json={"id": 1}))
    session = session_for(handler)
    # When the connector creates an invoice without retries
    with pytest.raises(expected) as caught:
        session.request("POST", "invoices", json={"total": Decimal("10.00")}, retry=False)
    # Then it was sent exactly once and the caller learns it may have happened
    assert len(seen) == 1 and session.requests_made == 1
    assert "may or may not have happened" in str(caught.value)


def test_get_on_timeout_is_retried(session_for: Callable[..., HttpSession]) -> None:
    handler, seen = sequence(httpx.ReadTimeout("timed out"), httpx.Response(200, json=[]))
    assert session_for(handler).get_json("clients") == []
    assert len(seen) == 2


def test_retry_after_seconds_is_waited(session_for: Callable[..., HttpSession], clock: FakeClock) -> None:
    handler, seen = sequence(httpx.Response(429, headers={"Retry-After": "42"}), httpx.Response(200, json=1))
    assert session_for(handler).get_json("x") == 1
    assert len(seen) == 2
    assert clock.total_slept == pytest.approx(42.0)  # the pacer's hold and the retry wait are the same 42 s


def test_retry_after_http_date_is_waited(session_for: Callable[..., HttpSession], clock: FakeClock) -> None:
    # clock: 09:00:10.5; the service's Date says 09:00:10 and asks to come back at 09:01:00
    headers = {"Retry-After": "Mon, 06 Jan 2025 09:01:00 GMT", "Date": "Mon, 06 Jan 2025 09:00:10 GMT"}
    handler, _ = sequence(httpx.Response(429, headers=headers), httpx.Response(200, json=1))
    session_for(handler).get_json("x")
    assert clock.total_slept == pytest.approx(50.0)


def test_retry_after_beyond_max_retry_seconds_is_raised_at_once(
    session_for: Callable[..., HttpSession], clock: FakeClock
) -> None:
    handler, seen = sequence(httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200, json=1))
    with pytest.raises(RateLimited) as caught:
        session_for(handler, max_retry_seconds=600).get_json("x")
    assert caught.value.retry_after == 3600.0
    assert len(seen) == 1 and clock.slept == []


def test_factuursturen_403_waits_for_the_next_window_then_succeeds(
    session_for: Callable[..., HttpSession], clock: FakeClock
) -> None:
    # Given the budget was spent by someone else: the first answer is 403 with remaining 0
    spent = httpx.Response(
        403,
        text="Forbidden",
        headers={
            "X-RateLimit-Limit": "250",
            "X-RateLimit-Remaining": "0",
            "Date": "Mon, 06 Jan 2025 09:00:10 GMT",
        },
    )
    handler, seen = sequence(spent, httpx.Response(200, json=[], headers={"X-RateLimit-Remaining": "249"}))
    session = session_for(
        handler,
        rate_limit=250,
        rate_window_seconds=3600,
        max_retry_seconds=7200,
        classifier=Classifier({403: forbidden_with_zero_remaining_is_rate_limit}),
    )
    # When a list is read
    assert session.get_json("invoices") == []
    # Then the retry waited out a whole window from the 403 (nothing says when that window began) instead
    # of failing
    assert len(seen) == 2
    assert clock.now().hour == 10 and clock.total_slept == pytest.approx(3600.4, abs=1)


def test_get_json_keeps_money_exact(session_for: Callable[..., HttpSession]) -> None:
    body = b'{"price": 12.345, "qty": 3, "total": "37.04", "tiny": 1e-7}'
    data = session_for(respond(text=body.decode())).get_json("invoices/1")
    assert data == {"price": Decimal("12.345"), "qty": 3, "total": "37.04", "tiny": Decimal("1E-7")}
    assert isinstance(data["price"], Decimal) and not any(isinstance(v, float) for v in data.values())


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        pytest.param("<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>", "Maintenance", id="html"),
        pytest.param('{"invoices": [{"id": 1}, {"id"', "expected JSON", id="truncated"),
        pytest.param('<?xml version="1.0"?><clients/>', "expected JSON", id="xml"),
        pytest.param("", "empty body", id="empty"),
        pytest.param('{"amount": NaN}', "non-finite", id="nan"),
    ],
)
def test_non_json_is_a_protocol_error(session_for: Callable[..., HttpSession], body: str, shown: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        session_for(respond(text=body, headers={"Content-Type": "text/html"})).get_json("clients")
    text = str(caught.value)
    assert text.startswith("[acme-main] GET /v1/clients -> 200")
    assert shown in text and len(text) < 400


def test_json_labelled_text_html_is_accepted(session_for: Callable[..., HttpSession]) -> None:
    # FactuurSturen's own doc shows JSON served as text/html
    session = session_for(respond(text='[{"id": "1"}]', headers={"Content-Type": "text/html"}))
    assert session.get_json("clients") == [{"id": "1"}]


def test_json_bodies_send_decimals_as_exact_numbers(session_for: Callable[..., HttpSession]) -> None:
    handler, seen = sequence(httpx.Response(201, json={"id": 5}))
    session_for(handler).request(
        "POST", "invoices", json={"price": Decimal("19.995"), "lines": [Decimal("1")]}, retry=False
    )
    assert seen[0].content == b'{"price":19.995,"lines":[1]}'
    assert seen[0].headers["content-type"] == "application/json"
    assert json.loads(seen[0].content, parse_float=Decimal)["price"] == Decimal("19.995")


@pytest.mark.parametrize(
    ("auth", "header", "value"),
    [
        pytest.param(BasicAuth("tester", "k3y"), "authorization", "Basic dGVzdGVyOmszeQ==", id="basic"),
        pytest.param(BearerToken("tok"), "authorization", "Bearer tok", id="bearer"),
        pytest.param(ApiKeyHeader("X-Api-Key", "ffk_1"), "x-api-key", "ffk_1", id="api-key"),
    ],
)
def test_auth_objects_set_the_header(
    session_for: Callable[..., HttpSession], auth: httpx.Auth, header: str, value: str
) -> None:
    handler, seen = sequence(httpx.Response(200, json={}))
    session_for(handler, auth=auth, headers={"Accept": "application/json"}).get_json("me")
    assert seen[0].headers[header] == value
    assert seen[0].headers["accept"] == "application/json"
    assert "k3y" not in repr(auth) and "tok" not in repr(auth).replace("token", "")


def test_absolute_urls_off_the_service_are_refused(session_for: Callable[..., HttpSession]) -> None:
    handler, seen = sequence(httpx.Response(200, json={}))
    session = session_for(handler, auth=BearerToken("tok"))
    with pytest.raises(ProtocolError, match="refusing to send credentials"):
        session.get_json("https://evil.test/collect")
    assert session.get_json("https://api.acme.test/v1/next?page=2") == {}
    assert len(seen) == 1 and seen[0].url.path == "/v1/next"


def test_redirects_are_not_followed(session_for: Callable[..., HttpSession]) -> None:
    handler, seen = sequence(httpx.Response(301, headers={"Location": "https://elsewhere.test/v1/x"}))
    with pytest.raises(ProtocolError, match="unexpected redirect"):
        session_for(handler).get_json("x")
    assert len(seen) == 1


def test_on_response_reports_every_attempt(session_for: Callable[..., HttpSession]) -> None:
    calls: list[tuple[str, str, int, float]] = []
    handler, _ = sequence(httpx.ConnectError("refused"), httpx.Response(500), httpx.Response(200, json=1))
    session_for(handler, on_response=lambda *a: calls.append(a)).get_json("x")
    assert [(p, m, s) for p, m, s, _ in calls] == [
        ("acme", "GET", 0),
        ("acme", "GET", 500),
        ("acme", "GET", 200),
    ]


def test_a_failing_metrics_hook_does_not_fail_the_request(session_for: Callable[..., HttpSession]) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("metrics down")

    assert session_for(respond(json=1), on_response=broken).get_json("x") == 1


def test_server_now_and_shared_pacer(clock: FakeClock, make_config: Callable[..., HttpConfig]) -> None:
    # Two sessions of one connection (a pull job and a push job) share the pacer and so the budget
    pacer = Pacer(clock, limit=3, window_seconds=60)
    handler = respond(json=[], headers={"Date": "Mon, 06 Jan 2025 09:00:10 GMT"})
    a = HttpSession(make_config(), clock=clock, pacer=pacer, transport=httpx.MockTransport(handler))
    b = HttpSession(make_config(), clock=clock, pacer=pacer, transport=httpx.MockTransport(handler))
    assert a.server_now() is None
    a.get_json("x"), b.get_json("x"), a.get_json("x")
    assert clock.slept == []
    b.get_json("x")
    assert clock.slept == [pytest.approx(60.06, abs=0.01)]  # a window from the first answer, + drift and margin
    assert b.server_now() is not None and b.server_now() == a.server_now()


def test_retry_policy_only_retries_transient(clock: FakeClock, make_config: Callable[..., HttpConfig]) -> None:
    policy = retry_policy(make_config(max_attempts=4), clock, rng=random.Random(1))
    assert isinstance(policy, tenacity.Retrying)
    calls = {"n": 0}

    def auth_fails() -> None:
        calls["n"] += 1
        raise AuthFailed("no")

    with pytest.raises(AuthFailed):
        policy(auth_fails)
    assert calls["n"] == 1


def test_retry_policy_stops_on_the_injected_clock(clock: FakeClock, make_config: Callable[..., HttpConfig]) -> None:
    # Each attempt "takes" 100 s of fake time; 250 s allowed in total
    policy = retry_policy(make_config(max_attempts=50, max_retry_seconds=250), clock, rng=random.Random(1))
    calls = {"n": 0}

    def slow_failure() -> None:
        calls["n"] += 1
        clock.advance(100)
        raise Unavailable("down", status=503)

    with pytest.raises(Unavailable):
        policy(slow_failure)
    assert calls["n"] == 3


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        pytest.param({"verify": False}, "verify", id="verify-false"),
        pytest.param({"base_url": "api.acme.test"}, "base_url", id="no-scheme"),
        pytest.param({"max_attempts": 0}, "max_attempts", id="no-attempts"),
        pytest.param({"rate_limit": 10, "rate_reserve": 10}, "rate_reserve", id="reserve-eats-budget"),
        pytest.param({"rate_window_seconds": 0}, "rate_window_seconds", id="zero-window"),
        pytest.param({"timeout_seconds": 0}, "timeout_seconds", id="zero-timeout"),
        pytest.param({"deadline_seconds": 0}, "deadline_seconds", id="zero-deadline"),
        pytest.param({"max_body_bytes": 0}, "max_body_bytes", id="no-body-allowed"),
    ],
)
def test_invalid_configs_name_the_key(
    make_config: Callable[..., HttpConfig], overrides: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(**overrides)
    assert caught.value.key == key and "acme-main" in str(caught.value)


def test_a_missing_ca_bundle_is_a_config_error(clock: FakeClock, make_config: Callable[..., HttpConfig]) -> None:
    with pytest.raises(ConfigError) as caught:
        HttpSession(make_config(verify="/nonexistent/ca.pem"), clock=clock)
    assert caught.value.key == "verify" and "/nonexistent/ca.pem" in str(caught.value)


def test_a_body_that_cannot_be_decoded_is_a_protocol_error(session_for: Callable[..., HttpSession]) -> None:
    handler = respond(text="not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(ProtocolError, match="DecodingError"):
        session_for(handler).get_json("x")


def test_sessions_share_one_verifying_tls_context(clock: FakeClock, make_config: Callable[..., HttpConfig]) -> None:
    # Building a TLS context loads the CA bundle (tens of milliseconds): one per process, never unverified.
    first, second = HttpSession(make_config(), clock=clock), HttpSession(make_config(), clock=clock)
    try:
        contexts = [s._client._transport._pool._ssl_context for s in (first, second)]  # type: ignore[attr-defined]
        assert contexts[0] is contexts[1]
        assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname
    finally:
        first.close()
        second.close()


def test_an_in_memory_body_past_the_limit_is_a_protocol_error(session_for: Callable[..., HttpSession]) -> None:
    # httpx.MockTransport hands over bodies already read: the limit still applies (sockets: tests/hostile)
    session = session_for(respond(json=list(range(10))), max_body_bytes=10)
    with pytest.raises(ProtocolError, match="GET /v1/big -> 200: body larger than the limit of 10 bytes"):
        session.get_json("big")
    assert session_for(respond(json=[1, 2]), max_body_bytes=10).get_json("small") == [1, 2]
