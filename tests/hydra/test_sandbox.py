"""The Hydra sandbox over real sockets: auth, formats, both flavours, paging and links, filters, writes, faults."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.hydra.harness import TOKEN, HydraHarness
from tests.support import REPO

LD = "application/ld+json; charset=utf-8"
PROBLEM = "application/problem+json; charset=utf-8"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _doc(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


def _follow(api: httpx.Client, hy: HydraHarness, link: str, **headers: str) -> httpx.Response:
    """Links are paths on the origin (``/api/invoices?page=2``), not relative to the API root."""
    return api.get(hy.origin + link, headers=headers)


def _customer(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/customers", json={"name": "Test B.V.", **fields})
    assert response.status_code == 201, response.text
    return dict(_doc(response))


def _invoice(api: httpx.Client, customer: dict[str, Any], rows: int = 1) -> dict[str, Any]:
    response = api.post("/invoices", json={"customer": customer["@id"], "date": "2025-03-04"})
    assert response.status_code == 201, response.text
    invoice = _doc(response)
    for n in range(rows):
        added = api.post("/invoice-rows", json={"invoice": invoice["@id"], "productName": f"Werk {n}",
                                               "quantity": 2, "netPrice": "10.05", "vatRate": "21.00"})
        assert added.status_code == 201, added.text
    return dict(_doc(api.get(f"/invoices/{invoice['id']}")))


# -- auth and formats ---------------------------------------------------------------------------------


def test_bearer_auth_answers_jwt_style_401s(hy: HydraHarness) -> None:
    with httpx.Client(base_url=hy.base_url, timeout=5) as anon:
        missing = anon.get("/invoices")
        wrong = anon.get("/invoices", headers={"Authorization": "Bearer nope"})
        basic = anon.get("/invoices", headers={"Authorization": "Basic dXNlcjpwdw=="})
        good = anon.get("/invoices", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (missing.status_code, missing.json()) == (401, {"code": 401, "message": "JWT Token not found"})
    assert (wrong.status_code, wrong.json()) == (401, {"code": 401, "message": "Invalid JWT Token"})
    assert basic.json()["message"] == "JWT Token not found"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert good.status_code == 200


@pytest.mark.parametrize(("accept", "status", "content_type"), [
    (None, 200, LD), ("*/*", 200, LD), ("application/ld+json", 200, LD),
    ("application/json", 200, "application/json; charset=utf-8"),
    ("text/html;q=0.9, application/json;q=0.8", 200, "application/json; charset=utf-8"),
    ("text/html", 406, PROBLEM), ("application/xml", 406, PROBLEM),
])
def test_content_negotiation(api: httpx.Client, hy: HydraHarness, accept: str | None, status: int,
                             content_type: str) -> None:
    hy.seed(clients=2, invoices=3)
    headers = {"Accept": accept} if accept else {}
    if accept is None:
        api.headers.pop("Accept", None)
    response = api.get("/invoices", headers=headers)
    assert (response.status_code, response.headers["Content-Type"]) == (status, content_type)
    if status == 406:
        assert response.json()["detail"] == (f'Requested format "{accept}" is not supported. Supported MIME types '
                                             'are "application/ld+json", "application/json".')


def test_plain_json_collections_are_bare_arrays_and_items_have_no_jsonld_keys(api: httpx.Client,
                                                                              hy: HydraHarness) -> None:
    hy.seed(clients=3, invoices=40)
    listing = _doc(api.get("/invoices", headers={"Accept": "application/json"}))
    assert isinstance(listing, list) and len(listing) == 30
    assert not any(key.startswith("@") for item in listing for key in item)
    item = _doc(api.get("/invoices/1", headers={"Accept": "application/json"}))
    assert item["id"] == 1 and "@id" not in item and item["customer"].startswith("/api/customers/")


def test_jsonld_item_shape_types_and_php_escaping(api: httpx.Client, hy: HydraHarness) -> None:
    customer = _customer(api, email="a@b.nl", country="NL", street="Kerkstraat 1 <achter>")
    invoice = _invoice(api, {"@id": f"/api/customers/{customer['id']}"}, rows=1)
    raw = api.get(f"/customers/{customer['id']}").text
    assert raw.startswith('{"@context":"\\/api\\/contexts\\/Customer","@id":"\\/api\\/customers\\/')
    assert "\\u003Cachter\\u003E" in raw and "\\u0026" not in raw
    assert list(invoice)[:3] == ["@context", "@id", "@type"] and invoice["@type"] == "Invoice"
    assert "number" not in invoice and invoice["status"] == "draft"  # null properties are left out
    assert invoice["date"] == "2025-03-04T00:00:00+00:00"
    row = _doc(api.get(invoice["invoiceRows"][0].removeprefix("/api")))
    assert (row["quantity"], row["netPrice"], row["vatRate"], row["netAmount"], row["vatAmount"]) == (
        2, "10.05", "21.00", "20.10", "4.22")
    assert (invoice["netAmount"], invoice["vatAmount"], invoice["grossAmount"], invoice["openAmount"]) == (
        "20.10", "4.22", "24.32", "24.32")
    assert invoice["createdAt"].endswith("+00:00")


# -- collections ---------------------------------------------------------------------------------------


def test_paging_view_links_and_clamping(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=5, invoices=250)
    first = _doc(api.get("/invoices"))
    assert first["@type"] == "hydra:Collection" and first["hydra:totalItems"] == 250
    assert len(first["hydra:member"]) == 30
    assert first["hydra:view"] == {"@id": "/api/invoices?page=1", "@type": "hydra:PartialCollectionView",
                                   "hydra:first": "/api/invoices?page=1", "hydra:last": "/api/invoices?page=9",
                                   "hydra:next": "/api/invoices?page=2"}
    clamped = _doc(api.get("/invoices", params={"itemsPerPage": 500, "page": 2}))
    assert [m["id"] for m in clamped["hydra:member"]] == list(range(101, 201))
    view = clamped["hydra:view"]
    assert view["hydra:next"] == "/api/invoices?itemsPerPage=500&page=3"
    assert view["hydra:previous"] == "/api/invoices?itemsPerPage=500&page=1"
    last = _doc(_follow(api, hy, view["hydra:next"]))
    assert len(last["hydra:member"]) == 50 and "hydra:next" not in last["hydra:view"]
    beyond = _doc(api.get("/invoices", params={"page": 99}))
    assert beyond["hydra:member"] == [] and beyond["hydra:view"]["hydra:previous"] == "/api/invoices?page=98"


@pytest.mark.parametrize(("params", "message"), [
    ({"page": 0}, "Page should not be less than 1"), ({"page": -3}, "Page should not be less than 1"),
    ({"page": "abc"}, "Page should not be less than 1"), ({"itemsPerPage": -1}, "Limit should not be less than 0"),
])
def test_bad_paging_values_are_400(api: httpx.Client, hy: HydraHarness, params: dict[str, Any],
                                   message: str) -> None:
    response = api.get("/invoices", params=params)
    assert response.status_code == 400
    assert response.json()["hydra:description"] == message


def test_view_is_left_out_or_reduced_on_a_single_page(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=2, invoices=12)
    assert "hydra:view" not in _doc(api.get("/invoices"))
    assert "hydra:view" not in _doc(api.get("/invoices", params={"page": 1}))
    filtered = _doc(api.get("/invoices", params={"itemsPerPage": 50, "order[id]": "desc"}))
    assert filtered["hydra:view"] == {"@id": "/api/invoices?itemsPerPage=50&order%5Bid%5D=desc",
                                      "@type": "hydra:PartialCollectionView"}
    assert [m["id"] for m in filtered["hydra:member"]][:3] == [12, 11, 10]


def test_links_keep_every_parameter_php_encoded(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=2, invoices=30)
    query = "invoice[]=1&invoice[]=2&invoice[]=3&itemsPerPage=4&updatedAt[after]=2000-01-01T00:00:00%2B00:00"
    page = _doc(api.get(f"/invoice-rows?{query}"))
    assert page["hydra:totalItems"] == 9
    link = page["hydra:view"]["hydra:next"]
    assert link == ("/api/invoice-rows?invoice%5B0%5D=1&invoice%5B1%5D=2&invoice%5B2%5D=3&itemsPerPage=4"
                    "&updatedAt%5Bafter%5D=2000-01-01T00%3A00%3A00%2B00%3A00&page=2")
    rows = [m["id"] for m in page["hydra:member"]]
    while link:
        nxt = _doc(_follow(api, hy, link))
        rows += [m["id"] for m in nxt["hydra:member"]]
        link = nxt["hydra:view"].get("hydra:next")
    assert rows == list(range(1, 10))


def test_date_filters_order_and_search(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=4, invoices=60)
    stamps = sorted({m["updatedAt"] for m in _doc(api.get("/invoices", params={"itemsPerPage": 100}))
                     ["hydra:member"]})
    cut = stamps[len(stamps) // 2]

    def ids(**params: Any) -> list[int]:
        return [m["id"] for m in _doc(api.get("/invoices", params={"itemsPerPage": 100, **params}))["hydra:member"]]

    everything = ids()
    after, strictly = ids(**{"updatedAt[after]": cut}), ids(**{"updatedAt[strictly_after]": cut})
    before = ids(**{"updatedAt[before]": cut})
    assert set(after) | set(before) == set(everything) and set(after) & set(before)
    assert set(strictly) < set(after)
    assert ids(**{"updatedAt[after]": "not a date"}) == everything  # an unparsable date is ignored
    assert ids(**{"updatedAt[after]": cut.replace("+00:00", " 00:00")}) == everything  # '+' sent raw: a space
    by_update = _doc(api.get("/invoices", params={"itemsPerPage": 100, "order[updatedAt]": "desc"}))["hydra:member"]
    assert [m["updatedAt"] for m in by_update] == sorted((m["updatedAt"] for m in by_update), reverse=True)
    customer = by_update[0]["customer"]
    mine = ids(customer=customer)
    assert mine and mine == ids(customer=customer.rsplit("/", 1)[1])
    assert ids(**{"customer[]": [customer, "/api/customers/99999"]}) == mine
    assert ids(customer="/api/invoices/1") == []


def test_special_collections_draft_and_by_name(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=5, invoices=200)
    drafts = _doc(api.get("/invoices/draft", params={"itemsPerPage": 100}))
    assert drafts["@id"] == "/api/invoices/draft" and drafts["hydra:member"]
    assert {m["status"] for m in drafts["hydra:member"]} == {"draft"}
    month = next(m["number"][:7] for m in _doc(api.get("/invoices"))["hydra:member"] if m.get("number"))
    named = _doc(api.get(f"/invoices/name/{month}-15", params={"itemsPerPage": 100}))["hydra:member"]
    assert named and all(m["number"].startswith(month) for m in named)
    assert api.get("/invoices/name/march").status_code == 400


def test_flavour_4_drops_the_prefix_and_speaks_problem_json(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=3, invoices=70)
    hy.flavour("4")
    page = _doc(api.get("/invoices"))
    assert page["@type"] == "Collection" and page["totalItems"] == 70 and len(page["member"]) == 30
    assert page["view"]["@type"] == "PartialCollectionView" and page["view"]["next"] == "/api/invoices?page=2"
    assert page["search"]["@type"] == "IriTemplate"
    missing = api.get("/invoices/9999")
    assert missing.headers["Content-Type"] == PROBLEM and "hydra/error" in missing.headers["Link"]
    assert _doc(missing) == {"@context": "/api/contexts/Error", "@id": "/api/errors/404", "@type": "Error",
                             "title": "An error occurred", "detail": "Not Found", "status": 404,
                             "type": "/errors/404", "description": "Not Found"}
    plain = api.get("/invoices/9999", headers={"Accept": "application/json"})
    assert "@context" not in plain.json() and plain.json()["status"] == 404
    invalid = api.post("/customers", json={"name": ""})
    body = _doc(invalid)
    assert (invalid.status_code, invalid.headers["Content-Type"]) == (422, PROBLEM)
    assert body["type"] == "/validation_errors/c1051bb4-d103-4f74-8988-acbcafc7fdc3"
    assert body["violations"] == [{"propertyPath": "name", "message": "This value should not be blank.",
                                   "code": "c1051bb4-d103-4f74-8988-acbcafc7fdc3"}]


def test_flavour_3_errors_are_legacy_hydra_and_problem_for_plain_json(api: httpx.Client, hy: HydraHarness) -> None:
    missing = api.get("/invoices/9999")
    assert (missing.status_code, missing.headers["Content-Type"]) == (404, LD)
    assert _doc(missing) == {"@context": "/api/contexts/Error", "@type": "hydra:Error",
                             "hydra:title": "An error occurred", "hydra:description": "Not Found"}
    plain = api.get("/invoices/9999", headers={"Accept": "application/json"})
    assert plain.headers["Content-Type"] == PROBLEM
    assert plain.json() == {"type": "https://tools.ietf.org/html/rfc2616#section-10", "title": "An error occurred",
                            "detail": "Not Found"}
    invalid = api.post("/customers", json={"name": "", "email": "nope", "country": "XX"})
    body = _doc(invalid)
    assert (invalid.status_code, body["@type"]) == (422, "ConstraintViolationList")
    assert body["hydra:description"] == ("name: This value should not be blank.\nemail: This value is not a valid "
                                         "email address.\ncountry: This value is not a valid country.")
    assert [v["propertyPath"] for v in body["violations"]] == ["name", "email", "country"]
    assert api.get("/nowhere").json()["hydra:description"] == 'No route found for "GET /api/nowhere"'


# -- writes --------------------------------------------------------------------------------------------


def test_post_returns_201_with_location_and_patch_needs_merge_patch(api: httpx.Client, hy: HydraHarness) -> None:
    created = api.post("/customers", json={"name": "Klant & Zn.", "email": "k@example.nl", "country": "BE"})
    assert created.status_code == 201
    iri = created.json()["@id"]
    assert created.headers["Location"] == created.headers["Content-Location"] == iri
    assert created.headers["Accept-Patch"] == "application/merge-patch+json"
    wrong = api.patch(iri.removeprefix("/api"), json={"name": "X"})
    assert wrong.status_code == 415
    assert wrong.json()["hydra:description"] == ('The content-type "application/json" is not supported. '
                                                 'Supported MIME types are "application/merge-patch+json".')
    patched = api.patch(iri.removeprefix("/api"), content=b'{"email": null, "city": "Gent"}', headers=MERGE)
    assert patched.status_code == 200 and patched.headers["Accept-Patch"] == "application/merge-patch+json"
    assert "email" not in patched.json() and patched.json()["city"] == "Gent"
    assert patched.json()["name"] == "Klant & Zn."
    no_type = api.post("/customers", content=b'{"name": "Y"}')
    assert no_type.status_code == 415 and no_type.json()["hydra:description"] == 'The "Content-Type" header must exist.'


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"{not json", 400, "Syntax error"),
    (b"", 400, "Syntax error"),
    (b'{"customer": {"name": "nested"}}', 400,
     'Nested documents for attribute "customer" are not allowed. Use IRIs instead.'),
    (b'{"customer": "5"}', 400, 'Invalid IRI "5".'),
    (b'{"customer": "/api/invoices/1"}', 400, 'Invalid IRI "/api/invoices/1".'),
    (b'{"customer": "/api/customers/999"}', 400, 'Item not found for "/api/customers/999".'),
    (b'{"customer": 5}', 400,
     'The type of the "customer" attribute must be "array" (nested document) or "string" (IRI), "integer" given.'),
    (b'{"date": "2025-01-01"}', 422, "customer: This value should not be null."),
    (b'{"customer": "/api/customers/1", "currency": "XYZ"}', 422, "currency: This value is not a valid currency."),
])
def test_invoice_input_errors(api: httpx.Client, hy: HydraHarness, body: bytes, status: int, message: str) -> None:
    hy.seed(clients=2, invoices=2)
    response = api.post("/invoices", content=body, headers={"Content-Type": "application/ld+json"})
    assert response.status_code == status, response.text
    assert response.json()["hydra:description"] == message


def test_row_types_and_rounding(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=2, invoices=2)
    base = {"invoice": "/api/invoices/1", "productName": "Uren", "netPrice": "10.00", "vatRate": "21.00"}
    as_text = api.post("/invoice-rows", json={**base, "quantity": "2"})
    assert as_text.status_code == 400
    assert as_text.json()["hydra:description"] == ('The type of the "quantity" attribute must be "float", '
                                                   '"string" given.')
    price_number = api.post("/invoice-rows", content=json.dumps({**base, "quantity": 1, "netPrice": 9.5}).encode(),
                            headers={"Content-Type": "application/json"})
    assert price_number.json()["hydra:description"] == ('The type of the "netPrice" attribute must be "string", '
                                                       '"double" given.')
    bad = api.post("/invoice-rows", json={**base, "quantity": 1, "netPrice": "12,3a", "vatRate": "-1"})
    assert bad.status_code == 422
    assert [v["propertyPath"] for v in bad.json()["violations"]] == ["vatRate", "netPrice"]
    good = api.post("/invoice-rows", content=b'{"invoice": "/api/invoices/1", "productName": "Uren", '
                    b'"quantity": 0.75, "netPrice": "10.005", "vatRate": "9"}',
                    headers={"Content-Type": "application/json"})
    row = _doc(good)
    assert (row["quantity"], row["netPrice"], row["vatRate"], row["netAmount"], row["vatAmount"]) == (
        Decimal("0.75"), "10.01", "9.00", "7.51", "0.68")
    assert api.delete(f"/invoice-rows/{row['id']}").status_code == 405


def test_updated_at_of_an_invoice_moves_with_its_rows_and_transactions(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=3, invoices=5)
    invoice = _doc(api.get("/invoices/3"))
    stamps = [invoice["updatedAt"]]
    hy.clock(advance_seconds=5)
    api.patch(invoice["invoiceRows"][0].removeprefix("/api"), content=b'{"quantity": 7}', headers=MERGE)
    after_row = _doc(api.get("/invoices/3"))
    stamps.append(after_row["updatedAt"])
    hy.clock(advance_seconds=5)
    paid = api.post("/invoice-transactions", json={"invoice": "/api/invoices/3", "amount": 10,
                                                   "date": "2025-05-05T10:00:00+02:00"})
    assert paid.status_code == 201 and paid.json()["amount"] == 10
    after_payment = _doc(api.get("/invoices/3"))
    stamps.append(after_payment["updatedAt"])
    hy.clock(advance_seconds=5)
    assert api.delete(f"/invoice-transactions/{paid.json()['id']}").status_code == 204
    after_delete = _doc(api.get("/invoices/3"))
    stamps.append(after_delete["updatedAt"])
    assert stamps == sorted(set(stamps)), stamps
    assert Decimal(after_payment["openAmount"]) == Decimal(after_row["openAmount"]) - 10
    assert after_delete["openAmount"] == after_row["openAmount"]
    unchanged = api.patch("/invoices/3", content=b'{"currency": "EUR"}', headers=MERGE)
    assert unchanged.json()["updatedAt"] == after_delete["updatedAt"]  # nothing changed: no new stamp


def test_delete_is_a_soft_delete(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=3, invoices=10)
    assert api.delete("/invoices/4").status_code == 204
    assert api.get("/invoices/4").status_code == 404
    assert 4 not in [m["id"] for m in _doc(api.get("/invoices"))["hydra:member"]]
    assert _doc(api.get("/invoices"))["hydra:totalItems"] == 9
    assert api.delete("/invoices/4").status_code == 404
    marked = next(i for i in hy.state()["invoices"] if i["id"] == 4)
    assert marked["deleted"] is True and marked["deletedAt"]
    assert all(r["deleted"] for r in marked["rows"])
    assert api.post("/invoice-rows", json={"invoice": "/api/invoices/4", "productName": "x", "quantity": 1,
                                           "netPrice": "1.00", "vatRate": "0.00"}).json()["hydra:description"] == (
        'Item not found for "/api/invoices/4".')


def test_send_actions(api: httpx.Client, hy: HydraHarness) -> None:
    customer = _customer(api)
    draft = _invoice(api, {"@id": customer["@id"]}, rows=2)
    preview = api.get(f"/invoices/{draft['id']}/send")
    assert preview.status_code == 200 and preview.json()["status"] == "draft"
    sent = api.post(f"/invoices/{draft['id']}/send")
    assert sent.status_code == 200 and sent.json()["status"] == "overdue"  # dated 2025-03-04, due 30 days later
    assert sent.json()["number"] == "2025-03-0001" and sent.json()["dueDate"] == "2025-04-03T00:00:00+00:00"
    today = date.today()
    at_once = api.post("/invoices/send", json={"customer": customer["@id"], "date": today.isoformat()})
    assert at_once.status_code == 201 and at_once.json()["number"] == f"{today:%Y-%m}-0001"
    assert at_once.json()["status"] == "sent"
    other = api.post("/invoices", json={"customer": customer["@id"]}).json()
    e_sent = api.post("/e-invoices/send", json={"invoice": other["@id"]})
    assert e_sent.status_code == 201 and e_sent.json()["number"] == f"{today:%Y-%m}-0002"
    cancelled = api.patch(f"/invoices/{other['id']}", content=b'{"status": "cancelled"}', headers=MERGE)
    assert cancelled.json()["status"] == "cancelled"
    assert api.post(f"/invoices/{other['id']}/send").status_code == 422
    assert api.patch(f"/invoices/{draft['id']}", content=b'{"status": "paid"}', headers=MERGE).status_code == 422


def test_payment_methods(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=1, invoices=1, payment_methods=3)
    methods = _doc(api.get("/payment-methods"))["hydra:member"]
    assert len(methods) == 3 and all(isinstance(m["id"], str) and m["id"].startswith("pm_") for m in methods)
    key = methods[0]["id"]
    patched = api.patch(f"/payment-methods/{key}", content=b'{"ccExpMonth": 13}', headers=MERGE)
    assert patched.status_code == 422
    assert api.delete(f"/payment-methods/{key}").status_code == 204
    deleted = _doc(api.get("/payment-methods", params={"deleted": "true"}))["hydra:member"]
    assert [(m["id"], m["deleted"]) for m in deleted] == [(key, True)] and deleted[0]["deletedAt"]
    intent = api.post("/payment-methods/create-setup-intent")
    assert intent.status_code == 201 and intent.json()["type"] == "card"


# -- faults and limits ------------------------------------------------------------------------------------


def test_page_shift_moves_records_onto_a_page_already_read(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=3, invoices=50)
    first = _doc(api.get("/invoices", params={"itemsPerPage": 10}))
    hy.faults([{"kind": "page_shift", "times": 1}])
    second = _doc(_follow(api, hy, first["hydra:view"]["hydra:next"]))
    assert second["hydra:totalItems"] == 49  # the record just before page 2 was deleted meanwhile
    assert second["hydra:member"][0]["id"] == 12  # so invoice 11 slid onto page 1: a client must notice


def test_page_shift_can_insert_a_record_before_the_page(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=30, invoices=1)
    params = {"itemsPerPage": 10, "order[id]": "desc"}
    first = _doc(api.get("/customers", params=params))
    hy.faults([{"kind": "page_shift", "body": "insert", "times": 1}])
    second = _doc(_follow(api, hy, first["hydra:view"]["hydra:next"]))
    assert second["hydra:totalItems"] == 31  # a new customer came first in this order
    assert second["hydra:member"][0]["id"] == first["hydra:member"][-1]["id"]  # read twice, not missed


def test_drop_after_commit_commits_then_hangs_up(api: httpx.Client, hy: HydraHarness) -> None:
    hy.seed(clients=2, invoices=1)
    hy.faults([{"kind": "drop_after_commit", "method": "POST", "times": 1}])
    with pytest.raises(httpx.TransportError):
        api.post("/customers", json={"name": "Half gelukt B.V."})
    assert "Half gelukt B.V." in [c["name"] for c in hy.state()["customers"]]
    assert hy.requests()[-1]["status"] == 0


@pytest.mark.parametrize("kind", ["html", "truncated_json"])
def test_garbage_faults(api: httpx.Client, hy: HydraHarness, kind: str) -> None:
    hy.seed(clients=2, invoices=3)
    hy.faults([{"kind": kind, "times": 1}])
    with pytest.raises(ValueError):
        json.loads(api.get("/invoices").content)
    assert api.get("/invoices").json()["hydra:totalItems"] == 3


def test_rate_limit_is_off_by_default_and_429_with_retry_after_when_on(api: httpx.Client, hy: HydraHarness) -> None:
    response = api.get("/invoices")
    assert "X-RateLimit-Limit" not in response.headers
    hy.rate_limit(2, 3600)
    statuses = [api.get("/invoices") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[0].headers["X-RateLimit-Remaining"] == "1"
    assert 0 < int(statuses[2].headers["Retry-After"]) <= 3600
    assert statuses[2].json()["hydra:description"] == "Too Many Requests"


def test_entrypoint_and_api_documentation(api: httpx.Client, hy: HydraHarness) -> None:
    entry = _doc(api.get(""))
    assert entry["@type"] == "Entrypoint" and entry["invoice"] == "/api/invoices"
    link = api.get("/invoices").headers["Link"]
    assert link == f'<{hy.origin}/api/docs.jsonld>; rel="http://www.w3.org/ns/hydra/core#apiDocumentation"'
    docs = httpx.get(hy.origin + "/api/docs.jsonld").json()  # public: no token
    assert docs["@type"] == "hydra:ApiDocumentation" and docs["hydra:entrypoint"] == "/api"
    rows = next(c for c in docs["hydra:supportedClass"] if c["hydra:title"] == "InvoiceRow")
    assert {o["hydra:method"] for o in rows["hydra:supportedOperation"]} == {"GET", "PATCH"}  # item operations
    net = next(p for p in rows["hydra:supportedProperty"] if p["hydra:title"] == "netAmount")
    assert (net["hydra:readable"], net["hydra:writeable"]) == (True, False)


def test_seed_is_deterministic_and_state_marks_deletions(hy: HydraHarness) -> None:
    hy.seed(clients=20, invoices=100, seed=3)
    one = hy.state()
    hy.seed(clients=20, invoices=100, seed=3)
    assert hy.state() == one
    counts = hy.get("/state/counts")
    assert (counts["customers"], counts["invoices"], counts["rows"]) == (20, 100, 300)
    assert counts["transactions"] == sum(len(i["transactions"]) for i in one["invoices"])


def test_command_line_serves_and_prints_one_json_line() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "sandboxes.hydra", "--port", "0", "--clients", "3",
                             "--invoices", "7", "--flavour", "4"], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["service"] == "hydra" and info["base_url"].endswith("/api")
        page = httpx.get(info["base_url"] + "/invoices", headers={"Authorization": f"Bearer {info['api_key']}"})
        assert page.json()["totalItems"] == 7
    finally:
        proc.terminate()
        proc.wait(timeout=10)
