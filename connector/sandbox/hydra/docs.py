"""A compact Hydra ``ApiDocumentation`` (``GET /api/docs.jsonld``), the document every ``Link`` header names.

It lists each resource class with its properties (readable/writeable, required as the validators
require them) and operations, as API Platform's DocumentationNormalizer does, without the OWL and
RDFS detail a client rarely reads.
"""

from __future__ import annotations

from functools import cache

from connector.sandbox.hydra.inputs import RULES
from connector.sandbox.hydra.wire import API_PREFIX, RESOURCES, dumps

__all__ = ["DOCS_PATH", "api_documentation"]

DOCS_PATH = f"{API_PREFIX}/docs.jsonld"

# Readable properties in serialization order (``@id``/``@type`` aside).
_READ = {
    "customers": "id name email phone vatNumber street postalCode city country externalId createdAt updatedAt",
    "invoices": "id number status customer date dueDate currency reference netAmount vatAmount grossAmount "
                "openAmount invoiceRows createdAt updatedAt deletedAt deleted",
    "invoice-rows": "id invoice classificationNumber unit quantity vatRate netPrice netDiscountAmount productName "
                    "project parentInvoiceRow invoiceChildrenRows netAmount vatAmount createdAt updatedAt",
    "invoice-transactions": "id invoice transaction amount date createdAt updatedAt",
    "payment-methods": "id organization type ccBrand ccLastDigits ccExpMonth ccExpYear externalId createdAt "
                       "updatedAt deletedAt deleted",
}
_REQUIRED = {"customers": {"name"}, "invoices": {"customer"},
             "invoice-rows": {"invoice", "productName", "quantity", "vatRate", "netPrice", "unit"},
             "invoice-transactions": {"invoice", "date"}, "payment-methods": {"ccExpMonth", "ccExpYear"}}
_OPERATIONS = {
    "customers": ("GET", "POST", "GET", "PATCH", "DELETE"),
    "invoices": ("GET", "POST", "GET", "PATCH", "DELETE"),
    "invoice-rows": ("GET", "POST", "GET", "PATCH"),
    "invoice-transactions": ("GET", "POST", "GET", "PATCH", "DELETE"),
    "payment-methods": ("GET", "GET", "PATCH", "DELETE"),
}


def _operation(method: str, type_name: str, collection: bool) -> dict[str, object]:
    title = {"GET": f"Retrieves the collection of {type_name} resources." if collection
             else f"Retrieves a {type_name} resource.", "POST": f"Creates a {type_name} resource.",
             "PATCH": f"Updates the {type_name} resource.", "DELETE": f"Removes the {type_name} resource."}[method]
    returns = "hydra:Collection" if collection and method == "GET" else "owl:Nothing" if method == "DELETE" \
        else f"#{type_name}"
    return {"@type": ["hydra:Operation", "schema:FindAction" if method == "GET" else "hydra:Operation"],
            "hydra:method": method, "hydra:title": title, "returns": returns}


@cache
def api_documentation() -> str:
    """The documentation as JSON text (built once)."""
    classes = []
    for name, res in RESOURCES.items():
        writable = {rule.wire for rule in RULES.get(name, ())}
        properties = [{"@type": "hydra:SupportedProperty",
                       "hydra:property": {"@id": f"#{res.type_name}/{prop}", "@type": "rdf:Property",
                                          "rdfs:label": prop, "domain": f"#{res.type_name}"},
                       "hydra:title": prop, "hydra:required": prop in _REQUIRED[name], "hydra:readable": True,
                       "hydra:writeable": prop in writable} for prop in _READ[name].split()]
        methods = _OPERATIONS[name]
        operations = [_operation(m, res.type_name, collection=i == 0 or (m == "POST")) for i, m in enumerate(methods)]
        classes.append({"@id": f"#{res.type_name}", "@type": "hydra:Class", "rdfs:label": res.type_name,
                        "hydra:title": res.type_name, "hydra:supportedProperty": properties,
                        "hydra:supportedOperation": operations})
    doc = {
        "@context": {"@vocab": f"{DOCS_PATH}#", "hydra": "http://www.w3.org/ns/hydra/core#",
                     "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                     "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "owl": "http://www.w3.org/2002/07/owl#",
                     "schema": "https://schema.org/", "domain": {"@id": "rdfs:domain", "@type": "@id"},
                     "returns": {"@id": "hydra:returns", "@type": "@id"}},
        "@id": DOCS_PATH, "@type": "hydra:ApiDocumentation", "hydra:title": "Facturering & betalingen",
        "hydra:description": "Maak en lees facturen, regels, betalingen en e-facturering.",
        "hydra:entrypoint": API_PREFIX, "hydra:supportedClass": classes,
    }
    return dumps(doc)
