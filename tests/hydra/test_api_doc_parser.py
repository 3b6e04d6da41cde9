"""API Platform's own documentation parser (``@api-platform/api-doc-parser``) builds the model of the sandbox's API.

The parser follows the absolute ``Link`` header from the entrypoint to ``docs.jsonld``, expands both with
JSON-LD (``@vocab``, the ``Entrypoint`` class and its collection links) and reads every class, property,
relation and operation, so it only succeeds on documents shaped as API Platform shapes them. Node and npm
install the parser once into ``.cache/api-doc-parser`` (ignored by git); without them the test fails in
CI (``CONNECTOR_REQUIRE_POSTGRES=1``) and skips elsewhere.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hydra.harness import TOKEN, HydraHarness

PARSER = "@api-platform/api-doc-parser"
PARSER_VERSION = "0.16.10"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "api-doc-parser"
SCRIPT = Path(__file__).with_name("parse_docs.mjs")
IN_CI = os.environ.get("CONNECTOR_REQUIRE_POSTGRES") == "1"

RESOURCES = {"customers": "Customer", "invoices": "Invoice", "invoice-rows": "InvoiceRow",
             "invoice-transactions": "InvoiceTransaction", "payment-methods": "PaymentMethod"}


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def _installed() -> bool:
    manifest = CACHE / "node_modules" / "@api-platform" / "api-doc-parser" / "package.json"
    return manifest.exists() and json.loads(manifest.read_text()).get("version") == PARSER_VERSION


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """The cached ``node_modules`` holding the parser, installed with npm on first use (under a file lock)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("node and npm are needed to run API Platform's documentation parser")
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed():
            (CACHE / "package.json").write_text(json.dumps(
                {"name": "connector-doc-parser-probe", "private": True,
                 "dependencies": {PARSER: PARSER_VERSION}}, indent=2) + "\n")
            done = subprocess.run([str(npm), "install", "--no-audit", "--no-fund", "--loglevel=error"],
                                  cwd=CACHE, capture_output=True, text=True, timeout=600, check=False)
            if done.returncode != 0 or not _installed():
                _unavailable(f"npm install {PARSER}@{PARSER_VERSION} failed: {done.stderr[-2000:]}")
    return CACHE / "node_modules"


def _parse(modules: Path, hy: HydraHarness, *items: str) -> dict[str, Any]:
    done = subprocess.run([shutil.which("node") or "node", str(SCRIPT), str(modules), hy.base_url, TOKEN, *items],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"parser failed: {done.stdout[-3000:]} {done.stderr[-3000:]}"
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize("flavour", ["3", "4"])
def test_api_doc_parser_builds_every_resource_field_and_relation(node_modules: Path, hy: HydraHarness,
                                                                 flavour: str) -> None:
    hy.flavour(flavour)
    hy.seed(clients=1, invoices=1, lines_per_invoice=1)
    with httpx.Client(base_url=hy.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as api:
        samples = {name: api.get(f"/{name}").json() for name in RESOURCES}
    members = {name: (page["hydra:member"] if flavour == "3" else page["member"]) for name, page in samples.items()}
    invoice_iri = members["invoices"][0]["@id"]

    parsed = _parse(node_modules, hy, hy.origin + invoice_iri)

    assert parsed["status"] == 200 and parsed["title"] == "Facturering & betalingen"
    docs = f"{hy.origin}/api/docs.jsonld#"
    resources = {r["name"]: r for r in parsed["resources"]}
    assert set(resources) == set(RESOURCES)
    for name, type_name in RESOURCES.items():
        resource = resources[name]
        assert resource["url"] == f"{hy.base_url}/{name}" and resource["id"] == docs + type_name
        fields = {f["name"]: f for f in resource["fields"]}
        for member in members[name]:  # every property the API serializes is a documented field
            assert set(member) - {"@id", "@type", "id"} <= set(fields), name
            assert all(f["id"] == f"{docs}{type_name}/{f['name']}" for f in fields.values())
    fields = {name: {f["name"]: f for f in r["fields"]} for name, r in resources.items()}
    assert fields["invoices"]["customer"]["reference"] == "customers"
    assert fields["invoices"]["customer"]["maxCardinality"] == 1
    assert fields["invoices"]["invoiceRows"]["reference"] == "invoice-rows"
    assert fields["invoice-rows"]["invoice"]["reference"] == "invoices"
    assert fields["invoice-transactions"]["invoice"]["reference"] == "invoices"
    assert fields["invoices"]["number"]["reference"] is None
    assert (fields["invoices"]["updatedAt"]["type"], fields["invoice-rows"]["quantity"]["type"],
            fields["payment-methods"]["ccExpYear"]["type"]) == ("dateTime", "decimal", "integer")
    assert fields["customers"]["name"]["required"] and not fields["customers"]["email"]["required"]
    assert "netAmount" in resources["invoice-rows"]["readable"]
    assert "netAmount" not in resources["invoice-rows"]["writable"]
    assert "productName" in resources["invoice-rows"]["writable"]
    kinds = {name: sorted(o["type"] for o in r["operations"]) for name, r in resources.items()}
    assert kinds["invoices"] == ["create", "delete", "edit", "list", "show"]
    assert kinds["invoice-rows"] == ["create", "edit", "list", "show"]  # rows have no DELETE
    assert kinds["payment-methods"] == ["delete", "edit", "list", "show"]  # cards are made by setup intents

    # The item's context (/api/contexts/Invoice) types relations as IRIs: JSON-LD expands them to nodes.
    [[invoice]] = parsed["expanded"]
    customer = members["invoices"][0]["customer"]
    assert invoice["@id"] == hy.origin + invoice_iri and invoice["@type"] == [docs + "Invoice"]
    assert invoice[docs + "Invoice/customer"] == [{"@id": hy.origin + customer}]
    assert invoice[docs + "Invoice/status"] == [{"@value": members["invoices"][0]["status"]}]


def test_entrypoint_and_contexts_are_shaped_as_api_platform_shapes_them(hy: HydraHarness) -> None:
    with httpx.Client(base_url=hy.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as api:
        entry = api.get("")
        entry_context = api.get("/contexts/Entrypoint").json()["@context"]
        invoice_context = api.get("/contexts/Invoice").json()["@context"]
    docs = f"{hy.origin}/api/docs.jsonld"
    assert entry.headers["Link"] == f'<{docs}>; rel="http://www.w3.org/ns/hydra/core#apiDocumentation"'
    assert entry.json() == {"@context": "/api/contexts/Entrypoint", "@id": "/api", "@type": "Entrypoint",
                            "customer": "/api/customers", "invoice": "/api/invoices",
                            "invoiceRow": "/api/invoice-rows", "invoiceTransaction": "/api/invoice-transactions",
                            "paymentMethod": "/api/payment-methods"}
    assert entry_context["@vocab"] == docs + "#"
    assert entry_context["invoice"] == {"@id": "Entrypoint/invoice", "@type": "@id"}
    assert invoice_context["@vocab"] == docs + "#" and "id" not in invoice_context
    assert invoice_context["customer"] == {"@id": "Invoice/customer", "@type": "@id"}
    assert invoice_context["number"] == "Invoice/number"

    documentation = httpx.get(docs, timeout=10).json()  # public: no token
    context = documentation["@context"]
    assert context["@vocab"] == docs + "#"
    assert {"hydra", "rdf", "rdfs", "xmls", "owl", "schema", "domain", "range", "subClassOf", "expects",
            "returns"} <= set(context)
    titles = {c["@id"] for c in documentation["hydra:supportedClass"]}
    assert {"#Entrypoint", "#ConstraintViolation", "#ConstraintViolationList", "#Invoice"} <= titles
    hy.flavour("4")
    documentation = httpx.get(docs, timeout=10).json()
    assert documentation["@context"][1]["@vocab"] == docs + "#" and "supportedClass" in documentation
