"""The Facturalia sandbox over real TLS sockets: wire shapes, errors, rules, idempotency, limits, faults."""

from __future__ import annotations

import copy
import json
import socket
import ssl
import subprocess
import sys
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandboxes import start as start_sandbox
from sandboxes.facturalia import FacturaliaSandbox
from tests.facturalia.harness import FacturaliaHarness

REPO = Path(__file__).resolve().parents[2]
UNAUTHORIZED = b'{"error":{"code":"unauthorized","message":"Authorization header ontbreekt of ongeldig."}}'
FORBIDDEN = b'{"error":{"code":"forbidden","message":"Scope ontbreekt: invoices:create"}}'


def body(**invoice: Any) -> dict[str, Any]:
    """A valid request like the seed's cURL example (numbers as JSON numbers)."""
    return {
        "invoice": {"date": "2025-09-26", "due_days": 30, "language": "nl", **invoice},
        "customer": {"name": "ABCD BV"},
        "lines": [{"product_code": "CONSULT", "quantity": 1, "unit_price": 120.0, "vat_rate": 21}],
    }


def post(api: httpx.Client, payload: Any, **headers: str) -> httpx.Response:
    """POST /invoices with a JSON body written exactly as given (120.0 stays 120.0)."""
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return api.post("/invoices", content=content, headers={"Content-Type": "application/json", **headers})


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    data = response.json()
    assert set(data) == {"error"}
    return dict(data["error"])


# -- the 201 answer and the processing rules ---------------------------------------------------------------


def test_create_answers_201_with_totals_as_two_decimal_numbers(fac: FacturaliaHarness, api: httpx.Client) -> None:
    response = post(api, body())
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert b'"totals":{"excl":120.00,"vat":25.20,"incl":145.20}' in response.content
    created = response.json()
    assert created["id"] == 1 and isinstance(created["id"], int)
    assert created["number"] == "2025-0001"
    assert (created["date"], created["due_date"], created["currency"]) == ("2025-09-26", "2025-10-26", "EUR")
    assert created["customer"]["name"] == "ABCD BV"
    pdf = httpx.get(created["links"]["pdf"], verify=fac.tls)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.rstrip().endswith(b"%%EOF")
    invoices = fac.state()["invoices"]
    assert len(invoices) == 1 and invoices[0]["request"] == body() and invoices[0]["response"] == created


def test_vat_is_rounded_half_up_per_line_and_totals_are_sums(api: httpx.Client) -> None:
    payload = body()
    payload["lines"] = [
        {"product_code": "CONSULT", "quantity": 1, "unit_price": 0.5, "vat_rate": 21},  # 0.105 -> 0.11
        {"product_code": "CONSULT", "quantity": 1, "unit_price": 0.5, "vat_rate": 21},
        {"product_code": "HOSTING", "quantity": 3, "unit_price": 9.995, "vat_rate": 6},  # 29.985 -> 29.99
    ]
    created = post(api, payload).json()
    assert [(line["total_excl"], line["vat"]) for line in created["lines"]] == [(0.5, 0.11), (0.5, 0.11), (29.99, 1.8)]
    assert created["totals"] == {"excl": 30.99, "vat": 2.02, "incl": 33.01}  # not round(30.99 * ...) per invoice


def test_invoice_discounts_are_spread_over_the_lines(api: httpx.Client) -> None:
    payload = body(discount_percent=10)
    payload["lines"].append({"product_code": "SUPPORT", "quantity": 2, "unit_price": 50, "vat_rate": 6})
    assert post(api, payload).json()["totals"] == {"excl": 198.0, "vat": 28.08, "incl": 226.08, "discount": 22.0}
    payload = body(discount_amount=22, number="X-2")
    payload["lines"].append({"product_code": "SUPPORT", "quantity": 2, "unit_price": 50, "vat_rate": 6})
    assert post(api, payload).json()["totals"]["discount"] == 22.0
    too_much = post(api, body(discount_amount=500))
    assert error_of(too_much)["details"] == {"invoice.discount_amount": "Mag niet hoger zijn dan het totaal excl. btw."}


@pytest.mark.parametrize(
    ("invoice", "due"),
    [({"due_days": 30}, "2025-10-26"), ({"due_days": 0}, "2025-09-26"), ({"due_days": None}, "2025-10-26"),
     ({"due_days": 30, "due_days_after": "em"}, "2025-10-31"), ({"due_days": 0, "due_days_after": "em"}, "2025-09-30")],
    ids=["nf", "zero", "default-30", "end-of-month", "end-of-this-month"],
)
def test_due_date_follows_due_days(api: httpx.Client, invoice: dict[str, Any], due: str) -> None:
    assert post(api, body(**invoice)).json()["due_date"] == due


def test_is_paid_records_today_in_brussels(fac: FacturaliaHarness, api: httpx.Client) -> None:
    fac.post("/clock", {"now": "2026-03-01T00:30:00+01:00", "frozen": True})  # 23:30 UTC on 28 Feb
    paid = post(api, body(is_paid=1)).json()
    assert (paid["is_paid"], paid["paid_date"]) == (1, "2026-03-01")
    assert post(api, body(is_paid=True, number="B")).json()["paid_date"] == "2026-03-01"
    assert post(api, body(number="C")).json()["paid_date"] is None


def test_vat_exemption_code_makes_vat_zero(api: httpx.Client) -> None:
    assert post(api, body(vat_exemption_code=3)).json()["totals"] == {"excl": 120.0, "vat": 0.0, "incl": 120.0}
    assert post(api, body(vat_exemption_code=0, number="N0")).json()["totals"]["vat"] == 25.2  # 0: no exemption


def test_numbers_run_per_year_and_skip_numbers_taken_by_hand(api: httpx.Client) -> None:
    assert post(api, body(number="2025-0002")).json()["number"] == "2025-0002"
    assert post(api, body()).json()["number"] == "2025-0001"
    assert post(api, body(date="2025-01-02", reference="x")).json()["number"] == "2025-0003"
    assert post(api, body(date="2026-01-02")).json()["number"] == "2026-0001"


# -- customers ------------------------------------------------------------------------------------------


def test_customers_are_found_by_id_vat_number_or_name_and_stored_data_wins(
    fac: FacturaliaHarness, api: httpx.Client
) -> None:
    known = fac.post("/act/create_customer", {"name": "Bakkerij Peeters BV", "vat_number": "BE0123.456.749"})
    by_id = body()
    by_id["customer"] = {"customer_id": known["customer_id"], "name": "Another name"}
    assert post(api, by_id).json()["customer"]["name"] == "Bakkerij Peeters BV"
    by_vat = body(number="2")
    by_vat["customer"] = {"vat_number": "be 0123 456 749"}
    assert post(api, by_vat).json()["customer"]["customer_id"] == known["customer_id"]
    by_name = body(number="3")
    by_name["customer"] = {"name": "bakkerij peeters bv"}
    assert post(api, by_name).json()["customer"]["customer_id"] == known["customer_id"]
    new = body(number="4")
    new["customer"] = {"name": "Nieuw BV", "vat_number": "BE0999999999", "country": "be"}
    made = post(api, new).json()["customer"]
    assert made["customer_id"] != known["customer_id"] and made["country"] == "BE"
    assert len(fac.state()["customers"]) == 2


def test_customer_errors(api: httpx.Client) -> None:
    unknown_id = body()
    unknown_id["customer"] = {"customer_id": 999}
    assert error_of(post(api, unknown_id))["details"] == {"customer.customer_id": "Klant niet gevonden."}
    new_vat_without_name = body()
    new_vat_without_name["customer"] = {"vat_number": "BE0888888888"}
    assert error_of(post(api, new_vat_without_name))["details"] == {
        "customer.name": "Verplicht om een nieuwe klant aan te maken."}
    nothing = body()
    nothing["customer"] = {"city": "Gent"}
    assert error_of(post(api, nothing))["details"] == {"customer": "Geef customer_id, vat_number of name op."}


# -- validation -----------------------------------------------------------------------------------------


def _with(change: Any) -> dict[str, Any]:
    payload = body()
    change(payload)
    return payload


INVALID = [
    (lambda b: b["invoice"].pop("date"), "invoice.date", "Verplicht (JJJJ-MM-DD)."),
    (lambda b: b["invoice"].update(date="26-09-2025"), "invoice.date", "Ongeldige datum; gebruik JJJJ-MM-DD."),
    (lambda b: b["invoice"].update(date="2025-02-30"), "invoice.date", "Ongeldige datum; gebruik JJJJ-MM-DD."),
    (lambda b: b["invoice"].update(due_days=-1), "invoice.due_days", "Moet ≥ 0 zijn."),
    (lambda b: b["invoice"].update(due_days="30"), "invoice.due_days", "Moet een geheel getal zijn."),
    (lambda b: b["invoice"].update(due_days_after="eom"), "invoice.due_days_after",
     "Ongeldige waarde; toegestaan: nf, em."),
    (lambda b: b["invoice"].update(language="de"), "invoice.language", "Ongeldige waarde; toegestaan: nl, fr, en."),
    (lambda b: b["invoice"].update(discount_amount=5, discount_percent=5), "invoice.discount_percent",
     "Geef discount_amount of discount_percent, niet allebei."),
    (lambda b: b["invoice"].update(vat_exemption_code=5), "invoice.vat_exemption_code",
     "Ongeldige vrijstellingscode; gebruik 1 tot 14 (behalve 5)."),
    (lambda b: b["invoice"].update(vat_exemption_code=15), "invoice.vat_exemption_code",
     "Ongeldige vrijstellingscode; gebruik 1 tot 14 (behalve 5)."),
    (lambda b: b["invoice"].update(is_paid=2), "invoice.is_paid", "Moet 0 of 1 zijn."),
    (lambda b: b.pop("invoice"), "invoice", "Dit veld is verplicht."),
    (lambda b: b.update(invoice=[]), "invoice", "Moet een object zijn."),
    (lambda b: b.pop("customer"), "customer", "Dit veld is verplicht."),
    (lambda b: b["customer"].update(email="nope"), "customer.email", "Ongeldig e-mailadres."),
    (lambda b: b["customer"].update(country="BEL"), "customer.country",
     "Gebruik een ISO 3166-1 alpha-2 landcode (bv. BE)."),
    (lambda b: b.pop("lines"), "lines", "Dit veld is verplicht."),
    (lambda b: b.update(lines=[]), "lines", "Minstens één factuurlijn is verplicht."),
    (lambda b: b.update(lines=["x"]), "lines.0", "Moet een object zijn."),
    (lambda b: b["lines"][0].pop("product_code"), "lines.0.product_code", "Dit veld is verplicht."),
    (lambda b: b["lines"][0].update(product_code="UNKNOWN-9"), "lines.0.product_code",
     "Product UNKNOWN-9 bestaat niet."),
    (lambda b: b["lines"][0].update(quantity=0), "lines.0.quantity", "Moet groter dan 0 zijn."),
    (lambda b: b["lines"][0].update(unit_price=-0.01), "lines.0.unit_price", "Moet ≥ 0 zijn."),
    (lambda b: b["lines"][0].update(unit_price="120.00"), "lines.0.unit_price", "Moet een getal zijn."),
    (lambda b: b["lines"][0].update(vat_rate=9), "lines.0.vat_rate", "Ongeldig btw-tarief; toegestaan: 0, 6, 12, 21."),
    (lambda b: b["lines"].append({**b["lines"][0], "vat_rate": 22}), "lines.1.vat_rate",
     "Ongeldig btw-tarief; toegestaan: 0, 6, 12, 21."),
]


@pytest.mark.parametrize(("change", "path", "message"), INVALID, ids=[f"{i}-{c[1]}" for i, c in enumerate(INVALID)])
def test_invalid_requests_answer_422_with_dot_path_details(
    fac: FacturaliaHarness, api: httpx.Client, change: Any, path: str, message: str
) -> None:
    response = post(api, _with(change))
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["message"]) == ("validation_error", "Controleer de velden.")
    assert error["details"] == {path: message}
    assert fac.invoice_count() == 0


def test_every_field_error_is_reported_at_once(api: httpx.Client) -> None:
    payload = {"invoice": {"date": "nope"}, "customer": {},
               "lines": [{"product_code": "X", "quantity": -1, "unit_price": -1, "vat_rate": 9}]}
    details = error_of(post(api, payload))["details"]
    assert set(details) == {"invoice.date", "customer", "lines.0.product_code", "lines.0.quantity",
                            "lines.0.unit_price", "lines.0.vat_rate"}


def test_nulls_and_empty_strings_count_as_absent_and_unknown_keys_are_ignored(api: httpx.Client) -> None:
    payload = body(number=None, note="", reference=None)
    payload["customer"]["email"] = None
    payload["colour"] = "blue"
    assert post(api, payload).status_code == 201


def test_added_products_and_keys_with_the_scope_work(fac: FacturaliaHarness, api: httpx.Client) -> None:
    fac.post("/act/add_product", {"code": "CONS-002", "name": "Consultancy"})
    payload = _with(lambda b: b["lines"][0].update(product_code="CONS-002"))
    fac.post("/act/create_key", {"key": "fac_live_scoped_ok", "scopes": ["invoices:create"]})
    assert post(api, payload, Authorization="Bearer fac_live_scoped_ok").status_code == 201


# -- protocol errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer fac_live_wrong", "Basic ZmFjOmtleQ==", "Bearer", "fac_live_test"])
def test_401_has_the_exact_body_and_authenticate_header(fac: FacturaliaHarness, header: str | None) -> None:
    headers = {"Content-Type": "application/json"} | ({"Authorization": header} if header else {})
    response = httpx.post(f"{fac.server.base_url}/invoices", content=b"{}", headers=headers,
                          verify=fac.tls)
    assert response.status_code == 401
    assert response.content == UNAUTHORIZED
    assert response.headers["www-authenticate"] == 'Bearer realm="Facturalia", error="invalid_token"'
    assert fac.invoice_count() == 0


def test_a_key_without_the_scope_gets_403(fac: FacturaliaHarness) -> None:
    response = httpx.post(f"{fac.server.base_url}/invoices", json=body(), verify=fac.tls,
                          headers={"Authorization": f"Bearer {fac.scoped_key}"})
    assert (response.status_code, response.content) == (403, FORBIDDEN)
    assert fac.invoice_count() == 0


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_methods_answer_405_with_allow(api: httpx.Client, method: str) -> None:
    response = api.request(method, "/invoices")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert error_of(response)["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/invoices/1", "/clients", "/payments", "/v2/invoices"])
def test_other_paths_answer_404(api: httpx.Client, path: str) -> None:
    response = api.post(path, json={})
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "Deze route bestaat niet."}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1", "application/jsonx"])
def test_other_content_types_answer_415(fac: FacturaliaHarness, api: httpx.Client, content_type: str | None) -> None:
    request = api.build_request("POST", "/invoices", content=json.dumps(body()).encode())
    if content_type is None:
        request.headers.pop("Content-Type", None)
    else:
        request.headers["Content-Type"] = content_type
    response = api.send(request)
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert fac.invoice_count() == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON; Charset=UTF-8"])
def test_json_with_or_without_utf8_charset_is_accepted(api: httpx.Client, content_type: str) -> None:
    assert post(api, body(), **{"Content-Type": content_type}).status_code == 201


@pytest.mark.parametrize("content", [b"{", b"", b'{"invoice": NaN}', b"\xff\xfe{}", b"[1, 2]", b'"text"'])
def test_bad_json_answers_400_invalid_json(fac: FacturaliaHarness, api: httpx.Client, content: bytes) -> None:
    response = post(api, content)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"
    assert fac.invoice_count() == 0


# -- idempotency ------------------------------------------------------------------------------------------


def test_a_replay_returns_the_original_answer_byte_for_byte(fac: FacturaliaHarness, api: httpx.Client) -> None:
    first = post(api, body(), **{"Idempotency-Key": "3e5c8bde-6d4a-4f5f-922f-6a9c1b1b46d1"})
    reordered = {"lines": [{"vat_rate": 21, "unit_price": 120, "quantity": 1.0, "product_code": "CONSULT"}],
                 "customer": {"name": "ABCD BV"}, "invoice": {"language": "nl", "due_days": 30, "date": "2025-09-26"}}
    again = post(api, reordered, **{"Idempotency-Key": "3e5c8bde-6d4a-4f5f-922f-6a9c1b1b46d1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert "idempotency-status" not in first.headers
    assert again.headers["idempotency-status"] == "replayed"
    assert again.content == first.content
    state = fac.state()
    assert len(state["invoices"]) == 1 and state["invoices"][0]["replays"] == 1
    assert state["invoices"][0]["idempotency_keys"] == ["3e5c8bde-6d4a-4f5f-922f-6a9c1b1b46d1"]


@pytest.mark.parametrize(("key", "headers"), [
    ("header", {"Idempotency-Key": "k-1"}), ("external_id", {}), ("number", {})])
def test_the_same_key_with_another_body_is_a_409(
    fac: FacturaliaHarness, api: httpx.Client, key: str, headers: dict[str, str]
) -> None:
    payload = body()
    if key == "external_id":
        payload["external_id"] = "order-77"
    if key == "number":
        payload["invoice"]["number"] = "F-77"
    assert post(api, payload, **headers).status_code == 201
    assert post(api, payload, **headers).headers["idempotency-status"] == "replayed"
    changed = copy.deepcopy(payload)
    changed["lines"][0]["quantity"] = 2
    conflict = post(api, changed, **headers)
    assert conflict.status_code == 409
    error = error_of(conflict)
    assert error["code"] == "idempotency_conflict" and "details" not in error
    assert fac.invoice_count() == 1


def test_keys_pointing_at_two_invoices_conflict(api: httpx.Client) -> None:
    post(api, body(number="A"), **{"Idempotency-Key": "ka"})
    post(api, body(number="B"), **{"Idempotency-Key": "kb"})
    assert post(api, body(number="B"), **{"Idempotency-Key": "ka"}).status_code == 409


def test_a_failed_create_does_not_burn_its_key(fac: FacturaliaHarness, api: httpx.Client) -> None:
    assert post(api, body(date="nope"), **{"Idempotency-Key": "k"}).status_code == 422
    assert post(api, body(), **{"Idempotency-Key": "k"}).status_code == 201
    assert fac.invoice_count() == 1


def test_keys_expire_after_48_hours_on_the_sandbox_clock_but_numbers_never(
    fac: FacturaliaHarness, api: httpx.Client
) -> None:
    post(api, body(), **{"Idempotency-Key": "old"})
    post(api, body(number="N-1"))
    fac.post("/clock", {"advance_seconds": 48 * 3600 - 60})
    assert post(api, body(), **{"Idempotency-Key": "old"}).headers.get("idempotency-status") == "replayed"
    fac.post("/clock", {"advance_seconds": 120})
    fresh = post(api, body(), **{"Idempotency-Key": "old"})
    assert fresh.status_code == 201 and "idempotency-status" not in fresh.headers
    assert post(api, body(number="N-1")).headers.get("idempotency-status") == "replayed"
    assert fac.invoice_count() == 3
    fac.post("/idempotency", {"retention_seconds": 1})
    fac.post("/clock", {"advance_seconds": 2})
    assert post(api, body(), **{"Idempotency-Key": "old"}).json()["id"] == 4


# -- rate limit -----------------------------------------------------------------------------------------


def test_rate_limit_headers_on_every_answer_and_429_past_the_limit(fac: FacturaliaHarness, api: httpx.Client) -> None:
    fac.rate_limit(3, 60)
    fac.post("/clock", {"now": "2026-01-05T10:00:30+01:00", "frozen": True})
    answers = [post(api, body(number=str(n))) for n in range(2)] + [api.get("/invoices"), post(api, body())]
    assert [a.status_code for a in answers] == [201, 201, 405, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    reset = int(parsedate_to_datetime("Mon, 05 Jan 2026 09:01:00 GMT").timestamp())
    for answer in answers:
        assert answer.headers["x-ratelimit-limit"] == "3"
        assert answer.headers["x-ratelimit-reset"] == str(reset)
    limited = answers[-1]
    assert error_of(limited)["code"] == "rate_limited"
    assert limited.headers["retry-after"] == "30"
    other_key = httpx.post(f"{fac.server.base_url}/invoices", json={}, verify=fac.tls)
    assert other_key.status_code == 401 and other_key.headers["x-ratelimit-remaining"] == "2"  # its own bucket
    fac.post("/clock", {"advance_seconds": 30})
    assert post(api, body()).status_code == 201


def test_date_header_comes_from_the_sandbox_clock(fac: FacturaliaHarness, api: httpx.Client) -> None:
    fac.post("/clock", {"now": "2030-06-01T12:00:00+02:00", "frozen": True})
    assert parsedate_to_datetime(post(api, body()).headers["date"]).isoformat() == "2030-06-01T10:00:00+00:00"


# -- faults ---------------------------------------------------------------------------------------------


def test_an_injected_500_is_a_server_error_with_a_request_id(fac: FacturaliaHarness, api: httpx.Client) -> None:
    fac.faults([{"kind": "status", "status": 500}])
    response = post(api, body())
    assert response.status_code == 500
    assert error_of(response)["code"] == "server_error"
    assert len(response.headers["x-request-id"]) == 32
    assert "x-ratelimit-limit" in response.headers
    assert fac.invoice_count() == 0


def test_a_storm_is_429_with_retry_after_and_nothing_left(fac: FacturaliaHarness, api: httpx.Client) -> None:
    fac.faults([{"kind": "storm", "times": 2, "retry_after": 7}])
    responses = [post(api, body()) for _ in range(3)]
    assert [r.status_code for r in responses] == [429, 429, 201]
    assert responses[0].headers["retry-after"] == "7" and responses[0].headers["x-ratelimit-remaining"] == "0"
    assert error_of(responses[0])["code"] == "rate_limited"


def test_drop_after_commit_creates_the_invoice_and_closes_without_an_answer(
    fac: FacturaliaHarness, api: httpx.Client
) -> None:
    fac.faults([{"kind": "drop_after_commit"}])
    with pytest.raises(httpx.RemoteProtocolError):
        post(api, body(), **{"Idempotency-Key": "drop"})
    assert fac.invoice_count() == 1
    assert [r["status"] for r in fac.requests()] == [0]
    retry = post(api, body(), **{"Idempotency-Key": "drop"})
    assert retry.headers["idempotency-status"] == "replayed" and fac.invoice_count() == 1


def test_html_and_truncated_json_faults(fac: FacturaliaHarness, api: httpx.Client) -> None:
    fac.faults([{"kind": "html"}, {"kind": "truncated_json"}])
    html = post(api, body())
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert fac.invoice_count() == 0
    cut = post(api, body())
    assert cut.status_code == 201
    with pytest.raises(ValueError):
        cut.json()
    assert fac.invoice_count() == 1


def test_a_timeout_fault_drops_the_connection_without_creating(fac: FacturaliaHarness, api: httpx.Client) -> None:
    fac.faults([{"kind": "timeout", "seconds": 0.05}])
    with pytest.raises(httpx.RemoteProtocolError):
        post(api, body())
    assert fac.invoice_count() == 0


# -- transport: HTTPS only ------------------------------------------------------------------------------


def test_plain_http_on_the_port_is_refused(fac: FacturaliaHarness) -> None:
    plain = fac.server.base_url.replace("https://", "http://")
    response = httpx.post(f"{plain}/invoices", json=body(), headers={"Authorization": f"Bearer {fac.api_key}"})
    assert response.status_code == 400
    assert response.text == "The plain HTTP request was sent to HTTPS port.\n"
    with socket.create_connection(("127.0.0.1", fac.server.port), timeout=5) as sock:
        sock.sendall(b"GET /api/v1/invoices HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400 Bad Request")
    assert fac.invoice_count() == 0 and fac.requests() == []


def test_the_certificate_only_verifies_against_the_run_ca(fac: FacturaliaHarness) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.post(f"{fac.server.base_url}/invoices", json=body())  # the default trust store
    context = ssl.create_default_context(cafile=fac.server.ca_bundle)
    with (socket.create_connection(("127.0.0.1", fac.server.port), timeout=5) as raw,
          context.wrap_socket(raw, server_hostname="localhost") as tls):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    assert fac.requests() == []


def test_the_server_survives_a_failed_handshake(fac: FacturaliaHarness, api: httpx.Client) -> None:
    with socket.create_connection(("127.0.0.1", fac.server.port), timeout=5) as raw:
        raw.sendall(b"\x16\x03\x01\x00\x05hello")  # a TLS record header and garbage
        raw.recv(100)
    assert post(api, body()).status_code == 201


# -- control surface, seeding, entry points ---------------------------------------------------------------


def test_seeding_is_deterministic_and_goes_through_the_create_path(fac: FacturaliaHarness) -> None:
    counts = fac.post("/seed", {"seed": 3, "customers": 4, "invoices": 6})
    assert (counts["invoices"], counts["customers"], counts["products"]) == (6, 4, 5)
    first = fac.state()
    fac.post("/seed", {"seed": 3, "customers": 4, "invoices": 6})
    second = fac.state()
    strip = lambda s: [{k: v for k, v in i.items() if k not in ("created_at", "response")} for i in s["invoices"]]  # noqa: E731
    assert strip(first) == strip(second) and first["customers"] == second["customers"]
    assert all(i["response"]["totals"]["incl"] >= i["response"]["totals"]["excl"] for i in first["invoices"])
    assert fac.post("/seed", {"products": ["A1", {"code": "B2", "unit_price": "5.00"}]})["products"] == 2


def test_control_errors_are_json_400(fac: FacturaliaHarness) -> None:
    assert fac.control.post("/act/create_customer", json={"colour": "red"}).status_code == 400
    assert fac.control.post("/act/nope", json={}).status_code == 404
    assert fac.control.post("/faults", json={"rules": [{"kind": "nope"}]}).status_code == 400
    assert fac.control.post("/idempotency", json={"retention_seconds": 0}).status_code == 400


def test_registry_start_with_seeded_customers_and_invoices() -> None:
    sandbox = start_sandbox("facturalia", port=0, seed=5, clients=3, invoices=4)
    try:
        assert isinstance(sandbox, FacturaliaSandbox)
        assert sandbox.base_url.startswith("https://127.0.0.1:") and sandbox.base_url.endswith("/api/v1")
        tls = ssl.create_default_context(cafile=sandbox.ca_bundle)
        state = httpx.get(f"{sandbox.control_url}/state", verify=tls).json()
        assert (len(state["customers"]), len(state["invoices"])) == (3, 4)
        assert httpx.get(state["invoices"][0]["response"]["links"]["pdf"], verify=tls).status_code == 200
    finally:
        sandbox.stop()


def test_module_entry_point_prints_where_it_serves() -> None:
    process = subprocess.Popen([sys.executable, "-m", "sandboxes.facturalia", "--port", "0"], cwd=REPO,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert info["credentials"] == {"api_key": "fac_live_test"}
        assert Path(info["ca_bundle"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
        tls = ssl.create_default_context(cafile=info["ca_bundle"])
        answer = httpx.post(f"{info['base_url']}/invoices", json=body(), verify=tls,
                            headers={"Authorization": "Bearer fac_live_test"})
        assert answer.status_code == 201
        assert httpx.get(f"{info['control_url']}/state/counts", verify=tls).json()["invoices"] == 1
    finally:
        process.terminate()
        process.wait(timeout=10)



def test_the_quickstart_example_works_verbatim_and_errors_read_as_the_service_shows_them(api: httpx.Client) -> None:
    """Seed 002's cURL example (product CONS-001) is accepted as written; its error examples read the same."""
    example = {
        "invoice": {"date": "2025-09-26", "due_days": 30, "language": "nl"},
        "customer": {"name": "ABCD BV"},
        "lines": [{"product_code": "CONS-001", "quantity": 1, "unit_price": 120.0, "vat_rate": 21}],
    }
    assert api.post("invoices", json=example).status_code == 201
    broken = api.post("invoices", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.json()["error"]["message"] == "Body is geen geldige JSON."
    undated = api.post("invoices", json={**example, "invoice": {"due_days": 30}}).json()["error"]
    assert (undated["message"], undated["details"]["invoice.date"]) == (
        "Controleer de velden.", "Verplicht (JJJJ-MM-DD).")
