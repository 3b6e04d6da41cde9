"""The Facturalia provider against its sandbox over real HTTPS: idempotent creates, TLS, typed errors."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from connector.app import App
from connector.errors import (
    AuthFailed,
    ConfigError,
    IdempotencyConflict,
    Permanent,
    ProtocolError,
    RateLimited,
    Rejected,
    Unavailable,
    Unsupported,
)
from connector.providers.base import AuthScheme, NoStamps
from connector.providers.facturalia import FacturaliaProvider, InvalidPayload, MissingScope, UntrustedCertificate
from connector.providers.registry import get_provider_class
from connector.settings import Settings, load_connections
from tests.facturalia.harness import FacturaliaHarness
from tests.sandbox_time import LinkedClock


def provider(fac: FacturaliaHarness, transport: httpx.BaseTransport | None = None, clock: LinkedClock | None = None,
             **overrides: Any) -> FacturaliaProvider:
    """A provider built the way the daemon builds it (App.provider), for a connection to the sandbox."""
    conn = fac.connection(**overrides)
    app = App(Settings(), clock=clock, connections=[conn])
    if clock is not None:
        clock.follow(app, conn.name)
    built = app.provider(conn, transport=transport)
    assert isinstance(built, FacturaliaProvider)
    return built


# -- contract surface -----------------------------------------------------------------------------------


def test_a_push_only_provider_declares_so_and_refuses_reads(fac: FacturaliaHarness) -> None:
    p = provider(fac)
    assert get_provider_class("facturalia") is FacturaliaProvider
    caps = FacturaliaProvider.capabilities
    assert (caps.readable, caps.writable, caps.idempotency_keys) == (frozenset(), frozenset({"invoice"}), True)
    assert FacturaliaProvider.auth_scheme == AuthScheme.bearer()
    assert p.streams() == [] and p.reference_data({"countrylist"}) == {}
    with pytest.raises(Unsupported, match="no read API"):
        p.pull("invoices", None, None, {}, NoStamps())
    with pytest.raises(Unsupported, match="no read API"):
        p.list_ids("invoice")
    assert p.server_now() is None and p.requests_made == 0


@pytest.mark.parametrize(("kind", "operation"), [("client", "create"), ("payment", "create"),
                                                 ("invoice", "update"), ("invoice", "delete")])
def test_other_kinds_and_operations_are_unsupported_without_a_request(
    fac: FacturaliaHarness, kind: str, operation: str
) -> None:
    p = provider(fac)
    with pytest.raises(Unsupported) as caught:
        p.write(kind, operation, fac.sample_invoice_payload(), "1", idempotency_key="k")
    assert caught.value.reason and p.requests_made == 0 and fac.requests() == []


# -- idempotent creates -----------------------------------------------------------------------------------


def test_the_same_invoice_twice_with_the_same_key_is_one_invoice(fac: FacturaliaHarness) -> None:
    p = provider(fac)
    first = p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="inv-1:v1")
    assert p.last_created is not None and not p.last_created.replayed
    assert p.last_created.totals == {"excl": Decimal("149.99"), "vat": Decimal("27.00"), "incl": Decimal("176.99")}
    again = p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="inv-1:v1")
    assert again == first and p.last_created.replayed
    invoices = fac.state()["invoices"]
    assert len(invoices) == 1
    assert invoices[0]["idempotency_keys"] == ["inv-1:v1"] and invoices[0]["replays"] == 1
    assert invoices[0]["request"]["invoice"] == {"date": "2025-09-26", "due_days": 30, "language": "nl"}
    assert p.server_now() is not None and abs(p.server_now() - datetime.now(UTC)) < timedelta(minutes=1)


def test_the_same_key_with_a_changed_body_is_an_idempotency_conflict(fac: FacturaliaHarness) -> None:
    p = provider(fac)
    p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="inv-1:v1")
    changed = fac.sample_invoice_payload()
    changed["lines"][0]["unit_price"] = Decimal("130.00")
    with pytest.raises(IdempotencyConflict) as caught:
        p.write("invoice", "create", changed, None, idempotency_key="inv-1:v1")
    assert (caught.value.status, caught.value.code) == (409, "idempotency_conflict")
    assert isinstance(caught.value, Rejected) and caught.value.details == {}
    assert fac.invoice_count() == 1


def test_a_dropped_answer_after_commit_is_retried_with_the_same_key(fac: FacturaliaHarness) -> None:
    fac.faults([{"kind": "drop_after_commit"}])
    p = provider(fac)
    created = p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="drop-1")
    assert p.last_created is not None and p.last_created.replayed
    assert fac.request_statuses() == [0, 201] and fac.invoice_count() == 1
    assert fac.state()["invoices"][0]["id"] == int(created)


def test_a_caller_retry_after_a_drop_with_the_same_key_is_one_invoice(fac: FacturaliaHarness) -> None:
    fac.faults([{"kind": "drop_after_commit"}])
    p = provider(fac, max_attempts=1)
    with pytest.raises(Unavailable):
        p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="drop-2")
    assert fac.invoice_count() == 1
    created = p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="drop-2")
    assert p.last_created is not None and p.last_created.replayed
    assert fac.state()["invoices"][0]["id"] == int(created) and fac.invoice_count() == 1


def test_a_create_without_any_key_is_not_retried_after_a_drop(fac: FacturaliaHarness) -> None:
    fac.faults([{"kind": "drop_after_commit"}])
    p = provider(fac)
    with pytest.raises(Unavailable, match="may or may not have happened"):
        p.write("invoice", "create", fac.sample_invoice_payload(), None)
    assert fac.request_statuses() == [0] and fac.invoice_count() == 1


def test_a_server_error_is_retried_and_then_created_once(fac: FacturaliaHarness) -> None:
    fac.faults([{"kind": "status", "status": 500}])
    p = provider(fac)
    p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="k")
    assert fac.request_statuses() == [500, 201] and fac.invoice_count() == 1


def test_the_request_carries_the_json_charset_the_key_and_exact_decimal_numbers(fac: FacturaliaHarness) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": 9, "number": "2025-0009"})

    p = provider(fac, transport=httpx.MockTransport(handler))
    payload = fac.sample_invoice_payload()
    del payload["invoice"]["due_days"]
    payload["invoice"].update(number=None, due_date="2025-10-26")  # the mapping's shape: a due date
    payload["customer"]["email"] = None
    assert p.write("invoice", "create", payload, None, idempotency_key="key-1") == "9"
    request = seen[0]
    assert request.method == "POST" and request.url.path.endswith("/api/v1/invoices")
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["idempotency-key"] == "key-1"
    assert request.headers["authorization"] == f"Bearer {fac.api_key}"
    assert b'"unit_price":120.00' in request.content and b'"unit_price":9.995' in request.content
    sent = json.loads(request.content)
    assert sent["invoice"] == {"date": "2025-09-26", "due_days": 30, "language": "nl"}  # no nulls, no due_date
    assert "email" not in sent["customer"]
    assert payload["invoice"]["due_date"] == "2025-10-26"  # the caller's payload is left as it was


# -- transport security -----------------------------------------------------------------------------------


def test_plain_http_is_refused_unless_the_connection_is_a_sandbox(fac: FacturaliaHarness, tmp_path: Path) -> None:
    plain = fac.server.base_url.replace("https://", "http://")
    with pytest.raises(ValidationError, match="plain http:// is refused"):
        fac.connection(base_url=plain)
    toml = tmp_path / "connections.toml"
    toml.write_text(f'[connections.fac]\nprovider = "facturalia"\nbase_url = "{plain}"\napi_key_env = "X"\n')
    with pytest.raises(ConfigError, match="plain http:// is refused"):
        load_connections(toml)
    p = provider(fac, base_url=plain, sandbox=True)  # allowed for a sandbox; this one still speaks TLS only
    with pytest.raises(Rejected, match="plain HTTP request was sent to HTTPS port") as caught:
        p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="k")
    assert caught.value.status == 400
    assert fac.invoice_count() == 0 and fac.requests() == []


def test_the_certificate_is_verified_against_the_ca_bundle_only(fac: FacturaliaHarness) -> None:
    trusted = provider(fac)
    assert trusted.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="k") == "1"
    untrusted = provider(fac, ca_bundle=None, max_attempts=2)  # the default trust store
    with pytest.raises(UntrustedCertificate, match="CERTIFICATE_VERIFY_FAILED") as caught:
        untrusted.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="k2")
    assert isinstance(caught.value, Permanent) and "ca_bundle" in str(caught.value)
    assert fac.invoice_count() == 1 and len(fac.requests()) == 1


# -- errors before and after sending ------------------------------------------------------------------------


def test_a_vat_rate_facturalia_does_not_know_fails_before_any_request(fac: FacturaliaHarness) -> None:
    p = provider(fac)
    payload = fac.sample_invoice_payload()
    payload["lines"][1]["vat_rate"] = 9
    with pytest.raises(InvalidPayload) as caught:
        p.write("invoice", "create", payload, None, idempotency_key="k")
    assert set(caught.value.details) == {"lines.1.vat_rate"} and caught.value.status == 0
    assert p.requests_made == 0 and fac.requests() == []


def test_a_missing_product_code_needs_a_default(fac: FacturaliaHarness) -> None:
    payload = fac.sample_invoice_payload()
    del payload["lines"][0]["product_code"]
    bare = provider(fac, options={})
    with pytest.raises(InvalidPayload, match="default_product_code") as caught:
        bare.write("invoice", "create", payload, None, idempotency_key="k")
    assert set(caught.value.details) == {"lines.0.product_code"} and fac.requests() == []
    defaulted = provider(fac, options={"default_product_code": "SUPPORT"})
    defaulted.write("invoice", "create", payload, None, idempotency_key="k")
    assert fac.state()["invoices"][0]["request"]["lines"][0]["product_code"] == "SUPPORT"


@pytest.mark.parametrize(("change", "path"), [
    (lambda p: p.pop("customer"), "customer"),
    (lambda p: p.update(lines=[]), "lines"),
    (lambda p: p["invoice"].update(due_days=None, due_date="2025-09-01"), "invoice.due_date"),
    (lambda p: p["invoice"].update(due_days=None, due_date="2025-10-26", due_days_after="em"),
     "invoice.due_days_after"),
    (lambda p: p["invoice"].update(due_days=None, date=None, due_date="2025-10-26"), "invoice.date"),
    (lambda p: p["lines"][0].update(quantity=1.5), "lines.0.quantity"),
])
def test_payloads_that_cannot_work_are_refused_before_sending(fac: FacturaliaHarness, change: Any, path: str) -> None:
    payload = fac.sample_invoice_payload()
    change(payload)
    with pytest.raises(InvalidPayload) as caught:
        provider(fac).write("invoice", "create", payload, None, idempotency_key="k")
    assert path in caught.value.details and fac.requests() == []


def test_an_unknown_product_code_is_rejected_with_the_service_details(fac: FacturaliaHarness) -> None:
    payload = fac.sample_invoice_payload()
    payload["lines"][0]["product_code"] = "UNKNOWN-9"
    with pytest.raises(Rejected) as caught:
        provider(fac).write("invoice", "create", payload, None, idempotency_key="k")
    error = caught.value
    assert (error.status, error.code) == (422, "validation_error")
    assert error.details == {"lines.0.product_code": "Product UNKNOWN-9 bestaat niet."}
    assert "Controleer de velden." in str(error)
    assert fac.invoice_count() == 0


def test_a_wrong_key_is_auth_failed_and_writes_nothing(fac: FacturaliaHarness) -> None:
    p = provider(fac, wrong_key=True)
    with pytest.raises(AuthFailed) as caught:
        p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="k")
    assert caught.value.status == 401 and not isinstance(caught.value, MissingScope)
    assert "fac_live_not_a_key" not in str(caught.value)
    assert fac.invoice_count() == 0 and fac.request_statuses() == [401]


def test_a_key_without_the_scope_is_a_typed_permanent_error_naming_it(fac: FacturaliaHarness) -> None:
    os.environ["CONNECTOR_TEST_FACTURALIA_SCOPED_KEY"] = fac.scoped_key
    p = provider(fac, api_key_env="CONNECTOR_TEST_FACTURALIA_SCOPED_KEY")
    with pytest.raises(MissingScope) as caught:
        p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="k")
    assert caught.value.scope == "invoices:create" and caught.value.status == 403
    assert isinstance(caught.value, AuthFailed) and "invoices:create" in str(caught.value)
    assert fac.invoice_count() == 0 and fac.request_statuses() == [403]


def test_a_429_storm_ends_in_rate_limited_after_bounded_retries(fac: FacturaliaHarness) -> None:
    fac.faults([{"kind": "storm", "times": None, "retry_after": 0}])
    p = provider(fac, max_attempts=2, rate_window_seconds=1)
    with pytest.raises(RateLimited) as caught:
        p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="k")
    assert caught.value.retry_after == 0
    assert fac.request_statuses() == [429, 429] and fac.invoice_count() == 0


def test_the_pacer_honours_the_sandbox_limit_without_a_429(fac: FacturaliaHarness) -> None:
    # Windows of a minute, the first begun a second ago; waits on a clock tied to the sandbox's
    fac.rate_limit(3, 60, phase_seconds=(time.time() - 1) % 60)
    clock = LinkedClock(fac.advance_clock)
    p = provider(fac, clock=clock, rate_limit=3, rate_window_seconds=60)
    for n in range(5):
        p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key=f"k{n}")
    assert fac.request_statuses() == [201] * 5 and fac.invoice_count() == 5
    assert clock.slept >= 30  # the fourth waited for the next window


@pytest.mark.parametrize("kind", ["html", "truncated_json"])
def test_html_or_a_cut_off_answer_is_a_protocol_error(fac: FacturaliaHarness, kind: str) -> None:
    fac.faults([{"kind": kind}])
    p = provider(fac)
    with pytest.raises(ProtocolError, match="expected JSON"):
        p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="k")
    p.write("invoice", "create", fac.sample_invoice_payload(), None, idempotency_key="k")  # the retry is safe
    assert fac.invoice_count() == 1
