"""Request bodies to checked field values: content types, JSON, PHP types, IRIs (400) and constraints (422).

Deserialization errors come first and answer 400 with API Platform's messages (``Syntax error``, ``The
type of the "x" attribute must be "float", "string" given.``, ``Nested documents for attribute "x" are
not allowed. Use IRIs instead.``, ``Invalid IRI "x".``, ``Item not found for "/api/invoices/9".``);
validation of the merged result comes second and answers 422 with every violation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sandboxes._server import Request
from sandboxes.hydra.countries import COUNTRIES, CURRENCIES
from sandboxes.hydra.errors import (
    INVALID_EMAIL,
    INVALID_TYPE,
    NO_SUCH_CHOICE,
    NO_SUCH_COUNTRY,
    NO_SUCH_CURRENCY,
    NOT_BLANK,
    NOT_NULL,
    TOO_LOW,
    BadRequest,
    Unprocessable,
    UnsupportedMediaType,
    Violation,
)
from sandboxes.hydra.listing import parse_date
from sandboxes.hydra.wire import RESOURCES

__all__ = ["INPUT_TYPES", "PATCH_TYPE", "RULES", "Field", "check_content_type", "decode", "read_input", "validate"]

INPUT_TYPES = ("application/ld+json", "application/json")
PATCH_TYPE = "application/merge-patch+json"
_CENT = Decimal("0.01")
_EMAIL = re.compile(r"^[a-zA-Z0-9.!#$%&'*+\\/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$")
_IRI = re.compile(r"^/[^\s?#]*$")
_PHP_TYPES = {"text": "string", "decimal": "string", "number": "float", "int": "int", "datetime": "string",
              "date": "string"}


@dataclass(frozen=True, slots=True)
class Field:
    """One writable property: wire name, record attribute, kind and null rules.

    Kinds: text, decimal (a numeric string, 2 places), number (a JSON number), int, datetime (epoch
    seconds), date, relation (an IRI of `target`; "" = a resource the sandbox does not model, so only
    null is accepted), inverse (a relation collection whose IRIs are checked and then ignored).
    """

    wire: str
    attr: str
    kind: str
    nullable: bool = True
    target: str = ""


RULES: dict[str, tuple[Field, ...]] = {
    "customers": (
        Field("name", "name", "text", nullable=False), Field("email", "email", "text"),
        Field("phone", "phone", "text"), Field("vatNumber", "vat_number", "text"),
        Field("street", "street", "text"), Field("postalCode", "postal_code", "text"),
        Field("city", "city", "text"), Field("country", "country", "text"),
        Field("externalId", "external_id", "text")),
    "invoices": (
        Field("customer", "customer_id", "relation", target="customers"), Field("date", "issued", "date"),
        Field("dueDate", "due", "date"), Field("currency", "currency", "text", nullable=False),
        Field("reference", "reference", "text"), Field("status", "status", "text", nullable=False),
        Field("invoiceRows", "", "inverse", target="invoice-rows")),
    "invoice-rows": (
        Field("invoice", "invoice_id", "relation", target="invoices"),
        Field("productName", "product_name", "text", nullable=False), Field("unit", "unit", "text"),
        Field("quantity", "quantity", "number", nullable=False),
        Field("vatRate", "vat_rate", "decimal", nullable=False),
        Field("netPrice", "net_price", "decimal", nullable=False),
        Field("netDiscountAmount", "net_discount", "decimal"),
        Field("classificationNumber", "classification_number", "text"), Field("project", "", "relation"),
        Field("parentInvoiceRow", "parent_id", "relation", target="invoice-rows"),
        Field("invoiceChildrenRows", "", "inverse", target="invoice-rows")),
    "invoice-transactions": (
        Field("invoice", "invoice_id", "relation", target="invoices"), Field("amount", "amount", "number"),
        Field("date", "date", "datetime"), Field("transaction", "", "relation")),
    "payment-methods": (
        Field("ccExpMonth", "cc_exp_month", "int", nullable=False),
        Field("ccExpYear", "cc_exp_year", "int", nullable=False)),
}
# Required on create (the seed's starred fields plus what a row or payment cannot exist without).
_REQUIRED = {"customers": ("name",), "invoices": ("customer_id",),
             "invoice-rows": ("invoice_id", "product_name", "quantity", "vat_rate", "net_price"),
             "invoice-transactions": ("invoice_id", "date"), "payment-methods": ()}


def _media(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def check_content_type(request: Request, patch: bool) -> None:
    """415 unless the body's content type is one the operation reads.

    Raises:
        UnsupportedMediaType: missing or unsupported ``Content-Type`` (API Platform's messages).
    """
    raw = request.header("Content-Type")
    if not raw or not raw.strip():
        raise UnsupportedMediaType('The "Content-Type" header must exist.')
    allowed = (PATCH_TYPE,) if patch else INPUT_TYPES
    if _media(raw) not in allowed:
        shown = '", "'.join(allowed)
        raise UnsupportedMediaType(f'The content-type "{_media(raw)}" is not supported. '
                                   f'Supported MIME types are "{shown}".')


def decode(request: Request) -> dict[str, Any]:
    """The JSON object in the body (numbers with a fraction as Decimal).

    Raises:
        BadRequest: "Syntax error" for anything that is not JSON; a JSON value that is not an object.
    """
    try:
        value = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Syntax error") from None
    if not isinstance(value, dict):
        raise BadRequest("The input data is misformatted.")
    return value


def _gettype(value: Any) -> str:
    """PHP's gettype() of a decoded JSON value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Decimal):
        return "double"
    if isinstance(value, str):
        return "string"
    return "array"


def _type_error(name: str, expected: str, value: Any) -> BadRequest:
    return BadRequest(f'The type of the "{name}" attribute must be "{expected}", "{_gettype(value)}" given.')


def _relation(state: Any, rule: Field, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, dict):
        raise BadRequest(f'Nested documents for attribute "{rule.wire}" are not allowed. Use IRIs instead.')
    if not isinstance(value, str):
        raise BadRequest(f'The type of the "{rule.wire}" attribute must be "array" (nested document) or "string" '
                         f'(IRI), "{_gettype(value)}" given.')
    target = RESOURCES.get(rule.target) if rule.target else None
    collection, _, key = value.rpartition("/")
    known = {r.path for r in RESOURCES.values()}
    if not _IRI.match(value) or collection not in known or not key:
        raise BadRequest(f'Invalid IRI "{value}".')
    if target is None or collection != target.path:
        raise BadRequest(f'Invalid IRI "{value}".')
    try:
        return int(state.get(rule.target, key).id)
    except Exception:  # NotFound: missing or soft-deleted
        raise BadRequest(f'Item not found for "{value}".') from None


def _inverse(state: Any, rule: Field, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise _type_error(rule.wire, "array", value)
    for item in value:
        _relation(state, rule, item)


def _scalar(rule: Field, value: Any, now: float) -> Any:
    if value is None:
        if not rule.nullable and rule.kind in ("text", "int", "number"):
            raise _type_error(rule.wire, _PHP_TYPES[rule.kind], value)
        return None
    kind = rule.kind
    if kind in ("text", "decimal"):
        if not isinstance(value, str):
            raise _type_error(rule.wire, "string", value)
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise _type_error(rule.wire, "float", value)
        return Decimal(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(rule.wire, "int", value)
        return value
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("The data is either not an string, an empty string, or null; you should pass a string "
                         "that can be parsed with the passed format or a valid DateTime string.")
    moment = parse_date(value, now)
    if moment is None:
        raise BadRequest(f"DateTime::__construct(): Failed to parse time string ({value}) at position 0 "
                         f"({value[0]}): Unexpected character")
    if kind == "date":
        return datetime.fromtimestamp(moment, UTC).date()
    return int(moment)


def read_input(state: Any, resource: str, body: dict[str, Any], now: float) -> dict[str, Any]:
    """Deserialize a body: record attribute -> value for every writable property present (400 rules).

    Unknown and read-only properties are ignored (``allow_extra_attributes``). Decimal strings are kept
    as given here; `validate` checks and rounds them.

    Raises:
        BadRequest: a wrong JSON type, a nested document, a bad or unknown IRI.
    """
    values: dict[str, Any] = {}
    for rule in RULES[resource]:
        if rule.wire not in body:
            continue
        value = body[rule.wire]
        if rule.kind == "inverse":
            _inverse(state, rule, value)
        elif rule.kind == "relation":
            found = _relation(state, rule, value)
            if rule.attr:
                values[rule.attr] = found
        else:
            values[rule.attr] = _scalar(rule, value, now)
    return values


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number.quantize(_CENT, ROUND_HALF_UP) if number.is_finite() else None


def validate(resource: str, merged: dict[str, Any], creating: bool, current_status: str | None = None) -> None:
    """Check the record as it would be after the write; turns decimal strings into Decimals in place.

    Args:
        resource: the collection.
        merged: attribute -> value after the write (for a PATCH: current values overlaid with the input).
        creating: a POST (required properties must be present).
        current_status: an invoice's status before a PATCH.

    Raises:
        Unprocessable: with every violation.
    """
    found: list[Violation] = []
    wire = {f.attr: f.wire for f in RULES[resource] if f.attr}
    for attr in _REQUIRED[resource]:
        if merged.get(attr) is None:
            found.append(Violation(wire[attr], "This value should not be null.", NOT_NULL))
    for rule in RULES[resource]:
        value = merged.get(rule.attr) if rule.attr else None
        if rule.kind == "decimal" and isinstance(value, str):
            number = _decimal(value)
            if number is None:
                found.append(Violation(rule.wire, "This value should be of type numeric.", INVALID_TYPE))
            else:
                merged[rule.attr] = number
                if rule.attr == "vat_rate" and number < 0:
                    found.append(Violation(rule.wire, "This value should be either positive or zero.", TOO_LOW))
    _specific(resource, merged, found, current_status)
    if found:
        raise Unprocessable(found)


def _specific(resource: str, merged: dict[str, Any], found: list[Violation], current_status: str | None) -> None:
    if resource == "customers":
        if merged.get("name") == "":
            found.append(Violation("name", "This value should not be blank.", NOT_BLANK))
        email = merged.get("email")
        if email and not _EMAIL.match(email):
            found.append(Violation("email", "This value is not a valid email address.", INVALID_EMAIL))
        country = merged.get("country")
        if country is not None and country not in COUNTRIES:
            found.append(Violation("country", "This value is not a valid country.", NO_SUCH_COUNTRY))
    elif resource == "invoices":
        if merged.get("currency") not in CURRENCIES:
            found.append(Violation("currency", "This value is not a valid currency.", NO_SUCH_CURRENCY))
        status = merged.get("status")
        if current_status is not None and status not in (current_status, "cancelled"):
            found.append(Violation("status", "The value you selected is not a valid choice.", NO_SUCH_CHOICE))
    elif resource == "invoice-rows":
        if merged.get("product_name") == "":
            found.append(Violation("productName", "This value should not be blank.", NOT_BLANK))
    elif resource == "payment-methods":
        month = merged.get("cc_exp_month")
        if isinstance(month, int) and not 1 <= month <= 12:
            found.append(Violation("ccExpMonth", "This value should be between 1 and 12.",
                                   "04b91c99-a946-4221-afc5-e65ebac401eb"))
