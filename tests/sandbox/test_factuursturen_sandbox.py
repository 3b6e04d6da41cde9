"""The FactuurSturen sandbox over real sockets: wire shapes, input forms, limits, paging, payments, faults."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandboxes.factuursturen import FactuurSturenSandbox
from sandboxes.factuursturen.fastjson import invoice_json
from sandboxes.factuursturen.seed import SeedSpec, generate
from sandboxes.factuursturen.wire import encode, invoice_dict

REPO = Path(__file__).resolve().parents[2]
USER, KEY = "tester", "fs-key-123"
LINE = {"amount": 2, "description": "Werk", "tax_rate": 21, "price": "10.005"}


@pytest.fixture(scope="module")
def server() -> Iterator[FactuurSturenSandbox]:
    sandbox = FactuurSturenSandbox(port=0, username=USER, api_key=KEY).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sb(server: FactuurSturenSandbox) -> FactuurSturenSandbox:
    """The sandbox, reset: empty, no faults, real time, rate limit 250/hour."""
    server.reset()
    server.limiter.configure(250, 3600)
    return server


@pytest.fixture
def api(sb: FactuurSturenSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sb.base_url, auth=(USER, KEY), headers={"Accept": "application/json"}, timeout=5
    ) as client:
        yield client


@pytest.fixture
def ctl(sb: FactuurSturenSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.control_url, timeout=30) as client:
        yield client


def _post(ctl: httpx.Client, path: str, body: Any = None) -> Any:
    response = ctl.post(path, json=body if body is not None else {})
    assert response.status_code == 200, response.text
    return response.json()


def _seed(ctl: httpx.Client, **extra: Any) -> None:
    _post(
        ctl,
        "/seed",
        {"seed": 7, "clients": 30, "invoices": 200, "start_date": "2024-01-01", "end_date": "2024-12-31", **extra},
    )


def _client(api: httpx.Client, **fields: Any) -> str:
    response = api.post("/clients", json={"company": "Test B.V.", "email": "a@b.nl", **fields})
    assert response.status_code == 201
    return response.text


def _invoice(api: httpx.Client, clientnr: str, **fields: Any) -> dict[str, Any]:
    body = {"clientnr": clientnr, "action": "send", "sendmethod": "email", "lines": [LINE], **fields}
    response = api.post("/invoices", json=body)
    assert response.status_code == 201, response.text
    return dict(api.get(f"/invoices/{response.text}").json()["invoice"])


# -- wire shapes -------------------------------------------------------------------------------------


def test_strings_on_top_keyed_lines_and_envelopes(api: httpx.Client, ctl: httpx.Client) -> None:
    _seed(ctl)
    listing = api.get("/invoices", params={"count": 5})
    assert listing.headers["content-type"].startswith("application/json")
    assert isinstance(listing.json(), list) and len(listing.json()) == 5
    invoice = api.get(f"/invoices/{listing.json()[0]['id']}").json()["invoice"]
    nested = {"reference", "lines", "taxes", "history"}
    assert all(isinstance(v, str) for k, v in invoice.items() if k not in nested)
    assert invoice["invoicenr"] == invoice["invoicenr_full"] == f"F{invoice['id']}"
    assert list(invoice["lines"]) == [f"line{i}" for i in range(1, len(invoice["lines"]) + 1)]
    line = invoice["lines"]["line1"]
    assert isinstance(line["amount"], int | float) and isinstance(line["linetotal"], int | float)
    for name in ("sent", "duedate", "paiddate", "lastreminder", "uncollectible"):
        assert invoice[name] == "" or date.fromisoformat(invoice[name])
    assert invoice["tax_shifted"] in ("true", "false") and invoice["collection"] in ("0", "1")
    assert list(invoice["reference"]) == ["line1", "line2", "line3"]
    assert b"https:\\/\\/www.factuursturen.nl\\/pay?" in api.get(f"/invoices/{invoice['id']}").content
    client = api.get(f"/clients/{invoice['clientnr']}").json()["client"]
    assert all(isinstance(v, str) for k, v in client.items() if k != "reference")
    assert client["showcontact"] in ("true", "false") and client["country"].isdigit()


def test_money_is_exact_and_empty_keyed_objects_are_arrays(api: httpx.Client) -> None:
    nr = _client(api)
    lines = [
        {"amount": 4, "description": "Appels", "tax_rate": 21, "price": 13},
        {"amount": 50, "description": "Knoppen", "tax_rate": 9, "price": "5.952", "discount_pct": 10},
        {"description": "Alleen tekst"},
    ]
    invoice = _invoice(api, nr, lines=lines)
    raw = api.get(f"/invoices/{invoice['id']}").content
    assert b'"price":13,' in raw and b'"price":5.952,' in raw and b'"linetotal":267.84' in raw
    assert invoice["taxes"] == {
        "tax1": {"rate": 21, "sum": "10.92", "sum_of": "52.00"},
        "tax2": {"rate": 9, "sum": "24.11", "sum_of": "267.84"},
    }
    assert (invoice["tax"], invoice["totalintax"], invoice["open"]) == ("35.03", "354.87", "354.87")
    assert invoice["lines"]["line3"]["description"] == "Alleen tekst" and invoice["lines"]["line3"]["linetotal"] == 0
    text_only = _invoice(api, nr, lines=[{"description": "Alleen tekst"}])
    assert text_only["taxes"] == [] and text_only["totalintax"] == "0.00"
    assert list(text_only["history"]) == ["item1"]


def test_fast_serializer_equals_the_dict_path() -> None:
    data = generate(SeedSpec(seed=3, clients=40, invoices=400, start_date=date(2024, 1, 1), end_date=date(2025, 6, 1)))
    data.invoices[0].snapshot.company = 'Smit & "Zn" / Café €'
    data.invoices[0].snapshot.cache_json = ""
    for invoice in data.invoices:
        assert invoice_json(invoice) == encode(invoice_dict(invoice))


def test_post_answers_plain_text_ids_put_and_delete_answer_null(api: httpx.Client) -> None:
    created = api.post("/clients", json={"company": "Nieuw", "country": "Belgium"})
    assert created.status_code == 201 and created.headers["content-type"].startswith("text/html")
    assert created.text.isdigit()
    assert api.get(f"/clients/{created.text}").json()["client"]["country"] == "18"
    updated = api.put(f"/clients/{created.text}", json={"city": "Gent"})
    assert (updated.status_code, updated.text) == (200, "null")
    product = api.post("/products", json={"code": "X1", "name": "Ding", "price": 120, "taxes": 21})
    assert product.status_code == 201
    assert api.get(f"/products/{product.text}").json()["product"]["priceintax"] == "145.2"
    sent = api.post(
        "/invoices", json={"clientnr": created.text, "action": "send", "sendmethod": "mail", "lines": [LINE]}
    )
    assert sent.status_code == 201 and sent.text.startswith("F") and sent.text[1:].isdigit()
    assert api.put(f"/invoices/{sent.text}", json={}).status_code == 405
    assert api.delete(f"/clients/{created.text}").status_code == 403  # it has an invoice
    assert api.delete(f"/invoices/{sent.text}").status_code == 200
    assert api.get(f"/invoices/{sent.text}").status_code == 404
    assert api.delete(f"/clients/{created.text}").text == "null"
    missing = api.get("/clients/99999")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")


def test_php_form_bodies_and_both_line_shapes(api: httpx.Client) -> None:
    nr = api.post(
        "/clients", data={"company": "Form B.V.", "showcontact": "0", "reference[line1]": "PO-1", "email": "x@y.nl"}
    ).text
    client = api.get(f"/clients/{nr}").json()["client"]
    assert (client["showcontact"], client["reference"]["line1"]) == ("false", "PO-1")
    form = {
        "clientnr": nr,
        "action": "send",
        "sendmethod": "email",
        "lines[0][amount]": "3",
        "lines[0][description]": "A",
        "lines[0][price]": "1.5",
        "lines[0][tax_rate]": "21",
        "lines[1][description]": "tekst",
    }
    by_index = api.post("/invoices", data=form)
    keyed = {k.replace("[0]", "[line1]").replace("[1]", "[line2]"): v for k, v in form.items()}
    by_key = api.post("/invoices", data=keyed)
    as_object = api.post(
        "/invoices",
        json={
            "clientnr": int(nr),
            "action": "send",
            "sendmethod": "email",
            "lines": {
                "line1": {"amount": 3, "description": "A", "price": 1.5, "tax_rate": 21},
                "line2": {"description": "tekst"},
            },
        },
    )
    totals = {api.get(f"/invoices/{r.text}").json()["invoice"]["totalintax"] for r in (by_index, by_key, as_object)}
    assert totals == {"5.45"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "send", "sendmethod": "email", "lines": [LINE]}, "clientnr"),
        ({"clientnr": "{nr}", "sendmethod": "email", "lines": [LINE]}, "action"),
        ({"clientnr": "{nr}", "action": "send", "lines": [LINE]}, "sendmethod"),
        ({"clientnr": "{nr}", "action": "send", "sendmethod": "email", "lines": []}, "line"),
        ({"clientnr": "{nr}", "action": "save", "lines": [LINE]}, "savename"),
        ({"clientnr": "{nr}", "action": "save", "savename": "x" * 21, "lines": [LINE]}, "20"),
        ({"clientnr": "99999", "action": "send", "sendmethod": "email", "lines": [LINE]}, "not found"),
    ],
    ids=["no-client", "no-action", "no-sendmethod", "no-lines", "no-savename", "long-savename", "unknown-client"],
)
def test_invalid_invoice_posts_are_400_plain_text(api: httpx.Client, body: dict[str, Any], message: str) -> None:
    nr = _client(api)
    response = api.post("/invoices", json={k: (nr if v == "{nr}" else v) for k, v in body.items()})
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
    assert message in response.text


def test_save_and_repeat_go_to_their_own_lists(api: httpx.Client) -> None:
    nr = _client(api)
    saved = api.post("/invoices", json={"clientnr": nr, "action": "save", "savename": "concept", "lines": [LINE]})
    repeated = api.post(
        "/invoices",
        json={
            "clientnr": nr,
            "action": "repeat",
            "savename": "maandelijks",
            "initialdate": "2025-01-01",
            "frequency": "monthly",
            "repeattype": "auto",
            "lines": [LINE],
        },
    )
    assert (saved.status_code, repeated.status_code) == (201, 201)
    assert api.get("/invoices").json() == []
    assert api.get(f"/invoices_saved/{saved.text}").json()["invoice"]["name"] == "concept"
    assert api.get("/invoices_repeated").json()[0]["frequency"] == "monthly"
    assert (
        api.post(
            "/invoices", json={"clientnr": nr, "action": "save", "savename": "concept", "lines": [LINE]}
        ).status_code
        == 400
    )


def test_xml_without_accept_header(sb: FactuurSturenSandbox, api: httpx.Client) -> None:
    nr = _client(api, company="A & B / C")
    response = httpx.get(f"{sb.base_url}/clients", auth=(USER, KEY))
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "clients" and root.find("client/clientnr").text == nr  # type: ignore[union-attr]
    assert root.find("client/company").text == "A & B / C"  # type: ignore[union-attr]


# -- auth, rate limit, clock --------------------------------------------------------------------------


def test_bad_credentials_are_401_with_rate_headers(sb: FactuurSturenSandbox) -> None:
    for auth in [(USER, "wrong"), None]:
        response = httpx.get(f"{sb.base_url}/clients", auth=auth, headers={"Accept": "application/json"})
        assert response.status_code == 401 and response.headers["content-type"].startswith("text/html")
        assert response.headers["x-ratelimit-limit"] == "250" and "x-ratelimit-remaining" in response.headers


def test_spent_budget_is_403_until_the_window_rolls(api: httpx.Client, ctl: httpx.Client) -> None:
    _post(ctl, "/clock", {"now": "2025-06-01T12:00:10+02:00", "frozen": True})
    _post(ctl, "/ratelimit", {"limit": 3, "window_seconds": 60})
    answers = [api.get(path) for path in ("/clients", "/clients/404", "/profiles", "/clients")]
    assert [r.status_code for r in answers] == [200, 404, 200, 403]
    assert [r.headers["x-ratelimit-remaining"] for r in answers] == ["2", "1", "0", "0"]
    assert all(r.headers["x-ratelimit-limit"] == "3" for r in answers)
    _post(ctl, "/clock", {"advance_seconds": 50})
    assert api.get("/clients").status_code == 200
    _post(ctl, "/ratelimit", {"limit": None})
    unlimited = [api.get("/clients") for _ in range(5)]
    assert {r.status_code for r in unlimited} == {200}
    assert unlimited[-1].headers["x-ratelimit-remaining"] == unlimited[-1].headers["x-ratelimit-limit"]


def test_clock_drives_date_header_and_sent(api: httpx.Client, ctl: httpx.Client) -> None:
    _post(ctl, "/quirks", {"client_timestamp": "datetime"})  # absent by default (decision 23)
    state = _post(ctl, "/clock", {"now": "2025-03-30T01:59:00+01:00", "frozen": True})
    assert state["now"] == "2025-03-30T01:59:00+01:00"
    _post(ctl, "/clock", {"advance_seconds": 86400 * 2})
    nr = _client(api)
    response = api.post("/invoices", json={"clientnr": nr, "action": "send", "sendmethod": "email", "lines": [LINE]})
    assert parsedate_to_datetime(response.headers["date"]).isoformat() == "2025-04-01T00:59:00+00:00"
    invoice = api.get(f"/invoices/{response.text}").json()["invoice"]
    assert (invoice["sent"], invoice["duedate"], response.text) == ("2025-04-01", "2025-05-01", "F20250001")
    assert api.get(f"/clients/{nr}").json()["client"]["timestamp"] == "2025-04-01 02:59:00"


# -- listing ------------------------------------------------------------------------------------------


def test_paging_by_start_and_count(api: httpx.Client, ctl: httpx.Client) -> None:
    _seed(ctl)
    ids = [i["id"] for i in api.get("/invoices", params={"count": -1}).json()]
    assert len(ids) == 200 and ids == sorted(ids, key=int)
    assert len(api.get("/invoices").json()) == 100
    pages = [api.get("/invoices", params={"start": s, "count": 30}).json() for s in range(0, 240, 30)]
    assert [i["id"] for page in pages for i in page] == ids and pages[-1] == []
    clients = api.get("/clients", params={"start": 10, "count": 5}).json()
    assert [c["clientnr"] for c in clients] == ["11", "12", "13", "14", "15"]
    assert api.get("/invoices", params={"count": "x"}).status_code == 400


def test_since_until_filter_on_sent_date_inclusive(api: httpx.Client, ctl: httpx.Client) -> None:
    _seed(ctl)
    everything = api.get("/invoices", params={"count": -1}).json()
    day = everything[50]["sent"]
    later = (date.fromisoformat(day) + timedelta(days=10)).isoformat()
    window = api.get("/invoices", params={"since": day, "until": later, "count": -1}).json()
    assert window and [i["id"] for i in window] == [i["id"] for i in everything if day <= i["sent"] <= later]
    assert {i["sent"] for i in window} >= {day}
    assert api.get("/invoices", params={"since": "2024-13-01"}).status_code == 400


def test_backdated_invoice_is_found_by_its_sent_date(api: httpx.Client, ctl: httpx.Client) -> None:
    _seed(ctl)
    back = _post(ctl, "/act/create_invoice", {"clientnr": 1, "lines": [LINE], "sent": "2024-06-15"})
    found = api.get("/invoices", params={"since": "2024-06-15", "until": "2024-06-15", "count": -1}).json()
    assert back["id"] in {i["id"] for i in found} and {i["sent"] for i in found} == {"2024-06-15"}
    assert api.get("/invoices", params={"count": -1}).json()[-1]["id"] == back["id"]  # listed in creation order


def test_filters(api: httpx.Client, ctl: httpx.Client) -> None:
    _seed(ctl)
    _post(ctl, "/clock", {"now": "2025-01-15T12:00:00+01:00"})
    every = api.get("/invoices", params={"count": -1}).json()

    def ids(flt: str) -> set[str]:
        return {i["id"] for i in api.get("/invoices", params={"filter": flt, "count": -1}).json()}

    opened = {i["id"] for i in every if Decimal(i["open"]) > 0}
    assert ids("open") == opened and opened
    assert ids("paid") == {i["id"] for i in every if Decimal(i["open"]) == 0}
    assert ids("toomuch") == {i["id"] for i in every if Decimal(i["open"]) < 0}
    assert ids("partly") == {i["id"] for i in every if 0 < Decimal(i["open"]) < Decimal(i["totalintax"])}
    assert ids("overdue") == {i["id"] for i in every if Decimal(i["open"]) > 0 and i["duedate"] < "2025-01-15"}
    assert ids("uncollectible") == {i["id"] for i in every if i["uncollectible"]}
    assert ids("sent") == {i["id"] for i in every}
    assert all(ids(f) for f in ("paid", "toomuch", "partly", "overdue"))
    assert api.get("/invoices", params={"filter": "bogus"}).status_code == 400


def test_search_and_reference_lists(api: httpx.Client) -> None:
    _client(api, company="Zeilmakerij Vos", city="Harlingen")
    _client(api, company="Bakker", city="Zwolle")
    found = api.get("/search/clients/all/zeilmaker").json()
    assert [c["company"] for c in found] == ["Zeilmakerij Vos"]
    assert api.get("/search/clients/city/zwolle").json()[0]["company"] == "Bakker"
    countries = {c["id"]: c["name"] for c in api.get("/countrylist/en").json()}
    assert countries["146"] == "Netherlands" and len(countries) >= 30
    assert {c["id"]: c["name"] for c in api.get("/countrylist/nl").json()}["146"] == "Nederland"
    assert api.get("/taxes").json()[0] == {"percentage": "21", "type": "H", "default": "true", "country": "146"}
    assert api.get("/profiles").json()[0]["id"] == "1"


# -- payments and a person in the web app -------------------------------------------------------------


def test_payments_partial_full_and_over(api: httpx.Client, ctl: httpx.Client) -> None:
    nr = _client(api)
    invoice = _invoice(api, nr)
    assert invoice["totalintax"] == "24.21"
    first = api.post(f"/invoices_payment/{invoice['invoicenr']}", json={"date": "2025-02-01", "amount": "4.21"})
    assert (first.status_code, first.text) == (201, "null")
    second = api.put(f"/invoices_payment/{invoice['id']}", json={"date": "2025-02-02", "amount": "full"})
    assert second.status_code == 200
    after = api.get(f"/invoices/{invoice['id']}").json()["invoice"]
    assert (after["open"], after["paiddate"]) == ("-4.21", "2025-02-02")
    payments = [h for h in after["history"].values() if "amount" in h]
    assert [(p["description"], p["amount"]) for p in payments] == [
        ("Betaling ontvangen", 4.21),
        ("Betaling ontvangen", 24.21),
    ]
    assert b'"amount":4.21}' in api.get(f"/invoices/{invoice['id']}").content
    assert [i["id"] for i in api.get("/invoices", params={"filter": "toomuch"}).json()] == [invoice["id"]]
    truth = ctl.get("/state").json()
    assert [(p["invoice_id"], p["amount"]) for p in truth["payments"]] == [
        (invoice["id"], "4.21"),
        (invoice["id"], "24.21"),
    ]
    assert api.post(f"/invoices_payment/{invoice['id']}", json={"amount": "1"}).status_code == 400
    paid_at_once = _invoice(api, nr, alreadypaid="full", alreadypaidmethod="Pin")
    assert paid_at_once["open"] == "0.00"


def test_person_actions(api: httpx.Client, ctl: httpx.Client) -> None:
    _post(ctl, "/quirks", {"client_timestamp": "datetime"})  # absent by default (decision 23)
    _post(ctl, "/clock", {"now": "2025-05-05T10:00:00+02:00", "frozen": True})
    _seed(ctl)
    before = api.get("/clients/3").json()["client"]
    _post(ctl, "/clock", {"advance_seconds": 60})
    edited = _post(ctl, "/act/edit_client", {"clientnr": "3", "changes": {"city": "Harlingen"}})
    assert edited["city"] == "Harlingen" and edited["timestamp"] == "2025-05-05 10:01:00" != before["timestamp"]
    made = _post(ctl, "/act/create_invoice", {"clientnr": 3, "lines": [LINE], "sent": "2025-05-01"})
    assert made["sent"] == "2025-05-01" and api.get(f"/invoices/{made['invoicenr']}").status_code == 200
    paid = _post(ctl, "/act/register_payment", {"invoice": made["id"], "amount": "5.00"})
    assert paid["paiddate"] == "2025-05-05" and paid["open"] == "19.21"
    _post(ctl, "/act/delete_invoice", {"invoice": made["id"]})
    assert api.get(f"/invoices/{made['id']}").status_code == 404
    truth = ctl.get("/state").json()
    assert made["id"] in truth["deleted_invoices"]
    billed = truth["invoices"][0]["clientnr"]
    assert ctl.post("/act/delete_client", json={"clientnr": billed}).status_code == 403
    assert api.delete(f"/clients/{billed}").status_code == 403
    counts = ctl.get("/state/counts").json()
    assert counts["invoices"] == 200 and counts["clients"] == 30


def test_seed_is_deterministic(ctl: httpx.Client) -> None:
    _seed(ctl, seed=11)
    first = ctl.get("/state").content
    _seed(ctl, seed=11)
    assert ctl.get("/state").content == first
    _seed(ctl, seed=12)
    assert ctl.get("/state").content != first
    truth = json.loads(first)
    opens = [Decimal(i["open"]) for i in truth["invoices"]]
    assert any(o < 0 for o in opens) and any(o == 0 for o in opens) and any(o > 0 for o in opens)
    sent = [i["sent"] for i in truth["invoices"]]
    assert sent == sorted(sent)


def test_pdf_is_a_pdf(api: httpx.Client) -> None:
    invoice = _invoice(api, _client(api))
    response = api.get(f"/invoices_pdf/{invoice['invoicenr']}")
    body = response.content
    assert response.headers["content-type"] == "application/pdf"
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    xref = int(body.rsplit(b"startxref", 1)[1].split()[0])
    assert body[xref : xref + 4] == b"xref" and invoice["invoicenr"].encode() in body


# -- faults -------------------------------------------------------------------------------------------


def _faults(ctl: httpx.Client, *rules: dict[str, Any]) -> None:
    _post(ctl, "/faults", {"rules": list(rules)})


def test_status_html_and_truncated_faults(api: httpx.Client, ctl: httpx.Client) -> None:
    _faults(
        ctl,
        {"kind": "status", "status": 500, "times": 2, "path_prefix": "/api/v1/clients"},
        {"kind": "html", "times": 1, "path_prefix": "/api/v1/profiles"},
        {"kind": "truncated_json", "times": 1, "path_prefix": "/api/v1/taxes"},
        {"kind": "storm", "status": 429, "retry_after": 7, "times": 1, "path_prefix": "/api/v1/balance"},
    )
    statuses = [api.get("/clients").status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    html = api.get("/profiles")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        json.loads(api.get("/taxes").content)
    storm = api.get("/balance")
    assert (storm.status_code, storm.headers["retry-after"], storm.headers["x-ratelimit-remaining"]) == (429, "7", "0")
    assert api.get("/profiles").json()[0]["id"] == "1"
    assert [r["status"] for r in ctl.get("/requests").json()][:3] == [500, 500, 200]


def test_rules_count_after_and_every_and_control_is_not_logged(api: httpx.Client, ctl: httpx.Client) -> None:
    _faults(
        ctl,
        {"kind": "status", "status": 502, "after": 1, "every": 2, "times": 2, "method": "GET"},
        {"kind": "slow", "seconds": 0.05, "times": 1, "method": "POST"},
    )
    assert [api.get("/profiles").status_code for _ in range(6)] == [200, 502, 200, 502, 200, 200]
    assert api.post("/clients", json={"company": "Traag"}).status_code == 201
    log = ctl.get("/requests").json()
    assert [(e["method"], e["path"], e["status"]) for e in log][-1] == ("POST", "/api/v1/clients", 201)
    assert len(log) == 7 and all(e["path"].startswith("/api/v1/") for e in log)
    rules = ctl.get("/faults").json()["rules"]
    assert [(r["seen"], r["fired"]) for r in rules] == [(4, 2), (1, 1)]  # a spent rule stops counting
    assert ctl.post("/faults", json={"rules": [{"kind": "explode"}]}).status_code == 400


def test_drop_after_commit_keeps_the_write(api: httpx.Client, ctl: httpx.Client) -> None:
    _faults(ctl, {"kind": "drop_after_commit", "method": "POST", "times": 1})
    with pytest.raises(httpx.TransportError):
        api.post("/clients", json={"company": "Verloren antwoord"})
    assert [c["company"] for c in api.get("/clients").json()] == ["Verloren antwoord"]


def test_timeout_fault_holds_the_answer(api: httpx.Client, ctl: httpx.Client) -> None:
    # (held until the test lets go, not for a time the client's 0.1 s must beat on a loaded machine)
    _faults(ctl, {"kind": "timeout", "seconds": 600, "times": 1})
    with pytest.raises(httpx.ReadTimeout):
        api.get("/clients", timeout=0.1)
    ctl.delete("/faults").raise_for_status()  # clearing the faults ends the hold
    assert api.get("/clients").status_code == 200


def test_page_shift_moves_the_next_page(api: httpx.Client, ctl: httpx.Client) -> None:
    _seed(ctl)
    before = [i["id"] for i in api.get("/invoices", params={"count": -1}).json()]
    _faults(ctl, {"kind": "page_shift", "times": 1, "path_prefix": "/api/v1/invoices"})
    page1 = api.get("/invoices", params={"start": 0, "count": 50}).json()
    page2 = api.get("/invoices", params={"start": 50, "count": 50}).json()
    assert [i["id"] for i in page1] == before[:50]
    assert [i["id"] for i in page2] == before[51:101]  # the last record of page 1 was deleted meanwhile
    assert before[49] in ctl.get("/state").json()["deleted_invoices"]


# -- process entry point ------------------------------------------------------------------------------


def test_module_entry_point_prints_json_and_serves() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandboxes.factuursturen", "--invoices", "20", "--api-key", "k"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        response = httpx.get(
            f"{info['base_url']}/invoices",
            auth=(info["username"], info["api_key"]),
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200 and len(response.json()) == 20
        assert response.http_version == "HTTP/1.1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
