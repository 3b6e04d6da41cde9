"""FastFaktura and hydra quirk switches (issue 12): each shows the behaviour it names, on a real socket."""

from __future__ import annotations

import httpx

from sandboxes.fastfaktura import FastFakturaSandbox
from sandboxes.hydra import HydraSandbox


def test_fastfaktura_page_size_order_and_envelope() -> None:
    with FastFakturaSandbox(invoices=30, clients=3, rate_limit=None) as ff:
        api = httpx.Client(base_url=ff.base_url, headers={"X-Api-Key": ff.credentials["api_key"]})
        default = api.get("invoices").json()
        assert len(default["data"]) == 25 and default["meta"]["per_page"] == 25
        httpx.post(ff.control_url + "/quirks", json={"per_page": 7, "order": "oldest_first"}).raise_for_status()
        page = api.get("invoices").json()
        assert len(page["data"]) == 7 and page["meta"]["per_page"] == 7
        created = [i["id"] for i in httpx.get(ff.control_url + "/state").json()["invoices"]]  # creation order
        assert [i["id"] for i in page["data"]] == created[:7]
        assert [i["id"] for i in default["data"]] == created[::-1][:25]
        httpx.post(ff.control_url + "/quirks", json={"envelope": "bare"}).raise_for_status()
        assert isinstance(api.get("invoices").json(), list)
        httpx.post(ff.control_url + "/quirks", json={"envelope": "data"}).raise_for_status()
        assert set(api.get("invoices").json()) == {"data"}
        httpx.delete(ff.control_url + "/quirks").raise_for_status()
        assert "meta" in api.get("invoices").json()


def test_hydra_clamps_items_per_page_and_writes_absolute_links() -> None:
    with HydraSandbox(invoices=40, clients=4) as hy:
        api = httpx.Client(base_url=hy.base_url, headers={"Authorization": f"Bearer {hy.credentials['api_key']}"})
        page = api.get("invoices", params={"itemsPerPage": 50}).json()
        assert len(page["hydra:member"]) == 40 and page["hydra:view"]["@id"].startswith("/")
        httpx.post(hy.control_url + "/quirks", json={"max_items_per_page": 15, "absolute_links": True})
        page = api.get("invoices", params={"itemsPerPage": 50}).json()
        assert len(page["hydra:member"]) == 15
        assert page["hydra:view"]["hydra:next"].startswith("http://127.0.0.1:")
