"""FactuurSturen sandbox quirk switches (issue 12): set from the control surface, read on every request, back to
the start values on reset; each shows the behaviour its evidence describes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandboxes.factuursturen import FactuurSturenSandbox
from tests.support import run_cli


@pytest.fixture(scope="module")
def server() -> Iterator[FactuurSturenSandbox]:
    with FactuurSturenSandbox(clients=3, invoices=12, rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture
def api(server: FactuurSturenSandbox) -> Iterator[httpx.Client]:
    auth = (server.credentials["username"], server.credentials["api_key"])
    with httpx.Client(base_url=server.base_url, auth=auth, headers={"Accept": "application/json"}) as client:
        yield client
    httpx.delete(server.control_url + "/quirks").raise_for_status()


def _quirks(server: FactuurSturenSandbox, **values: Any) -> httpx.Response:
    return httpx.post(server.control_url + "/quirks", json=values)


def test_unknown_ids_answer_the_whole_list_only_with_the_quirk(server: FactuurSturenSandbox, api: httpx.Client) -> None:
    assert api.get("invoices/99999999").status_code == 404
    assert api.get("clients/999999").status_code == 404
    _quirks(server, unknown_id_answers_list=True).raise_for_status()
    invoices, clients = api.get("invoices/99999999"), api.get("clients/999999")
    assert invoices.status_code == 200 and isinstance(invoices.json(), list) and len(invoices.json()) == 12
    assert clients.status_code == 200 and isinstance(clients.json(), list) and len(clients.json()) == 3
    known = api.get("invoices").json()[0]["id"]
    assert set(api.get(f"invoices/{known}").json()) == {"invoice"}, "a known id still answers wrapped"


def test_count_cap_shortens_every_page(server: FactuurSturenSandbox, api: httpx.Client) -> None:
    _quirks(server, count_cap=5).raise_for_status()
    assert len(api.get("invoices", params={"count": 500}).json()) == 5
    assert len(api.get("invoices", params={"count": -1}).json()) == 5
    assert len(api.get("invoices", params={"count": 3}).json()) == 3
    assert len(api.get("invoices", params={"count": 500, "start": 10}).json()) == 2


@pytest.mark.parametrize(("value", "shape"), [("absent", None), ("date", 10), ("datetime", 19)])
def test_client_timestamp_shapes(
    server: FactuurSturenSandbox, api: httpx.Client, value: str, shape: int | None
) -> None:
    _quirks(server, client_timestamp=value).raise_for_status()
    listed = api.get("clients").json()[0]
    single = api.get(f"clients/{listed['clientnr']}").json()["client"]
    for client in (listed, single):
        if shape is None:
            assert "timestamp" not in client
        else:
            assert len(client["timestamp"]) == shape


def test_bad_quirks_are_refused_and_change_nothing(server: FactuurSturenSandbox) -> None:
    bad = _quirks(server, count_cap=5, nope=True)
    assert bad.status_code == 400 and "nope" in bad.json()["error"]
    assert _quirks(server, count_cap="many").status_code == 400
    listed = {q["name"]: q for q in httpx.get(server.control_url + "/quirks").json()["quirks"]}
    assert listed["count_cap"]["value"] is None and listed["count_cap"]["evidence"]


def test_reset_returns_to_the_values_the_sandbox_started_with() -> None:
    with FactuurSturenSandbox(rate_limit=None, quirks={"count_cap": "2"}) as sandbox:
        httpx.post(sandbox.control_url + "/quirks", json={"count_cap": 7}).raise_for_status()
        httpx.post(sandbox.control_url + "/reset").raise_for_status()
        listed = {q["name"]: q["value"] for q in httpx.get(sandbox.control_url + "/quirks").json()["quirks"]}
    assert listed["count_cap"] == 2


def test_connector_sandbox_lists_every_quirk_with_default_and_evidence() -> None:
    done = run_cli("sandbox", "--list-quirks")
    assert done.returncode == 0, done.stderr
    for name in ("unknown_id_answers_list", "count_cap", "client_timestamp"):
        assert f"factuursturen:{name}  (default " in done.stdout
    assert done.stdout.count("evidence:") >= 3
    wrong = run_cli("sandbox", "--quirk", "factuursturen:count_cap=lots")
    assert wrong.returncode == 2 and "count_cap" in wrong.stderr and "Traceback" not in wrong.stderr
