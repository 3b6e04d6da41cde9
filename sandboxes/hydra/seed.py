"""Deterministic account data: Dutch-ish customers and invoices with rows and a realistic payment mix.

The same `SeedSpec` always yields identical records (nothing reads the clock). Invoices are dated on
ascending days between `start_date` and `end_date`; every timestamp falls on or before `end_date`, so
changes made "now" are newer than anything seeded. Mix: 4 % drafts (no number; half without dates),
3 % cancelled, the rest sent: 55 % paid in full (one in ten in two instalments), 10 % partly paid, 2 %
over-paid, the rest unpaid (overdue once past due). Payments fall 1 to 50 days after the invoice date
and never after `end_date`. Some names carry ``&``, ``'`` and non-ASCII letters, so clients meet
API Platform's escaping.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from sandboxes._gc import paused_gc
from sandboxes.hydra.records import (
    ZERO,
    Customer,
    Invoice,
    PaymentMethod,
    Row,
    Transaction,
    round2,
    row_amounts,
    settle,
)
from sandboxes.hydra.state import SeedData

__all__ = ["SeedSpec", "generate"]

_FIRST = ("Jan", "Pieter", "Kees", "Anna", "Sanne", "Lotte", "Daan", "Sem", "Emma", "Julia", "Lucas", "Thijs",
          "Fleur", "Bram", "Eva", "Ruben", "Noor", "Tim", "Zoë", "Jeroen", "Marieke", "Sven", "Iris", "Wouter")
_LAST = ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
         "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
         "Brouwer", "de Wit", "Dijkstra", "Müller", "de Graaf", "van der Meer")
_TRADE = ("Bouw", "Techniek", "Advies", "Design", "Installatie", "Media", "Groen", "Logistiek", "Zorg", "ICT",
          "Schilders", "Bakkerij", "Fietsen", "Catering", "Architecten")
_SUFFIX = ("B.V.", "B.V.", "V.O.F.", "& Zn.", "Holding B.V.", "")
_CITIES = (("Amsterdam", "10"), ("Rotterdam", "30"), ("Utrecht", "35"), ("Den Haag", "25"), ("Eindhoven", "56"),
           ("Groningen", "97"), ("Zwolle", "80"), ("Haarlem", "20"), ("Arnhem", "68"), ("Leiden", "23"),
           ("Maastricht", "62"), ("Nijmegen", "65"), ("Tilburg", "50"), ("Breda", "48"))
_ABROAD = (("BE", "Antwerpen", "2000"), ("DE", "Düsseldorf", "40210"), ("FR", "Lille", "59000"),
           ("GB", "London", "EC1A 1BB"))
_STREETS = ("Dorpsstraat", "Kerkstraat", "Stationsweg", "Molenweg", "Schoolstraat", "Hoofdstraat", "Julianalaan",
            "Industrieweg", "Nieuwstraat", "Marktplein", "Wilhelminastraat", "Havenkade")
_GOODS = ("Montagemateriaal", "Kabelset", "Licentie (jaar)", "Hosting pakket", "Onderhoudscontract",
          "Bevestigingsset", "Stroomadapter", "Werkbank", "Drukwerk", "Verzendkosten", "Koffiepakket 'Extra'",
          "Beschermhoes", "Sensorset", "Opslag (maand)", "Reiskosten")
_SERVICES = ("Advieswerkzaamheden", "Montage", "Ontwerp & realisatie", "Projectmanagement", "Onderhoud",
             "Support", "Training", "Installatie op locatie")
_HOURS = tuple(Decimal(x) for x in ("1", "2", "4", "8", "1.5", "2.5", "0.75", "3", "6"))
_RATES = tuple(Decimal(x) for x in ("45.00", "55.00", "65.00", "72.50", "85.00", "95.00", "110.00", "125.00"))
_QTY = tuple(Decimal(n) for n in range(1, 13))
_VAT21, _VAT9, _VAT0 = Decimal("21.00"), Decimal("9.00"), Decimal("0.00")
_DAY = 86_400
T = TypeVar("T")


@dataclass
class SeedSpec:
    """What to generate; `start_date`/`end_date` bound every invoice date and timestamp."""

    seed: int = 42
    customers: int = 100
    invoices: int = 500
    lines_per_invoice: int = 3
    payment_methods: int = 3
    start_date: date = date(2023, 1, 1)
    end_date: date = date(2025, 12, 31)


def _epoch(day: date, seconds: int = 0) -> int:
    return calendar.timegm(day.timetuple()) + seconds


def _pick(rnd: Callable[[], float], items: Sequence[T]) -> T:
    return items[int(rnd() * len(items))]


def _customer(rng: random.Random, cid: int, spec: SeedSpec) -> Customer:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    company = rng.random() < 0.75
    name = f"{last.split()[-1]} {rng.choice(_TRADE)} {rng.choice(_SUFFIX)}".strip() if company else f"{first} {last}"
    if rng.random() < 0.1:
        country, city, postal = rng.choice(_ABROAD)
    else:
        (city, prefix), country = rng.choice(_CITIES), "NL"
        postal = f"{prefix}{rng.randrange(10, 99)} {chr(65 + rng.randrange(26))}{chr(65 + rng.randrange(26))}"
    domain = f"{name.split()[0].lower()}.{country.lower()}" if company else "example.nl"
    created = _epoch(spec.start_date - timedelta(days=rng.randrange(1, 365)), rng.randrange(8 * 3600, 18 * 3600))
    edited = rng.random() < 0.3
    updated = created + rng.randrange(_DAY, 200 * _DAY) if edited else created
    return Customer(
        id=cid, created=created, updated=min(updated, _epoch(spec.end_date, 17 * 3600)), name=name,
        email=f"{first.lower()}.{last.replace(' ', '').lower()}@{domain}".encode("ascii", "ignore").decode()
        if rng.random() < 0.9 else None,
        phone=f"+31 {rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
        if rng.random() < 0.8 else None,
        vat_number=f"{country}{rng.randrange(10**8, 10**9)}B01" if company else None,
        street=f"{rng.choice(_STREETS)} {rng.randrange(1, 250)}", postal_code=postal, city=city, country=country,
        external_id=f"CRM-{cid:06d}" if rng.random() < 0.5 else None)


def _rows(rnd: Callable[[], float], count: int, first_id: int, invoice: Invoice) -> list[Row]:
    rows = []
    for n in range(count):
        r = rnd()
        vat = _VAT21 if r < 0.75 else _VAT9 if r < 0.95 else _VAT0
        if rnd() < 0.5:
            qty, price, unit, name = _pick(rnd, _QTY), Decimal(150 + int(rnd() * 59850)).scaleb(-2), "stuk", \
                _pick(rnd, _GOODS)
        else:
            qty, price, unit, name = _pick(rnd, _HOURS), _pick(rnd, _RATES), "uur", _pick(rnd, _SERVICES)
        row = Row(id=first_id + n, created=invoice.created, updated=invoice.created, invoice_id=invoice.id,
                  product_name=name, quantity=qty, vat_rate=vat, net_price=price, unit=unit,
                  net_discount=round2(qty * price * Decimal("0.05")) if rnd() < 0.05 else ZERO,
                  classification_number=f"{int(rnd() * 90000000) + 10000000}" if rnd() < 0.1 else None)
        row_amounts(row)
        rows.append(row)
    return rows


def _payments(rnd: Callable[[], float], invoice: Invoice, first_id: int, end: int) -> list[Transaction]:
    gross, r = invoice.gross, rnd()
    if r < 0.55:
        if rnd() < 0.1:
            part = round2(gross * Decimal(30 + int(rnd() * 31)) / 100)
            amounts = [part, gross - part]
        else:
            amounts = [gross]
    elif r < 0.65:
        amounts = [round2(gross * Decimal(10 + int(rnd() * 40)) / 100) for _ in range(1 + int(rnd() * 2))]
    elif r < 0.67:
        amounts = [gross, Decimal(100 + int(rnd() * 4900)).scaleb(-2)]
    else:
        amounts = []
    moment, found = invoice.created, list[Transaction]()
    for amount in amounts:
        moment += _DAY * (1 + int(rnd() * 25)) + int(rnd() * 3600)
        if moment > end or amount <= 0:
            break
        found.append(Transaction(id=first_id + len(found), created=moment, updated=moment, invoice_id=invoice.id,
                                 date=moment, amount=amount))
    return found


def generate(spec: SeedSpec) -> SeedData:
    """Build the whole account for `spec` (cyclic GC paused meanwhile: many small objects)."""
    with paused_gc():
        return _generate(spec)


def _generate(spec: SeedSpec) -> SeedData:
    rng = random.Random(spec.seed)
    rnd = rng.random
    data = SeedData(customers=[_customer(rng, n, spec) for n in range(1, spec.customers + 1)])
    data.payment_methods = [
        PaymentMethod(id=n, key=f"pm_seed{n:06d}", created=_epoch(spec.start_date), updated=_epoch(spec.start_date),
                      type="card" if n % 3 else "sepa_debit", cc_brand=("visa", "mastercard")[n % 2] if n % 3 else None,
                      cc_last_digits=f"{4242 + n:04d}" if n % 3 else None, cc_exp_month=1 + n % 12,
                      cc_exp_year=spec.end_date.year + 2, external_id=f"pm_stripe{n:06d}")
        for n in range(1, spec.payment_methods + 1)]
    if not data.customers or spec.invoices <= 0:
        return data
    weights, acc = [], 0.0
    order = list(range(len(data.customers)))
    rng.shuffle(order)
    for rank in range(len(order)):
        acc += 1.0 / (rank + 1) ** 0.8
        weights.append(acc)
    chosen = rng.choices(order, cum_weights=weights, k=spec.invoices)
    span = (spec.end_date - spec.start_date).days + 1
    end = _epoch(spec.end_date, 23 * 3600)
    today = spec.end_date + timedelta(days=1)
    month_seq: dict[str, int] = {}
    for i, ci in enumerate(chosen, start=1):
        day = spec.start_date + timedelta(days=(i - 1) * span // spec.invoices)
        created = _epoch(day, 8 * 3600 + int(rnd() * 9 * 3600))
        invoice = Invoice(id=i, created=created, updated=created, customer_id=data.customers[ci].id, issued=day,
                          due=day + timedelta(days=(14, 30, 30, 60)[int(rnd() * 4)]), status="sent",
                          reference=f"PO-{int(rnd() * 90000) + 10000}" if rnd() < 0.2 else None)
        rows = _rows(rnd, max(1, spec.lines_per_invoice), len(data.rows) + 1, invoice)
        kind = rnd()
        payments: list[Transaction] = []
        if kind < 0.04:
            invoice.status = "draft"
            if rnd() < 0.5:
                invoice.issued = invoice.due = None
        else:
            month = day.strftime("%Y-%m")
            month_seq[month] = month_seq.get(month, 0) + 1
            invoice.number = f"{month}-{month_seq[month]:04d}"
            settle(invoice, rows, [], today)
            if kind < 0.07:
                invoice.status = "cancelled"
            else:
                payments = _payments(rnd, invoice, len(data.transactions) + 1, end)
        invoice.row_ids = [r.id for r in rows]
        settle(invoice, rows, payments, today)
        if payments:
            invoice.updated = max(invoice.updated, payments[-1].updated)
        data.invoices.append(invoice)
        data.rows.extend(rows)
        data.transactions.extend(payments)
    return data
