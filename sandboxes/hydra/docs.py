"""The Hydra ``ApiDocumentation`` (``GET /api/docs.jsonld``) and the JSON-LD contexts, as API Platform builds them.

The shapes follow API Platform's DocumentationNormalizer and ContextBuilder: flavour "3" as 3.4 (one
inline context with ``hydra:``-prefixed keys, ``ConstraintViolation`` and ``ConstraintViolationList``
classes, operation titles like "Retrieves a Customer resource."), flavour "4" as 4.1 with its default
``hydra_prefix: false`` (a context list whose first element carries the Hydra terms the document uses,
unprefixed keys, operation titles like ``getCustomer`` with the sentence as description). Both have an
absolute ``@vocab`` (``http://HOST/api/docs.jsonld#``), an ``Entrypoint`` class with one ``hydra:Link``
property per collection (its range says the collection's members are of the resource's class), and per
resource class one supported property per serialized property (the identifier aside, as API Platform
skips a non-writable identifier), relations typed ``hydra:Link`` with the related class as range.
API Platform's own documentation parser (``@api-platform/api-doc-parser``) builds the model of the
API from these documents (tests/hydra/test_api_doc_parser.py). The app's custom operations (send,
draft, setup intents) are not listed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sandboxes.hydra.inputs import RULES
from sandboxes.hydra.wire import API_PREFIX, RESOURCES, dumps

__all__ = ["DOCS_PATH", "ENTRYPOINT_LINKS", "api_documentation", "context_document", "docs_url"]

DOCS_PATH = f"{API_PREFIX}/docs.jsonld"
_HYDRA = "http://www.w3.org/ns/hydra/core#"

# Properties in serialization order (``@id``/``@type`` aside) with their range: an XML Schema type, ">Class"
# for a relation to one resource (an IRI), "*Class" for a list of IRIs, "" when the app's type is unknown.
_PROPERTIES = {
    "customers": "id:integer name:string email:string phone:string vatNumber:string street:string "
                 "postalCode:string city:string country:string externalId:string createdAt:dateTime "
                 "updatedAt:dateTime",
    "invoices": "id:integer number:string status:string customer:>Customer date:dateTime dueDate:dateTime "
                "currency:string reference:string netAmount:string vatAmount:string grossAmount:string "
                "openAmount:string invoiceRows:*InvoiceRow createdAt:dateTime updatedAt:dateTime "
                "deletedAt:dateTime deleted:boolean",
    "invoice-rows": "id:integer invoice:>Invoice classificationNumber:string unit:string quantity:decimal "
                    "vatRate:string netPrice:string netDiscountAmount:string productName:string project: "
                    "parentInvoiceRow:>InvoiceRow invoiceChildrenRows:*InvoiceRow netAmount:string "
                    "vatAmount:string createdAt:dateTime updatedAt:dateTime",
    "invoice-transactions": "id:integer invoice:>Invoice transaction: amount:decimal date:dateTime "
                            "createdAt:dateTime updatedAt:dateTime",
    "payment-methods": "id:string organization: type:string ccBrand:string ccLastDigits:string "
                       "ccExpMonth:integer ccExpYear:integer externalId:string createdAt:dateTime "
                       "updatedAt:dateTime deletedAt:dateTime deleted:boolean",
}
_REQUIRED = {"customers": {"name"}, "invoices": {"customer"},
             "invoice-rows": {"invoice", "productName", "quantity", "vatRate", "netPrice", "unit"},
             "invoice-transactions": {"invoice", "date"}, "payment-methods": {"ccExpMonth", "ccExpYear"}}
# (method, collection?) of each operation, in declaration order (GetCollection, Post, Get, Patch, Delete).
_OPERATIONS = {
    "customers": ("GET*", "POST", "GET", "PATCH", "DELETE"),
    "invoices": ("GET*", "POST", "GET", "PATCH", "DELETE"),
    "invoice-rows": ("GET*", "POST", "GET", "PATCH"),
    "invoice-transactions": ("GET*", "POST", "GET", "PATCH", "DELETE"),
    "payment-methods": ("GET*", "GET", "PATCH", "DELETE"),
}
# The entrypoint's key for each collection: the short name with a lower-case first letter.
ENTRYPOINT_LINKS = {res.type_name[0].lower() + res.type_name[1:]: name for name, res in RESOURCES.items()}

# The terms of the W3C Hydra context (http://www.w3.org/ns/hydra/context.jsonld) that the flavour-4
# documentation uses; API Platform 4 inlines that whole context as the first element of ``@context``.
_HYDRA_TERMS: dict[str, Any] = {
    "hydra": _HYDRA, "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#", "schema": "http://schema.org/",
    "ApiDocumentation": "hydra:ApiDocumentation", "Class": "hydra:Class", "Link": "hydra:Link",
    "Operation": "hydra:Operation", "SupportedProperty": "hydra:SupportedProperty",
    "Collection": "hydra:Collection", "Error": "hydra:Error",
    "member": {"@id": "hydra:member", "@type": "@id"},
    "title": "hydra:title", "description": "hydra:description", "label": "rdfs:label",
    "entrypoint": {"@id": "hydra:entrypoint", "@type": "@id"},
    "supportedClass": {"@id": "hydra:supportedClass", "@type": "@vocab"},
    "supportedProperty": {"@id": "hydra:supportedProperty", "@type": "@id"},
    "supportedOperation": {"@id": "hydra:supportedOperation", "@type": "@id"},
    "property": {"@id": "hydra:property", "@type": "@vocab"},
    "required": "hydra:required", "readable": "hydra:readable", "writeable": "hydra:writeable",
    "method": "hydra:method", "expects": {"@id": "hydra:expects", "@type": "@vocab"},
    "returns": {"@id": "hydra:returns", "@type": "@vocab"}, "expectsHeader": "hydra:expectsHeader",
    "headerName": "hydra:headerName", "possibleValue": "hydra:possibleValue",
}


def docs_url(origin: str) -> str:
    """The absolute URL of the documentation, as the ``Link`` header and ``@vocab`` give it."""
    return f"{origin}{DOCS_PATH}"


def _base_context(origin: str) -> dict[str, Any]:
    """ContextBuilder::getBaseContext: the absolute vocabulary and the hydra prefix."""
    return {"@vocab": f"{docs_url(origin)}#", "hydra": _HYDRA}


def _props(name: str) -> list[tuple[str, str]]:
    return [(p.partition(":")[0], p.partition(":")[2]) for p in _PROPERTIES[name].split()]


def context_document(origin: str, type_name: str) -> dict[str, Any] | None:
    """``/api/contexts/<type_name>``: one term per property, relations typed ``@id``; None if unknown."""
    context = _base_context(origin)
    if type_name == "Entrypoint":
        for key in ENTRYPOINT_LINKS:
            context[key] = {"@id": f"Entrypoint/{key}", "@type": "@id"}
        return {"@context": context}
    if type_name in ("Error", "ConstraintViolation", "ConstraintViolationList"):
        return {"@context": context}
    found = next((name for name, res in RESOURCES.items() if res.type_name == type_name), None)
    if found is None:
        return None
    for prop, range_ in _props(found):
        if prop == "id":
            continue  # the identifier is not writable: ContextBuilder leaves it out
        term = f"{type_name}/{prop}"
        context[prop] = {"@id": term, "@type": "@id"} if range_[:1] in (">", "*") else term
    return {"@context": context}


class _Vocab:
    """The spelling of one flavour: key prefix, XML Schema prefix, operation titles."""

    def __init__(self, flavour: str) -> None:
        self.v4 = flavour == "4"
        self.p = "" if self.v4 else "hydra:"

    def operation(self, method: str, collection: bool, short: str) -> dict[str, Any]:
        """DocumentationNormalizer::getHydraOperation for a CRUD operation (keys sorted, as it ksorts)."""
        p = self.p
        own = short if self.v4 else f"#{short}"
        sentence, types, returns, expects = {
            "GET": (f"Retrieves the collection of {short} resources." if collection
                    else f"Retrieves a {short} resource.", [f"{p}Operation", "schema:FindAction"],
                    f"{p}Collection" if collection else own, None),
            "POST": (f"Creates a {short} resource.", [f"{p}Operation", "schema:CreateAction"], own, own),
            "PATCH": (f"Updates the {short} resource.", f"{p}Operation", own, own),
            "DELETE": (f"Deletes the {short} resource.", [f"{p}Operation", "schema:DeleteAction"],
                       "owl:Nothing", None),
        }[method]
        op: dict[str, Any] = {"@type": types, f"{p}method": method, "returns": returns}
        if expects is not None:
            op["expects"] = expects
        if self.v4:
            op["description"] = sentence
            op["title"] = method.lower() + short + ("Collection" if collection and method == "GET" else "")
            if method == "PATCH":
                op["expectsHeader"] = [{"headerName": "Content-Type",
                                        "possibleValue": ["application/merge-patch+json"]}]
        else:
            op["hydra:title"] = op["rdfs:label"] = sentence
        return dict(sorted(op.items()))

    def supported_property(self, domain: str, prop: str, range_: str | None, required: bool, writeable: bool,
                           link: bool = False, single: bool = False, description: str | None = None,
                           ) -> dict[str, Any]:
        """DocumentationNormalizer::getProperty."""
        p = self.p
        data: dict[str, Any] = {"@id": f"#{domain}/{prop}", "@type": f"{p}Link" if link else "rdf:Property"}
        if self.v4:
            data.update({"domain": f"#{domain}", "label": prop})
        else:
            data.update({"rdfs:label": prop, "domain": f"#{domain}"})
        if single:
            data["owl:maxCardinality"] = 1
        if range_:
            data["range"] = range_
        out = {"@type": f"{p}SupportedProperty", f"{p}property": data, f"{p}title": prop,
               f"{p}required": required, f"{p}readable": True, f"{p}writeable": writeable}
        if description is not None:
            out[f"{p}description"] = description
        return out

    def resource_class(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The class of one resource and its entrypoint property."""
        p, short = self.p, RESOURCES[name].type_name
        writable = {rule.wire for rule in RULES.get(name, ())}
        properties = []
        for prop, range_ in _props(name):
            if prop == "id":
                continue  # a non-writable identifier is not documented
            relation = range_[:1] in (">", "*")
            properties.append(self.supported_property(
                short, prop, f"#{range_[1:]}" if relation else f"xmls:{range_}" if range_ else None,
                prop in _REQUIRED[name], prop in writable, link=relation, single=range_[:1] == ">"))
        methods = _OPERATIONS[name]
        on_collection = [self.operation(m.rstrip("*"), m.endswith("*"), short) for m in methods
                         if m.endswith("*") or m == "POST"]
        on_item = [self.operation(m, False, short) for m in methods if not m.endswith("*") and m != "POST"]
        cls = {"@id": f"#{short}", "@type": f"{p}Class", f"{p}title": short,
               f"{p}supportedProperty": properties, f"{p}supportedOperation": on_item}
        if not self.v4:
            cls = {"@id": cls["@id"], "@type": cls["@type"], "rdfs:label": short, **cls}
        key = short[0].lower() + short[1:]
        members = [{"@id": f"{p}Collection"}, {"owl:equivalentClass": {
            "owl:onProperty": {"@id": f"{p}member"}, "owl:allValuesFrom": {"@id": f"#{short}"}}}]
        link: dict[str, Any] = {"@id": f"#Entrypoint/{key}", "@type": f"{p}Link", "domain": "#Entrypoint"}
        if self.v4:
            link.update({"owl:maxCardinality": 1, "range": members})
        else:
            link.update({"rdfs:label": f"The collection of {short} resources", "rdfs:range": members})
        link[f"{p}supportedOperation"] = on_collection
        entry: dict[str, Any] = {"@type": f"{p}SupportedProperty", f"{p}property": link}
        if self.v4:
            entry.update({"title": f"get{short}Collection", "description": f"The collection of {short} resources"})
        else:
            entry["hydra:title"] = f"The collection of {short} resources"
        entry.update({f"{p}readable": True, f"{p}writeable": False})
        return cls, entry

    def fixed_classes(self, entry_properties: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """DocumentationNormalizer::getClasses: the entrypoint and the constraint violation classes."""
        def violation_prop(domain: str, prop: str, range_: str, description: str) -> dict[str, Any]:
            return self.supported_property(domain, prop, range_, False, False, description=description)

        path = ("propertyPath", "xmls:string", "The property path of the violation")
        message = ("message", "xmls:string", "The message associated with the violation")
        if self.v4:
            entrypoint = {"@id": "#Entrypoint", "@type": "Class", "title": "Entrypoint",
                          "supportedProperty": entry_properties,
                          "supportedOperation": {"@type": "Operation", "method": "GET", "title": "index",
                                                 "description": "The API Entrypoint.", "returns": "Entrypoint"}}
            violation = {"@id": "#ConstraintViolation", "@type": "Class", "title": "ConstraintViolation",
                         "description": "Unprocessable entity", "subClassOf": "Error",
                         "supportedProperty": [violation_prop("ConstraintViolation", *spec) for spec in (
                             ("status", "xmls:integer", "The HTTP status code"),
                             ("violations", "#ConstraintViolationList", "The violations"),
                             ("detail", "xmls:string", "A human-readable explanation of the problem"),
                             ("description", "xmls:string", "A human-readable explanation of the problem"),
                             ("type", "xmls:string", "A URI reference that identifies the problem type"),
                             ("title", "xmls:string", "A short, human-readable summary of the problem"))],
                         "supportedOperation": []}
            violations = {"@id": "#ConstraintViolationList", "@type": "Class", "title": "ConstraintViolationList",
                          "description": "A constraint violation List.",
                          "supportedProperty": [violation_prop("ConstraintViolationList", *spec)
                                                for spec in (path, message)]}
            return [entrypoint, violation, violations]
        entrypoint = {"@id": "#Entrypoint", "@type": "hydra:Class", "hydra:title": "The API entrypoint",
                      "hydra:supportedProperty": entry_properties,
                      "hydra:supportedOperation": {"@type": "hydra:Operation", "hydra:method": "GET",
                                                   "rdfs:label": "The API entrypoint.", "returns": "#EntryPoint"}}
        violation = {"@id": "#ConstraintViolation", "@type": "hydra:Class", "hydra:title": "A constraint violation",
                     "hydra:supportedProperty": [violation_prop("ConstraintViolation", *spec)
                                                 for spec in (path, message)]}
        violations = {"@id": "#ConstraintViolationList", "@type": "hydra:Class", "subClassOf": "hydra:Error",
                      "hydra:title": "A constraint violation list", "hydra:supportedProperty": [
                          violation_prop("ConstraintViolationList", "violations", "#ConstraintViolation",
                                         "The violations")]}
        return [entrypoint, violation, violations]

    def context(self, origin: str) -> Any:
        """DocumentationNormalizer::getContext."""
        own: dict[str, Any] = {"@vocab": f"{docs_url(origin)}#", "hydra": _HYDRA,
                               "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                               "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                               "xmls": "http://www.w3.org/2001/XMLSchema#", "owl": "http://www.w3.org/2002/07/owl#",
                               "schema": "https://schema.org/", "domain": {"@id": "rdfs:domain", "@type": "@id"},
                               "range": {"@id": "rdfs:range", "@type": "@id"},
                               "subClassOf": {"@id": "rdfs:subClassOf", "@type": "@id"}}
        if self.v4:
            return [_HYDRA_TERMS, own]
        return {**own, "expects": {"@id": "hydra:expects", "@type": "@id"},
                "returns": {"@id": "hydra:returns", "@type": "@id"}}


@lru_cache(maxsize=16)
def api_documentation(origin: str, flavour: str = "3") -> str:
    """The documentation as JSON text for an origin (``http://HOST:PORT``) and a flavour (built once each)."""
    vocab = _Vocab(flavour)
    p = vocab.p
    classes, entry_properties = [], []
    for name in RESOURCES:
        cls, entry = vocab.resource_class(name)
        classes.append(cls)
        entry_properties.append(entry)
    doc = {"@context": vocab.context(origin), "@id": DOCS_PATH, "@type": f"{p}ApiDocumentation",
           f"{p}title": "Facturering & betalingen",
           f"{p}description": "Maak en lees facturen, regels, betalingen en e-facturering.",
           f"{p}entrypoint": API_PREFIX,
           f"{p}supportedClass": classes + vocab.fixed_classes(entry_properties)}
    return dumps(doc)
