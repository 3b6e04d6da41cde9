"""Records of one FactuurSturen account and the money rules that tie lines to totals (Decimal only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["CLIENT_SNAPSHOT", "ZERO", "Client", "Draft", "HistoryItem", "Invoice", "Line", "Product", "Snapshot",
           "TaxSum", "compute_totals", "make_line", "round2"]

ZERO = Decimal(0)
_CENT = Decimal("0.01")
_ZERO2 = Decimal("0.00")
_HUNDRED = Decimal(100)

# Client fields copied onto an invoice when it is made; later client edits do not change the invoice.
CLIENT_SNAPSHOT = ("company", "contact", "address", "zipcode", "city", "country", "phone", "mobile", "email",
                   "taxnumber")


def round2(value: Decimal) -> Decimal:
    """Round half up to cents."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Line:
    """An invoice line; a text-only line has ``amount is None`` and counts for nothing."""

    description: str
    amount: Decimal | None
    amount_desc: str
    tax_rate: Decimal
    price: Decimal
    discount_pct: Decimal
    linetotal: Decimal


def make_line(description: str, amount: Decimal | None = None, price: Decimal = ZERO, tax_rate: Decimal = ZERO,
              discount_pct: Decimal = ZERO, amount_desc: str = "") -> Line:
    """A line with its total: round_half_up(amount x price x (1 - discount_pct/100), 2)."""
    if amount is None:
        return Line(description, None, amount_desc, ZERO, ZERO, ZERO, ZERO)
    gross = amount * price
    if discount_pct:
        gross = gross * (_HUNDRED - discount_pct) / _HUNDRED
    return Line(description, amount, amount_desc, tax_rate, price, discount_pct, round2(gross))


@dataclass(slots=True)
class TaxSum:
    """Tax of one rate: `sum` = round_half_up(`sum_of` x rate / 100, 2); rate -1 means "no tax"."""

    rate: Decimal
    sum_of: Decimal
    sum: Decimal


def compute_totals(lines: list[Line], discounttype: str = "", discount: Decimal = ZERO) -> tuple[
        list[TaxSum], Decimal, Decimal]:
    """Per-rate taxes (highest rate first), total tax and total including tax.

    Without an invoice discount, ``totalintax = sum(linetotal) + tax``. A ``percentage`` discount
    reduces every rate's base by that percentage (rounded per rate); an ``amount`` discount is spread
    over the rates in proportion to their bases, the last rate taking the rounding rest.
    """
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        if line.amount is not None:
            bases[line.tax_rate] = bases.get(line.tax_rate, _ZERO2) + line.linetotal
    rates = sorted(bases, reverse=True)
    if discount and rates:
        if discounttype == "amount":
            whole = sum(bases.values(), _ZERO2)
            left = discount
            for rate in rates[:-1]:
                share = round2(discount * bases[rate] / whole) if whole else _ZERO2
                bases[rate] -= share
                left -= share
            bases[rates[-1]] -= left
        else:
            for rate in rates:
                bases[rate] = round2(bases[rate] * (_HUNDRED - discount) / _HUNDRED)
    taxes = [TaxSum(rate, bases[rate], round2(bases[rate] * rate / _HUNDRED) if rate > 0 else _ZERO2)
             for rate in rates]
    tax = sum((t.sum for t in taxes), _ZERO2)
    return taxes, tax, sum((t.sum_of for t in taxes), _ZERO2) + tax


@dataclass(slots=True, eq=False)
class Snapshot:
    """The client fields an invoice keeps as they were when it was made (wire strings).

    Never mutated, so the invoices of one client may share one; `cache_json` holds its JSON fragment.
    """

    company: str
    contact: str
    address: str
    zipcode: str
    city: str
    country: str
    phone: str
    mobile: str
    email: str
    taxnumber: str
    cache_json: str = ""


@dataclass(slots=True)
class HistoryItem:
    """One event on an invoice; payment events carry an `amount`."""

    date: str
    time: str
    description: str
    amount: Decimal | None = None


def _reference() -> dict[str, str]:
    return {"line1": "", "line2": "", "line3": ""}


@dataclass(slots=True, eq=False)
class Client:
    """A client (relation) of the account."""

    clientnr: int
    contact: str = ""
    showcontact: bool = True
    company: str = ""
    address: str = ""
    zipcode: str = ""
    city: str = ""
    country: int = 146
    phone: str = ""
    mobile: str = ""
    email: str = ""
    bankcode: str = ""
    biccode: str = ""
    taxnumber: str = ""
    tax_shifted: bool = False
    lastinvoice: str = ""
    sendmethod: str = "email"
    paymentmethod: str = "bank"
    top: int = 30
    stddiscount: Decimal = ZERO
    mailintro: str = "Geachte heer/mevrouw,"
    reference: dict[str, str] = field(default_factory=_reference)
    notes: str = ""
    notes_on_invoice: bool = False
    active: bool = True
    default_doclang: str = ""
    default_email: int = 0
    currency: str = "EUR"
    mandate_id: str = ""
    mandate_date: str = ""
    collecttype: str = ""
    timestamp: str = ""
    tax_type: str = "extax"
    default_category: int = 0
    rev: int = 0
    cache_rev: int = -1
    cache_json: bytes = b""


@dataclass(slots=True, eq=False)
class Invoice:
    """A sent invoice; `paid` is the sum of its payments and `open` = `totalintax` - `paid`."""

    id: int
    invoicenr: str
    seq: int
    clientnr: int
    snapshot: Snapshot
    lines: list[Line]
    sent: str
    duedate: str
    paymentperiod: int
    taxes: list[TaxSum]
    tax: Decimal
    totalintax: Decimal
    open: Decimal
    paid: Decimal = ZERO
    profile: int = 1
    discounttype: str = "percentage"
    discount: Decimal = ZERO
    paymentcondition: str = ""
    collection: bool = False
    invoicenote: str = ""
    reference: dict[str, str] = field(default_factory=_reference)
    paiddate: str = ""
    lastreminder: str = ""
    uncollectible: str = ""
    payment_url: str = ""
    tax_type: str = "extax"
    language: str = "nl"
    tax_shifted: bool = False
    category: int = 0
    sendmethod: str = "email"
    history: list[HistoryItem] = field(default_factory=list)
    overrides: dict[str, str] | None = None
    rev: int = 0
    cache_rev: int = -1
    cache_json: bytes = b""


@dataclass(slots=True, eq=False)
class Product:
    """A product; `priceintax` is computed from `price` and `taxes` when not given."""

    id: int
    code: str
    name: str
    price: Decimal
    taxes: int
    priceintax: Decimal
    rev: int = 0
    cache_rev: int = -1
    cache_json: bytes = b""


@dataclass(slots=True, eq=False)
class Draft:
    """A saved (draft) or repeating invoice: not sent, so no number, no payments, not in /invoices."""

    id: int
    kind: str
    name: str
    clientnr: int
    snapshot: Snapshot
    lines: list[Line]
    totalintax: Decimal
    totaldiscount: Decimal
    datesaved: str
    profile: int = 1
    discounttype: str = "percentage"
    discount: Decimal = ZERO
    paymentcondition: str = ""
    paymentperiod: int = 30
    reference: dict[str, str] = field(default_factory=_reference)
    sendmethod: str = ""
    alreadypaid: Decimal = ZERO
    alreadypaidmethod: str = ""
    initialdate: str = ""
    nextsenddate: str = ""
    finalsenddate: str = ""
    frequency: str = ""
    repeattype: str = ""
    rev: int = 0
    cache_rev: int = -1
    cache_json: bytes = b""
