"""The FastFaktura sandbox over real sockets: auth, envelopes, paging, search, archive, invoices, limits, faults."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sandboxes.fastfaktura.seed import SeedSpec, generate
from sandboxes.fastfaktura.wire import (
    ENTRY_KEYS,
    dumps,
    entry_json,
    invoice_detail_dict,
    invoice_entry_dict,
    invoice_json,
)
from tests.fastfaktura.harness import API_KEY, FastFakturaHarness
from tests.support import REPO

LINE = {"description": "Consulting", "quantity": 2, "unit_price_cents": 95000, "tax_rate": 25}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _decimal_json(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


def _client(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/clients", json={"name": "Fjord Design AS", "email": "post@fjord.no",
                                          "phone": "+4791234567", **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _invoice(api: httpx.Client, client_id: str, **fields: Any) -> dict[str, Any]:
    body = {"client_id": client_id, "currency": "NOK", "due_date": (date.today() + timedelta(days=14)).isoformat(),
            "lines": [LINE], **fields}
    response = api.post("/invoices", json=body)
    assert response.status_code == 201, response.text
    return dict(_decimal_json(response))


# -- auth and errors ---------------------------------------------------------------------------------


def test_the_key_works_in_either_header_and_a_wrong_one_gets_401(ff: FastFakturaHarness) -> None:
    for headers in ({"X-Api-Key": API_KEY}, {"Authorization": f"Bearer {API_KEY}"}):
        assert httpx.get(f"{ff.base_url}/business", headers=headers).status_code == 200
    for headers in ({}, {"X-Api-Key": "ffk_wrong"}, {"Authorization": "Bearer ffk_wrong"},
                    {"Authorization": f"Basic {API_KEY}"}):
        response = httpx.get(f"{ff.base_url}/clients", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/json"
        assert response.headers["www-authenticate"] == 'Bearer realm="FastFaktura"'
        assert response.json() == {"error": {"code": "unauthorized", "message": "Missing or invalid API key"}}


def test_unknown_paths_methods_and_bodies_answer_the_error_envelope(api: httpx.Client) -> None:
    missing = api.get("/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.get("/clients/4b1f3d4e-0000-4000-8000-000000000000").json()["error"]["code"] == "not_found"
    wrong = api.patch("/clients")
    assert wrong.status_code == 405 and set(wrong.headers["allow"].split(", ")) == {"GET", "POST"}
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    garbage = api.post("/clients", content=b"{not json", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "invalid_json"
    invalid = api.post("/clients", json={"email": "no-at-sign", "phone": "0047 912", "locale": "de", "tags": [1]})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "validation_failed"
    assert set(invalid.json()["error"]["fields"]) == {"name", "email", "phone", "locale", "tags"}


def test_the_business_profile_reads_and_updates(api: httpx.Client) -> None:
    business = api.get("/business").json()
    assert set(business) == {"id", "name", "email", "phone", "address", "country", "currency", "locale",
                             "vat_number"}

    updated = api.put("/business", json={"name": "Nordlys Holding AS", "currency": "EUR", "country": "se"})

    assert updated.status_code == 200
    assert updated.json() == {**business, "name": "Nordlys Holding AS", "currency": "EUR", "country": "SE"}
    assert api.get("/business").json() == updated.json()
    refused = api.put("/business", json={"currency": "BTC", "locale": "de"})
    assert refused.status_code == 422 and set(refused.json()["error"]["fields"]) == {"currency", "locale"}


# -- clients -----------------------------------------------------------------------------------------


def test_clients_are_bare_objects_with_the_documented_fields(api: httpx.Client) -> None:
    created = _client(api, country="no", tags=["vip", "vip", "b2b"], external_id="CRM-1", address="")
    assert list(created) == ["id", "name", "email", "phone", "address", "country", "locale", "external_id", "tags",
                             "archived_at"]
    assert UUID.match(created["id"])
    assert created["country"] == "NO" and created["locale"] == "en" and created["tags"] == ["vip", "b2b"]
    assert created["address"] is None and created["archived_at"] is None
    assert api.get(f"/clients/{created['id']}").json() == created

    updated = api.put(f"/clients/{created['id']}", json={"email": None, "id": "ignored", "archived_at": "2020"})
    assert updated.status_code == 200
    assert updated.json() == {**created, "email": None}  # a partial update; read-only fields ignored


def test_delete_archives_and_the_lists_split_active_and_archived(api: httpx.Client) -> None:
    first, second = _client(api, name="Alpha AS"), _client(api, name="Beta AB")

    archived = api.delete(f"/clients/{first['id']}")

    assert archived.status_code == 200 and archived.json()["archived_at"]
    assert api.get(f"/clients/{first['id']}").json() == archived.json()
    assert api.delete(f"/clients/{first['id']}").json() == archived.json()  # idempotent, stamp unchanged
    assert [c["id"] for c in api.get("/clients").json()["data"]] == [second["id"]]
    assert [c["id"] for c in api.get("/clients", params={"archived": "true"}).json()["data"]] == [first["id"]]
    assert api.get("/clients", params={"archived": "false"}).json()["meta"]["total"] == 1
    assert api.get("/clients", params={"archived": "yes"}).status_code == 422
    refused = api.post("/invoices", json={"client_id": first["id"], "currency": "NOK", "lines": [LINE]})
    assert refused.status_code == 422 and refused.json()["error"]["fields"] == {"client_id": "the client is archived"}
    assert api.put(f"/clients/{first['id']}", json={"name": "Alpha Holding AS"}).json()["archived_at"]


def test_search_matches_name_email_and_phone_digits(api: httpx.Client) -> None:
    a = _client(api, name="Nordlys Bygg AS", email="ola@nordlys.no", phone="+4791234567")
    b = _client(api, name="Fjell Media AB", email="kari@fjell.se", phone="+46701234567")

    def found(q: str) -> list[str]:
        return [c["id"] for c in api.get("/clients", params={"q": q}).json()["data"]]

    assert found("nordlys") == [a["id"]]
    assert found("KARI@") == [b["id"]]
    assert found("91 23 45") == [a["id"]]
    assert sorted(found("1234567")) == sorted([a["id"], b["id"]])
    assert found("nobody") == []


def test_lists_page_by_25_newest_first_to_an_empty_page(ff: FastFakturaHarness, api: httpx.Client) -> None:
    ff.seed(clients=30, invoices=60, archived_share=0)
    truth = ff.state()
    newest_first = [i["id"] for i in reversed(truth["invoices"])]
    seen: list[str] = []
    for page in (1, 2, 3, 4):
        body = api.get("/invoices", params={"page": page}).json()
        assert body["meta"] == {"page": page, "per_page": 25, "total": 60, "last_page": 3}
        seen += [i["id"] for i in body["data"]]
        assert len(body["data"]) == {1: 25, 2: 25, 3: 10, 4: 0}[page]
    assert seen == newest_first
    assert api.get("/invoices", params={"page": 0}).status_code == 422
    assert api.get("/invoices", params={"page": "x"}).json()["error"]["fields"] == {
        "page": "must be a positive integer"}
    clients = api.get("/clients", params={"page": 2}).json()
    assert [c["id"] for c in clients["data"]] == [c["id"] for c in reversed(truth["clients"][:5])]
    assert api.get("/clients", params={"page": 9}).json() == {
        "data": [], "meta": {"page": 9, "per_page": 25, "total": 30, "last_page": 2}}


# -- invoices ------------------------------------------------------------------------------------------


def test_list_entries_are_the_invoice_schema_and_details_add_lines_and_events(
    ff: FastFakturaHarness, api: httpx.Client
) -> None:
    ff.seed(clients=10, invoices=30)
    entry = _decimal_json(api.get("/invoices"))["data"][0]
    assert tuple(entry) == ENTRY_KEYS
    detail = _decimal_json(api.get(f"/invoices/{entry['id']}"))
    assert {k: detail[k] for k in ENTRY_KEYS} == entry
    assert list(detail)[len(ENTRY_KEYS):] == ["notes", "lines", "events"]
    assert set(detail["lines"][0]) == {"description", "quantity", "unit_price_cents", "tax_rate"}
    assert detail["events"][0]["type"] == "created" and detail["events"][0]["created_at"].endswith("Z")
    assert api.get(f"/invoices/{entry['id']}/events").json() == {"data": json.loads(json.dumps(detail["events"],
                                                                                              default=str))}
    assert re.match(r"^FF-\d{4}-\d{4,}$", entry["number"]) and UUID.match(entry["id"])
    assert entry["public_url"].startswith("https://app.fastfaktura.io/i/")


def test_tax_is_rounded_half_up_per_line_and_totals_are_sums(api: httpx.Client) -> None:
    client = _client(api)
    lines = [
        {"description": "A", "quantity": 1, "unit_price_cents": 1, "tax_rate": 50},  # 0.5 -> 1
        {"description": "B", "quantity": 1, "unit_price_cents": 1, "tax_rate": 50},  # 0.5 -> 1
        {"description": "C", "quantity": 1.5, "unit_price_cents": 333, "tax_rate": 5.5},  # 499.5 net, 27.4725 tax
        {"description": "D", "quantity": 3, "unit_price_cents": -250, "tax_rate": 25},  # a discount line
    ]
    invoice = _invoice(api, client["id"], lines=lines, notes="PO 42")

    # Per line: nets 1, 1, 500 (499.5 up), -750; taxes 1, 1, 27, -188 (-187.5 away from zero).
    assert (invoice["subtotal_cents"], invoice["tax_cents"], invoice["total_cents"]) == (-248, -159, -407)
    assert [ln["quantity"] for ln in invoice["lines"]] == [1, 1, Decimal("1.5"), 3]
    assert invoice["lines"][2]["tax_rate"] == Decimal("5.5")
    assert invoice["status"] == "draft" and invoice["notes"] == "PO 42"
    raw = api.get(f"/invoices/{invoice['id']}").content
    assert b'"quantity":1.5,' in raw and b'"tax_rate":5.5}' in raw  # exact numbers, never float noise

    bad = api.post("/invoices", json={"client_id": client["id"], "currency": "XYZ", "due_date": "2025-13-01",
                                      "lines": [{"description": "", "quantity": "2", "unit_price_cents": 1.5,
                                                 "tax_rate": 120}]})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {
        "currency": "is required, one of EUR, USD, GBP, NOK, SEK, DKK",
        "due_date": "must be a date (YYYY-MM-DD) or null",
        "lines.0.description": "is required (a non-empty string)",
        "lines.0.quantity": "must be a number above 0",
        "lines.0.unit_price_cents": "must be an integer (cents)",
        "lines.0.tax_rate": "must be a percentage from 0 to 100",
    }


def test_numbers_count_up_per_year_from_creation(api: httpx.Client) -> None:
    client = _client(api)
    numbers = [_invoice(api, client["id"])["number"] for _ in range(3)]
    year = date.today().year
    assert numbers == [f"FF-{year}-0001", f"FF-{year}-0002", f"FF-{year}-0003"]


def test_an_invoice_goes_draft_sent_opened_paid(ff: FastFakturaHarness, api: httpx.Client) -> None:
    client = _client(api)
    invoice = _invoice(api, client["id"])
    assert api.post(f"/invoices/{invoice['id']}/send", json={"channels": ["email"], "reminder": True}).status_code \
        == 409  # a draft cannot be reminded

    sent = api.post(f"/invoices/{invoice['id']}/send", json={"channels": ["email", "sms", "email"]}).json()

    assert sent["status"] == "sent"
    assert [(e["type"], e.get("channel")) for e in sent["events"]] == [
        ("created", None), ("sent", "email"), ("sent", "sms")]

    viewer = httpx.get(ff.server.origin + urlsplit(invoice["public_url"]).path)  # the client opens the link
    assert viewer.status_code == 200 and "text/html" in viewer.headers["content-type"]
    assert api.get(f"/invoices/{invoice['id']}").json()["status"] == "opened"
    reminded = api.post(f"/invoices/{invoice['id']}/send", json={"channels": ["link"], "reminder": True}).json()
    assert reminded["status"] == "opened" and reminded["events"][-1]["type"] == "reminder_sent"

    paid = ff.act("pay_invoice", invoice_id=invoice["id"], paid_at="2030-01-02T03:04:05Z")

    event = paid["events"][-1]
    assert paid["status"] == "paid"
    assert event["type"] == "paid" and event["amount_cents"] == paid["total_cents"] == 237500
    assert event["paid_at"] == "2030-01-02T03:04:05Z" and event["data"]["method"] == "card"
    again = api.post(f"/invoices/{invoice['id']}/send", json={"channels": ["email"]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert ff.control.post("/act/cancel_invoice", json={"invoice_id": invoice["id"]}).status_code == 409


def test_cancelled_invoices_cannot_be_sent_and_channels_need_contact_data(
    ff: FastFakturaHarness, api: httpx.Client
) -> None:
    silent = _client(api, name="No Contact AS", email=None, phone=None)
    invoice = _invoice(api, silent["id"])
    for channel, problem in (("email", "the client has no e-mail address"), ("sms", "the client has no phone number")):
        refused = api.post(f"/invoices/{invoice['id']}/send", json={"channels": [channel]})
        assert refused.status_code == 422 and refused.json()["error"]["fields"] == {"channels": problem}
    assert api.post(f"/invoices/{invoice['id']}/send", json={"channels": []}).status_code == 422
    assert api.post(f"/invoices/{invoice['id']}/send", json={"channels": ["link"]}).json()["status"] == "sent"

    cancelled = ff.act("cancel_invoice", invoice_id=invoice["id"])

    assert cancelled["status"] == "cancelled" and cancelled["events"][-1]["type"] == "cancelled"
    refused = api.post(f"/invoices/{invoice['id']}/send", json={"channels": ["link"]})
    assert refused.status_code == 409
    assert refused.json()["error"] == {"code": "conflict", "message": "The invoice is cancelled and cannot be sent"}


def test_sent_invoices_turn_overdue_the_day_after_their_due_date(ff: FastFakturaHarness, api: httpx.Client) -> None:
    client = _client(api)
    due = date.today() + timedelta(days=1)
    invoice = _invoice(api, client["id"], due_date=due.isoformat())
    api.post(f"/invoices/{invoice['id']}/send", json={"channels": ["email"]})

    ff.post("/clock", {"advance_seconds": 3 * 86400})

    after = api.get(f"/invoices/{invoice['id']}").json()
    assert after["status"] == "overdue"
    assert after["events"][-1] == {**after["events"][-1], "type": "overdue",
                                   "created_at": f"{due + timedelta(days=1)}T00:00:00Z"}
    assert api.get("/invoices", params={"status": "overdue"}).json()["meta"]["total"] == 1
    assert api.get("/invoices", params={"status": "late"}).status_code == 422


def test_the_pdf_is_a_small_valid_pdf(api: httpx.Client) -> None:
    invoice = _invoice(api, _client(api)["id"])
    response = api.get(f"/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-1.4") and response.content.rstrip().endswith(b"%%EOF")
    assert invoice["number"].encode() in response.content
    xref = int(response.content.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert response.content[xref:xref + 4] == b"xref"


# -- seeding, truth, wire --------------------------------------------------------------------------------


def test_seeding_is_deterministic_with_a_realistic_mix(ff: FastFakturaHarness) -> None:
    spec = {"clients": 60, "invoices": 400, "start_date": "2024-01-01", "end_date": "2024-12-31"}
    ff.post("/seed", spec)
    first = ff.control.get("/state").content
    ff.post("/seed", spec)
    assert ff.control.get("/state").content == first
    for inv in json.loads(first)["invoices"]:  # long past: every unpaid sent invoice is overdue by now
        assert inv["status"] in ("draft", "paid", "overdue", "cancelled")
        times = [e["created_at"] for e in inv["events"]]
        assert times == sorted(times)

    counts = ff.seed(clients=60, invoices=400)  # made over the last year, events up to yesterday

    assert counts["archived_clients"] >= 1 and counts["invoices"] == 400
    assert all(counts[s] > 0 for s in ("draft", "sent", "opened", "paid", "overdue", "cancelled")), counts
    truth = ff.state()
    assert len(truth["payments"]) == counts["paid"] == counts["payments"]
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    for inv in truth["invoices"]:
        assert inv["subtotal_cents"] + inv["tax_cents"] == inv["total_cents"]
        assert max(e["created_at"] for e in inv["events"])[:10] <= yesterday


def test_cached_json_equals_the_plain_serialization() -> None:
    data = generate(SeedSpec(seed=3, clients=20, invoices=300))
    for inv in data.invoices:
        assert entry_json(inv).decode() == dumps(invoice_entry_dict(inv))
        assert invoice_json(inv).decode() == dumps(invoice_detail_dict(inv))
        assert json.loads(invoice_json(inv), parse_float=Decimal)["total_cents"] == inv.total_cents


def test_line_money_follows_decision_8() -> None:
    data = generate(SeedSpec(seed=5, clients=10, invoices=200))
    for inv in data.invoices:
        for line in inv.lines:
            gross = line.quantity * line.unit_price_cents
            assert line.tax_cents == int((gross * line.tax_rate / 100).quantize(Decimal(1), ROUND_HALF_UP))
        assert inv.subtotal_cents == sum(line.net_cents for line in inv.lines)


# -- limits and faults -------------------------------------------------------------------------------


def test_past_the_limit_answers_429_with_retry_after(ff: FastFakturaHarness, api: httpx.Client) -> None:
    ff.rate_limit(3, 60)
    assert [api.get("/business").status_code for _ in range(3)] == [200, 200, 200]

    limited = api.get("/business")

    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    other_key = httpx.get(f"{ff.base_url}/business", headers={"X-Api-Key": "ffk_other"})
    assert other_key.status_code == 401  # counted per key: a wrong key has its own budget
    ff.rate_limit(None, 60)
    assert api.get("/business").status_code == 200
    assert [r["status"] for r in ff.requests()][3] == 429


def test_page_shift_moves_the_listing_under_the_reader(ff: FastFakturaHarness, api: httpx.Client) -> None:
    ff.seed(clients=60, invoices=60, archived_share=0)
    page1 = [c["id"] for c in api.get("/clients").json()["data"]]
    ff.faults([{"kind": "page_shift", "path_prefix": "/api/v1/clients"}])

    page2 = [c["id"] for c in api.get("/clients", params={"page": 2}).json()["data"]]

    assert ff.get("/state/counts")["archived_clients"] == 1  # the last client of page 1 was archived
    truth_order = [c["id"] for c in reversed(ff.state()["clients"])]
    assert page2[0] == truth_order[26]  # everything moved up one place: truth_order[25] was skipped
    assert page1[-1] not in [c["id"] for c in api.get("/clients").json()["data"]]

    ff.faults([{"kind": "page_shift", "path_prefix": "/api/v1/invoices"}])
    first = [i["id"] for i in api.get("/invoices").json()["data"]]
    second = api.get("/invoices", params={"page": 2}).json()
    assert second["meta"]["total"] == 61 and second["data"][0]["id"] == first[-1]  # a new draft pushed it down


def test_drop_after_commit_creates_but_never_answers(ff: FastFakturaHarness, api: httpx.Client) -> None:
    ff.faults([{"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/v1/clients"}])
    with pytest.raises(httpx.HTTPError):
        api.post("/clients", json={"name": "Ghost AS"})
    assert [c["name"] for c in api.get("/clients").json()["data"]] == ["Ghost AS"]
    assert [r["status"] for r in ff.requests()] == [0, 200]


@pytest.mark.parametrize("kind", ["html", "truncated_json", "status"])
def test_garbage_and_server_errors(ff: FastFakturaHarness, api: httpx.Client, kind: str) -> None:
    ff.seed(clients=3, invoices=3)
    ff.faults([{"kind": kind, "path_prefix": "/api/v1/invoices", "status": 503 if kind == "status" else None}])
    response = api.get("/invoices")
    if kind == "html":
        assert response.headers["content-type"].startswith("text/html")
    elif kind == "truncated_json":
        with pytest.raises(ValueError):
            response.json()
    else:
        assert response.status_code == 503 and response.json()["error"]["code"] == "server_error"
    assert api.get("/invoices").status_code == 200  # the rule fired once


def test_keep_alive_serves_many_requests_on_one_connection(ff: FastFakturaHarness) -> None:
    ff.seed(clients=2, invoices=5)
    host, port = urlsplit(ff.base_url).hostname, urlsplit(ff.base_url).port
    with socket.create_connection((host, port)) as sock:
        request = f"GET /api/v1/invoices HTTP/1.1\r\nHost: x\r\nX-Api-Key: {API_KEY}\r\n\r\n".encode()
        reader = sock.makefile("rb")
        for _ in range(3):
            sock.sendall(request)
            assert reader.readline().startswith(b"HTTP/1.1 200")
            length = 0
            while (line := reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert json.loads(reader.read(length))["meta"]["total"] == 5


def test_the_module_serves_in_the_foreground_and_prints_where(tmp_path: Any) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "sandboxes.fastfaktura", "--invoices", "30", "--seed", "3"],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["service"] == "fastfaktura" and info["api_key"] == "ffk_test_key"
        body = httpx.get(f"{info['base_url']}/invoices", headers={"Authorization": "Bearer ffk_test_key"}).json()
        assert body["meta"]["total"] == 30
    finally:
        proc.terminate()
        proc.wait(timeout=10)
