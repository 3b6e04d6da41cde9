"""Deterministic account data: Dutch-ish clients, products, and invoices with a realistic payment mix.

The same `SeedSpec` always yields byte-identical records (nothing reads the clock). Invoices are sent on
ascending dates between `start_date` and `end_date`, one id sequence per year (F20250001, ...). Payment
outcomes: 3 % over-paid, 8 % partly paid (1-3 payments), 5 % of the older invoices (and 34 % of the
recent ones) unpaid - a fifth of the old unpaid ones uncollectible - the rest paid in full, one in ten
in two instalments. Each payment falls 1 to paymentperiod + 20 days after the previous event, and not
after `end_date` (so the newest invoices are still open). Open invoices past due get reminders.
No invoice-level discounts are generated, so ``totalintax = sum(linetotal) + tax`` holds for every
seeded invoice.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from sandboxes._gc import paused_gc
from sandboxes.factuursturen.invoicing import add_payment, build_draft, build_invoice, number_for, snapshot
from sandboxes.factuursturen.records import (
    Client,
    Draft,
    HistoryItem,
    Invoice,
    Line,
    Product,
    make_line,
    round2,
)
from sandboxes.factuursturen.state import SeedData

__all__ = ["SeedSpec", "generate"]

_FIRST = ("Jan", "Pieter", "Kees", "Anna", "Sanne", "Lotte", "Daan", "Sem", "Emma", "Julia", "Lucas", "Thijs",
          "Fleur", "Bram", "Eva", "Ruben", "Noor", "Tim", "Lisa", "Jeroen", "Marieke", "Sven", "Iris", "Wouter")
_LAST = ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
         "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
         "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer")
_TRADE = ("Bouw", "Techniek", "Advies", "Design", "Installatie", "Media", "Groen", "Logistiek", "Zorg", "ICT",
          "Schilders", "Bakkerij", "Fietsen", "Catering", "Architecten")
_SUFFIX = ("B.V.", "B.V.", "V.O.F.", "", "Holding B.V.")
_NL_CITIES = (("Amsterdam", "10"), ("Rotterdam", "30"), ("Utrecht", "35"), ("Den Haag", "25"),
              ("Eindhoven", "56"), ("Groningen", "97"), ("Zwolle", "80"), ("Haarlem", "20"), ("Arnhem", "68"),
              ("Leiden", "23"), ("Maastricht", "62"), ("Nijmegen", "65"), ("Tilburg", "50"), ("Breda", "48"))
_ABROAD = ((18, "Antwerpen", "2000", "", "BE"), (50, "Düsseldorf", "40210", "de", "DE"),
           (63, "Lille", "59000", "fr", "FR"), (224, "London", "EC1A 1BB", "en", "GB"),
           (226, "New York", "10001", "en", "US"))
_STREETS = ("Dorpsstraat", "Kerkstraat", "Stationsweg", "Molenweg", "Schoolstraat", "Hoofdstraat", "Julianalaan",
            "Industrieweg", "Nieuwstraat", "Marktplein", "Wilhelminastraat", "Havenkade")
_BANKS = (("INGB", "INGBNL2A"), ("RABO", "RABONL2U"), ("ABNA", "ABNANL2A"), ("SNSB", "SNSBNL2A"),
          ("TRIO", "TRIONL2U"), ("BUNQ", "BUNQNL2A"))
_PRODUCTS = ("Montagemateriaal", "Kabelset", "Licentie (jaar)", "Hosting pakket", "Onderhoudscontract",
             "Bevestigingsset", "Stroomadapter", "Werkbank", "Drukwerk", "Verzendkosten", "Koffiepakket",
             "Beschermhoes", "Sensorset", "Opslag (maand)", "Reiskosten")
_SERVICES = ("Advieswerkzaamheden", "Montage", "Ontwerp", "Projectmanagement", "Onderhoud", "Support",
             "Training", "Installatie op locatie")
_HOURS = tuple(Decimal(x) for x in ("1", "2", "4", "8", "1.5", "2.5", "0.75", "3", "6"))
_RATES = tuple(Decimal(x) for x in ("45", "55", "65", "72.50", "85", "95", "110", "125"))
_PCTS = tuple(Decimal(x) for x in ("5", "10", "15"))
_QTY = tuple(Decimal(n) for n in range(1, 13))
_R21, _R9, _R0 = Decimal(21), Decimal(9), Decimal(0)
_DAYS = tuple(timedelta(days=n) for n in range(4000))
T = TypeVar("T")


@dataclass
class SeedSpec:
    """What to generate; `start_date`/`end_date` bound every sent and payment date."""

    seed: int = 42
    clients: int = 100
    invoices: int = 500
    lines_per_invoice: int = 3
    products: int = 20
    start_date: date = date(2023, 1, 1)
    end_date: date = date(2025, 12, 31)


def _iban(rng: random.Random, bank: str) -> str:
    account = f"{rng.randrange(10**9, 10**10)}"
    digits = "".join(str(int(ch, 36)) for ch in f"{bank}{account}NL00")
    return f"NL{98 - int(digits) % 97:02d}{bank}{account}"


def _client(rng: random.Random, nr: int, spec: SeedSpec) -> Client:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    is_company = rng.random() < 0.75
    company = f"{last.split()[-1]} {rng.choice(_TRADE)} {rng.choice(_SUFFIX)}".strip() if is_company else ""
    abroad = rng.random() < 0.08
    if abroad:
        country, city, zipcode, lang, cc = rng.choice(_ABROAD)
    else:
        (city, prefix), country, lang, cc = rng.choice(_NL_CITIES), 146, "", "NL"
        zipcode = f"{prefix}{rng.randrange(10, 99)} {chr(65 + rng.randrange(26))}{chr(65 + rng.randrange(26))}"
    domain = f"{company.split()[0].lower()}{rng.choice(_TRADE).lower()}.{cc.lower()}" if company else "gmail.com"
    email = f"{first.lower()}.{last.replace(' ', '').lower()}@{domain}" if rng.random() < 0.9 else ""
    bank, bic = rng.choice(_BANKS)
    autocollect = rng.random() < 0.1 and not abroad
    created = spec.start_date - timedelta(days=rng.randrange(0, 365))
    phone = f"0{rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
    client = Client(
        clientnr=nr, contact=f"{first} {last}", company=company,
        address=f"{rng.choice(_STREETS)} {rng.randrange(1, 250)}", zipcode=zipcode, city=city, country=country,
        phone=phone if rng.random() < 0.8 else "",
        mobile=f"06 {rng.randrange(10**7, 10**8)}" if rng.random() < 0.5 else "", email=email,
        bankcode=_iban(rng, bank) if rng.random() < 0.85 else "", biccode=bic,
        taxnumber=f"{cc}{rng.randrange(10**8, 10**9)}B01" if is_company else "",
        tax_shifted=abroad and is_company and cc in ("BE", "DE", "FR"),
        sendmethod=("printcenter" if rng.random() < 0.03 else "email") if email else "mail",
        paymentmethod="autocollect" if autocollect else "bank", top=rng.choice((14, 30, 30, 30, 60)),
        reference={"line1": f"Uw referentie: PO-{rng.randrange(1000, 9999)}" if rng.random() < 0.1 else "",
                   "line2": "", "line3": ""},
        notes="Betaalt vaak laat" if rng.random() < 0.05 else "", active=rng.random() < 0.95,
        default_doclang=lang, mandate_id=f"MDT{nr:06d}" if autocollect else "",
        mandate_date=created.isoformat() if autocollect else "", collecttype="RCUR" if autocollect else "",
        timestamp=f"{created.isoformat()} {rng.randrange(8, 18):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}",
    )
    if not client.bankcode:
        client.biccode = ""
    return client


def _products(rng: random.Random, count: int) -> list[Product]:
    items = []
    for pid in range(1, count + 1):
        price = Decimal(rng.randrange(150, 60000)).scaleb(-3 if rng.random() < 0.2 else -2)
        rate = 21 if rng.random() < 0.8 else 9
        intax = (price * (100 + rate) / 100).quantize(Decimal("0.001")).normalize()
        items.append(Product(pid, f"ART-{1000 + pid}", _PRODUCTS[(pid - 1) % len(_PRODUCTS)], price.normalize(),
                             rate, intax))
    return items


def _pick(rnd: Callable[[], float], items: Sequence[T]) -> T:
    """`random.choice` at a fraction of its cost (one `random()` call)."""
    return items[int(rnd() * len(items))]


def _lines(rnd: Callable[[], float], count: int, products: list[Product], shifted: bool) -> list[Line]:
    lines = []
    for n in range(count):
        if n and rnd() < 0.04:
            lines.append(make_line("Zie bijlage voor de specificatie"))
            continue
        r = rnd()
        rate = _R0 if shifted else (_R21 if r < 0.75 else _R9 if r < 0.95 else _R0)
        discount = _pick(rnd, _PCTS) if rnd() < 0.08 else _R0
        if products and rnd() < 0.6:
            product = _pick(rnd, products)
            lines.append(make_line(f"{product.code} {product.name}", _pick(rnd, _QTY), product.price, rate, discount))
        else:
            price = _pick(rnd, _RATES) if rnd() < 0.85 else Decimal(1000 + int(rnd() * 98999)).scaleb(-3)
            lines.append(make_line(_pick(rnd, _SERVICES), _pick(rnd, _HOURS), price, rate, discount, "uur"))
    return lines


def _clock_time(rnd: Callable[[], float]) -> str:
    minutes = int(rnd() * 600)
    return f"{8 + minutes // 60:02d}:{minutes % 60:02d}"


def _payments(rnd: Callable[[], float], invoice: Invoice, sent: date, due: date, end: date) -> None:
    """Book this invoice's payment story (dates never after `end`), then reminders, history in date order."""
    total = invoice.totalintax
    old = due + _DAYS[60] <= end
    r = rnd()
    amounts: list[Decimal] = []
    if r < 0.03:
        amounts = [total, Decimal(100 + int(rnd() * 4900)).scaleb(-2)] if rnd() < 0.5 else [total, total]
    elif r < 0.11:
        amounts = [round2(total * Decimal(10 + int(rnd() * 16)) / 100) for _ in range(1 + int(rnd() * 3))]
    elif r >= (0.16 if old else 0.45):
        if rnd() < 0.1:
            first = round2(total * Decimal(30 + int(rnd() * 31)) / 100)
            amounts = [first, total - first]
        else:
            amounts = [total]
    day = sent
    for amount in amounts:
        day += _DAYS[1 + int(rnd() * (invoice.paymentperiod + 20))]  # never before it was sent
        if day > end or amount <= 0:
            break
        add_payment(invoice, amount, day.isoformat(), _clock_time(rnd))
    reminder = due + _DAYS[14]
    if invoice.open > 0 and reminder <= end:
        invoice.lastreminder = reminder.isoformat()
        invoice.history.append(HistoryItem(invoice.lastreminder, _clock_time(rnd), "Herinnering verstuurd"))
        if not amounts and old and rnd() < 0.2 and due + _DAYS[120] <= end:
            invoice.uncollectible = (due + _DAYS[90]).isoformat()
            invoice.history.append(HistoryItem(invoice.uncollectible, _clock_time(rnd), "Factuur oninbaar verklaard"))
        invoice.history.sort(key=lambda h: (h.date, h.time))


def generate(spec: SeedSpec) -> SeedData:
    """Build the whole account for `spec` (cyclic GC paused meanwhile: millions of small objects)."""
    with paused_gc():
        return _generate(spec)


def _generate(spec: SeedSpec) -> SeedData:
    rng = random.Random(spec.seed)
    rnd = rng.random
    clients = [_client(rng, nr, spec) for nr in range(1, spec.clients + 1)]
    products = _products(rng, spec.products)
    data = SeedData(clients=clients, products=products)
    if not clients or spec.invoices <= 0:
        return data
    order = list(range(len(clients)))
    rng.shuffle(order)
    weights, acc = [], 0.0
    for rank in range(len(order)):
        acc += 1.0 / (rank + 1) ** 0.8
        weights.append(acc)
    chosen = rng.choices(order, cum_weights=weights, k=spec.invoices)
    span = (spec.end_date - spec.start_date).days + 1
    year_seq: dict[int, int] = {}
    per_line = max(1, spec.lines_per_invoice)
    snaps = [snapshot(client) for client in clients]  # one per client, shared by its invoices
    for i, ci in enumerate(chosen):
        client = clients[ci]
        sent = spec.start_date + _DAYS[i * span // spec.invoices] if span < len(_DAYS) else \
            spec.start_date + timedelta(days=i * span // spec.invoices)
        year_seq[sent.year] = seq = year_seq.get(sent.year, 0) + 1
        invoice = build_invoice(number=number_for(sent.year, seq), seq=0, client=client, snap=snaps[ci],
                                lines=_lines(rnd, per_line, products, client.tax_shifted), sent=sent.isoformat(),
                                time=_clock_time(rnd), sendmethod=client.sendmethod)
        _payments(rnd, invoice, sent, sent + timedelta(days=invoice.paymentperiod), spec.end_date)
        data.invoices.append(invoice)
        if invoice.sent > client.lastinvoice:
            client.lastinvoice = invoice.sent
    for client in clients:
        if client.lastinvoice and client.lastinvoice > client.timestamp[:10]:
            client.timestamp = f"{client.lastinvoice} {client.timestamp[11:]}"
    data.drafts = _drafts(rng, clients, products, spec)
    return data


def _drafts(rng: random.Random, clients: list[Client], products: list[Product], spec: SeedSpec) -> list[Draft]:
    today = spec.end_date.isoformat()
    drafts = []
    for n in range(1, 4):
        client = rng.choice(clients)
        drafts.append(build_draft(kind="saved", draft_id=n, name=f"concept-{n}", client=client,
                                  lines=_lines(rng.random, 2, products, client.tax_shifted), today=today))
    for n in range(1, 3):
        client = rng.choice(clients)
        initial = (spec.end_date - timedelta(days=rng.randrange(0, 60))).isoformat()
        drafts.append(build_draft(kind="repeated", draft_id=n, name=f"abonnement-{n}", client=client,
                                  lines=_lines(rng.random, 1, products, client.tax_shifted), today=today,
                                  repeat={"initialdate": initial, "finalsenddate": "", "frequency": "monthly",
                                          "repeattype": "auto"}))
    return drafts
