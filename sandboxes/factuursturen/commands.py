"""Decoded bodies to typed commands (client changes, products, new invoices, payments), 400 on bad input."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandboxes.factuursturen.countries import resolve_country
from sandboxes.factuursturen.errors import BadRequest
from sandboxes.factuursturen.inputs import (
    as_items,
    clean,
    to_bool,
    to_date,
    to_decimal,
    to_int,
    to_paid_datetime,
)
from sandboxes.factuursturen.records import Line, make_line

__all__ = ["FREQUENCIES", "NewInvoice", "Payment", "client_changes", "new_invoice", "payment", "product_fields"]

_TEXT = ("contact", "company", "address", "zipcode", "city", "phone", "mobile", "email", "bankcode", "biccode",
         "taxnumber", "mailintro", "notes", "mandate_id")
_BOOL = ("showcontact", "tax_shifted", "notes_on_invoice", "active")
_CHOICE = {
    "sendmethod": ("mail", "email", "printcenter"),
    "paymentmethod": ("bank", "autocollect"),
    "collecttype": ("", "OOFF", "FRST", "RCUR"),
    "tax_type": ("intax", "extax"),
    "default_doclang": ("", "nl", "en", "de", "fr", "es"),
}
FREQUENCIES = ("weekly", "monthly", "quarterly", "halfyearly", "yearly", "biweekly", "bimonthly", "fourweekly")
_MILLI = Decimal("0.001")


def _choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    text = clean(value).strip()
    if text not in options:
        shown = ", ".join(option or "''" for option in options)
        raise BadRequest(f"Invalid value for {name}: use one of {shown}")
    return text


def _reference(value: Any) -> dict[str, str]:
    if isinstance(value, list):
        value = {f"line{i}": v for i, v in enumerate(value, 1)}
    if not isinstance(value, dict):
        raise BadRequest("Invalid value for reference: expected line1, line2, line3")
    return {key: clean(value.get(key, "") or "") for key in ("line1", "line2", "line3")}


def client_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The writable client fields present in `body`, typed; read-only and unknown fields are ignored.

    Raises:
        BadRequest: a value of the wrong type or outside its options.
    """
    out: dict[str, Any] = {}
    for name in _TEXT:
        if name in body:
            out[name] = clean(body[name] if body[name] is not None else "")
    for name in _BOOL:
        if name in body:
            out[name] = to_bool(body[name], name)
    for name, options in _CHOICE.items():
        if name in body:
            out[name] = _choice(name, body[name], options)
    if "currency" in body:
        currency = clean(body["currency"]).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise BadRequest("Invalid value for currency: use a 3-letter code")
        out["currency"] = currency
    if "top" in body:
        out["top"] = to_int(body["top"], "top")
    if "stddiscount" in body:
        out["stddiscount"] = to_decimal(body["stddiscount"], "stddiscount")
    if "country" in body:
        country = resolve_country(body["country"])
        if country is None:
            raise BadRequest(f"Unknown country {clean(body['country'])!r}")
        out["country"] = country
    if "mandate_date" in body:
        out["mandate_date"] = to_date(body["mandate_date"], "mandate_date") if body["mandate_date"] else ""
    if "reference" in body:
        out["reference"] = _reference(body["reference"])
    return out


def product_fields(body: dict[str, Any], partial: bool) -> dict[str, Any]:
    """Typed product fields (code, name, price, taxes, priceintax).

    Raises:
        BadRequest: missing name/price on create, or a bad value.
    """
    out: dict[str, Any] = {}
    for name in ("code", "name"):
        if name in body:
            out[name] = clean(body[name] or "")
    if "price" in body:
        out["price"] = to_decimal(body["price"], "price").quantize(_MILLI, ROUND_HALF_UP).normalize()
    if "taxes" in body:
        out["taxes"] = to_int(body["taxes"], "taxes")
    if body.get("priceintax") not in (None, ""):
        out["priceintax"] = to_decimal(body["priceintax"], "priceintax").quantize(_MILLI, ROUND_HALF_UP)
    if not partial:
        for name in ("name", "price"):
            if name not in out:
                raise BadRequest(f"{name} is required")
    return out


@dataclass
class NewInvoice:
    """A POSTed invoice (or a person's invoice in the web app), typed but not yet checked against state."""

    clientnr: int
    action: str
    lines: list[Line]
    sendmethod: str = ""
    savename: str = ""
    overwrite_if_exist: bool = False
    reference: dict[str, str] | None = None
    profile: int = 1
    discounttype: str | None = None
    discount: Decimal | None = None
    paymentcondition: str | None = None
    paymentperiod: int | None = None
    invoicenote: str = ""
    invoicenr: int | None = None
    alreadypaid: Decimal | str | None = None
    alreadypaidmethod: str = ""
    paid_date: str | None = None
    paid_time: str | None = None
    sent: str | None = None
    repeat: dict[str, str] = field(default_factory=dict)


def _lines(value: Any) -> list[Line]:
    lines = []
    for i, item in enumerate(as_items(value, "lines"), 1):
        if not isinstance(item, dict):
            raise BadRequest(f"Invalid line {i}: expected an object")
        description = clean(item.get("description") or "")
        if all(item.get(k) in (None, "") for k in ("amount", "price")):
            lines.append(make_line(description))  # a text line: only the description counts
            continue
        amount = to_decimal(item["amount"], f"line {i} amount") if item.get("amount") not in (None, "") else Decimal(1)
        price = to_decimal(item.get("price") or 0, f"line {i} price").quantize(_MILLI, ROUND_HALF_UP)
        rate = to_decimal(item["tax_rate"], f"line {i} tax_rate") if item.get("tax_rate") not in (None, "") \
            else Decimal(21)
        if rate != -1 and not 0 <= rate <= 100:
            raise BadRequest(f"Invalid tax_rate on line {i}")
        discount = to_decimal(item.get("discount_pct") or 0, f"line {i} discount_pct")
        lines.append(make_line(description, amount, price.normalize(), rate.normalize(), discount.normalize(),
                               clean(item.get("amount_desc") or "")))
    return lines


def new_invoice(body: dict[str, Any]) -> NewInvoice:
    """Check a POSTed invoice: clientnr, action, >= 1 line, sendmethod for send, savename for save/repeat.

    Raises:
        BadRequest: a missing or malformed field (plain-text message naming it).
    """
    if body.get("clientnr") in (None, ""):
        raise BadRequest("clientnr is required")
    action = clean(body.get("action") or "").strip()
    if action not in ("send", "save", "repeat"):
        raise BadRequest("action is required: send, save or repeat")
    lines = _lines(body.get("lines"))
    if not lines:
        raise BadRequest("At least one invoice line is required")
    cmd = NewInvoice(to_int(body["clientnr"], "clientnr"), action, lines)
    if action == "send":
        if not body.get("sendmethod"):
            raise BadRequest("sendmethod is required when action is send")
        cmd.sendmethod = _choice("sendmethod", body["sendmethod"], _CHOICE["sendmethod"])
    else:
        cmd.savename = clean(body.get("savename") or "").strip()
        if not cmd.savename:
            raise BadRequest(f"savename is required when action is {action}")
        if len(cmd.savename) > 20:
            raise BadRequest("savename is longer than 20 characters")
        cmd.overwrite_if_exist = to_bool(body.get("overwrite_if_exist", False), "overwrite_if_exist")
    if "reference" in body:
        cmd.reference = _reference(body["reference"])
    if body.get("profile") not in (None, ""):
        cmd.profile = to_int(body["profile"], "profile")
    if body.get("discounttype") not in (None, ""):
        cmd.discounttype = _choice("discounttype", body["discounttype"], ("percentage", "amount"))
    if body.get("discount") not in (None, ""):
        cmd.discount = to_decimal(body["discount"], "discount")
    if body.get("paymentcondition") not in (None, ""):
        cmd.paymentcondition = clean(body["paymentcondition"])
    if body.get("paymentperiod") not in (None, ""):
        cmd.paymentperiod = to_int(body["paymentperiod"], "paymentperiod")
    cmd.invoicenote = clean(body.get("invoicenote") or "")
    if body.get("invoicenr") not in (None, ""):
        if not str(body["invoicenr"]).strip().isdigit():
            raise BadRequest("invoicenr must be an integer without prefix")
        cmd.invoicenr = int(str(body["invoicenr"]).strip())
    _paid(cmd, body)
    if action == "repeat":
        _repeat(cmd, body)
    return cmd


def _paid(cmd: NewInvoice, body: dict[str, Any]) -> None:
    paid = body.get("alreadypaid")
    if body.get("paiddatetime") not in (None, ""):
        cmd.paid_date, cmd.paid_time = to_paid_datetime(body["paiddatetime"], "paiddatetime")
        if paid in (None, ""):
            paid = "full"
    if paid in (None, ""):
        return
    if cmd.action == "repeat":
        raise BadRequest("alreadypaid is not possible for repeating invoices")
    cmd.alreadypaid = "full" if str(paid).strip().lower() == "full" else to_decimal(paid, "alreadypaid")
    cmd.alreadypaidmethod = clean(body.get("alreadypaidmethod") or "")
    if len(cmd.alreadypaidmethod) > 32:
        raise BadRequest("alreadypaidmethod is longer than 32 characters")


def _repeat(cmd: NewInvoice, body: dict[str, Any]) -> None:
    if body.get("initialdate") in (None, ""):
        raise BadRequest("initialdate is required when action is repeat")
    cmd.repeat["initialdate"] = to_date(body["initialdate"], "initialdate")
    cmd.repeat["finalsenddate"] = to_date(body["finalsenddate"], "finalsenddate") \
        if body.get("finalsenddate") not in (None, "") else ""
    cmd.repeat["frequency"] = _choice("frequency", body.get("frequency") or "", FREQUENCIES)
    cmd.repeat["repeattype"] = _choice("repeattype", body.get("repeattype") or "", ("auto", "manual"))


@dataclass
class Payment:
    """A payment to register: an amount (or "full": the invoice total including tax) on a date."""

    amount: Decimal | str
    date: str
    time: str | None = None
    method: str = ""


def payment(body: dict[str, Any]) -> Payment:
    """Check an invoices_payment body: `date` (YYYY-MM-DD) and `amount` (number or "full") are required.

    Raises:
        BadRequest: missing or malformed.
    """
    if body.get("date") in (None, ""):
        raise BadRequest("date is required")
    if body.get("amount") in (None, ""):
        raise BadRequest("amount is required")
    raw = body["amount"]
    amount: Decimal | str = "full" if str(raw).strip().lower() == "full" else to_decimal(raw, "amount")
    if amount == 0:
        raise BadRequest("amount must not be zero")
    return Payment(amount, to_date(body["date"], "date"), None, clean(body.get("method") or ""))
