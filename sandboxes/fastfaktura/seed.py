"""Deterministic account data: Nordic, French, British, German and US clients and a realistic invoice mix.

The same `SeedSpec` always yields identical records (nothing reads the clock). Invoices are created on
ascending dates between `start_date` and `end_date` (numbered ``FF-<year>-<seq>`` per year), each with
`lines_per_invoice` lines at the client's country's tax rates, in the client's country's currency.
Outcomes: about 2 % drafts (40 % of the last five days' invoices), 5 % cancelled after sending, the rest
sent (by e-mail, else SMS, else link; one in ten also by SMS), three in four of those opened, most of
the older ones paid in full (a ``paid`` event: Stripe, card), the unpaid ones past due ``overdue`` with a
reminder a week later. No event falls after `end_date`; sent invoices still inside their term stay
``sent``/``opened`` and turn overdue on the sandbox clock later. About 3 % of clients are archived
(after their last invoice), so archived clients still own invoices.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sandboxes._gc import paused_gc
from sandboxes.fastfaktura.records import Client, Event, Invoice, Line, make_line, totals
from sandboxes.fastfaktura.state import SeedData, public_url

__all__ = ["SeedSpec", "generate"]

T = TypeVar("T")
_D = Decimal


@dataclass(frozen=True)
class _Country:
    code: str
    locale: str
    currency: str
    dial: str
    digits: int
    rates: tuple[Decimal, ...]  # the first is the standard rate
    scale: int  # prices are quoted in this many cents of the currency per "euro cent"
    cities: tuple[str, ...]


_COUNTRIES = (
    (_Country("NO", "nb", "NOK", "+47", 8, (_D(25), _D(15), _D(12), _D(0)), 11, ("Oslo", "Bergen", "Trondheim")), 40),
    (_Country("SE", "sv", "SEK", "+46", 9, (_D(25), _D(12), _D(6), _D(0)), 11, ("Stockholm", "Göteborg", "Malmö")), 20),
    (_Country("DK", "en", "DKK", "+45", 8, (_D(25), _D(0)), 7, ("København", "Aarhus", "Odense")), 8),
    (_Country("FR", "fr", "EUR", "+33", 9, (_D(20), _D(10), _D("5.5"), _D(0)), 1, ("Paris", "Lyon", "Lille")), 15),
    (_Country("GB", "en", "GBP", "+44", 10, (_D(20), _D(5), _D(0)), 1, ("London", "Leeds", "Bristol")), 8),
    (_Country("DE", "en", "EUR", "+49", 10, (_D(19), _D(7), _D(0)), 1, ("Berlin", "Hamburg", "München")), 6),
    (_Country("US", "en", "USD", "+1", 10, (_D(0),), 1, ("New York", "Austin", "Seattle")), 3),
)
_FIRST = ("Ola", "Kari", "Lars", "Ingrid", "Søren", "Åsa", "Erik", "Maja", "Henrik", "Elin", "Camille", "Louis",
          "Léa", "Hugo", "Oliver", "Amelia", "Jonas", "Lena", "Emma", "Noah", "Astrid", "Magnus", "Sofie", "Mathis")
_LAST = ("Hansen", "Johansen", "Olsen", "Larsen", "Andersson", "Karlsson", "Nilsson", "Jensen", "Nielsen",
         "Martin", "Bernard", "Dubois", "Smith", "Jones", "Müller", "Schmidt", "Berg", "Lund", "Dahl", "Strand")
_TRADE = ("Design", "Bygg", "Consulting", "Media", "Data", "Elektro", "Arkitekter", "Studio", "Logistikk", "Regnskap")
_SUFFIX = {"NO": "AS", "SE": "AB", "DK": "ApS", "FR": "SARL", "GB": "Ltd", "DE": "GmbH", "US": "Inc."}
_STREETS = ("Storgata", "Kungsgatan", "Vestergade", "rue de la Paix", "High Street", "Hauptstraße", "Main Street")
_TAGS = ("vip", "retainer", "b2b", "b2c", "eu", "late-payer", "newsletter")
_WORK = ("Consulting", "Design work", "Development", "Project management", "Workshop", "Support", "Photography",
         "Copywriting", "Travel", "Software licence", "Hosting (month)", "Hardware")
_QTY_INT = tuple(_D(n) for n in range(1, 11))
_QTY_FRAC = tuple(_D(x) for x in ("0.5", "1.5", "2.5", "0.25", "1.75", "3.5", "7.5", "0.75"))
_ASCII = str.maketrans({"ø": "o", "å": "a", "æ": "ae", "é": "e", "ü": "u", "ö": "o", "Ø": "O", "Å": "A", "É": "E"})


@dataclass
class SeedSpec:
    """What to generate; every event falls between `start_date` and the end of `end_date` (UTC)."""

    seed: int = 42
    clients: int = 100
    invoices: int = 500
    lines_per_invoice: int = 3
    archived_share: float = 0.03
    start_date: date = date(2023, 1, 1)
    end_date: date = date(2025, 12, 31)


def _pick(rnd: Callable[[], float], items: Sequence[T]) -> T:
    return items[int(rnd() * len(items))]


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _client(rng: random.Random, seq: int, country: _Country) -> Client:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    company = rng.random() < 0.7
    name = f"{last} {rng.choice(_TRADE)} {_SUFFIX[country.code]}" if company else f"{first} {last}"
    domain = f"{last.translate(_ASCII).lower()}.{country.code.lower()}" if company else "mail.example"
    email = f"{first.translate(_ASCII).lower()}.{last.translate(_ASCII).lower()}{seq}@{domain}"
    phone = country.dial + str(rng.randrange(10 ** (country.digits - 1) * 2, 10**country.digits))
    return Client(
        id=_uuid(rng), seq=seq, name=name,
        email=email if rng.random() < 0.9 else None,
        phone=phone if rng.random() < 0.8 else None,
        address=f"{rng.choice(_STREETS)} {rng.randrange(1, 200)}, {rng.choice(country.cities)}"
        if rng.random() < 0.85 else None,
        country=country.code, locale=country.locale,
        external_id=f"CRM-{10000 + seq}" if rng.random() < 0.3 else None,
        tags=sorted(set(rng.sample(_TAGS, rng.randrange(0, 3)))),
    )


def _lines(rnd: Callable[[], float], count: int, country: _Country) -> list[Line]:
    lines = []
    for _ in range(count):
        r = rnd()
        quantity = _pick(rnd, _QTY_INT) if r < 0.7 else _pick(rnd, _QTY_FRAC)
        price = (2500 + int(rnd() * 22500)) * country.scale
        if rnd() < 0.3:
            price += int(rnd() * 100)  # odd cents, so tax rounding matters
        rates = country.rates
        rate = rates[0] if rnd() < 0.75 or len(rates) == 1 else _pick(rnd, rates[1:])
        lines.append(make_line(_pick(rnd, _WORK), quantity, price, rate))
    return lines


def _story(rng: random.Random, inv: Invoice, client: Client, created: datetime, end: datetime) -> None:
    """Book the invoice's timeline (never after `end`) and set its status by replaying it."""
    rnd = rng.random
    events = inv.events
    age_days = (end - created).days
    r = rnd()
    if r < 0.02 or (age_days < 5 and r < 0.4):
        if rnd() < 0.5:
            inv.due_date = None
        return
    sent = created + timedelta(minutes=2 + int(rnd() * 240))
    if sent > end:
        return
    channel = "email" if client.email else "sms" if client.phone else "link"
    events.append(Event(_uuid(rng), "sent", _z(sent), channel=channel))
    if channel == "email" and client.phone and rnd() < 0.1:
        events.append(Event(_uuid(rng), "sent", _z(sent), channel="sms"))
    if r > 0.95:
        cancelled = sent + timedelta(days=1 + int(rnd() * 10), minutes=int(rnd() * 600))
        if cancelled <= end:
            events.append(Event(_uuid(rng), "cancelled", _z(cancelled)))
            return
    if rnd() < 0.75:
        opened = sent + timedelta(minutes=30 + int(rnd() * 4000))
        if opened <= end:
            events.append(Event(_uuid(rng), "opened", _z(opened)))
    due = datetime.combine(date.fromisoformat(inv.due_date or "9999-12-30"), datetime.min.time()) + timedelta(days=1)
    paid: datetime | None = None
    if rnd() < 0.9:
        paid = sent + timedelta(days=1 + int(rnd() * 50), minutes=int(rnd() * 1400))
        if paid > end:
            paid = None
    closed = paid or end
    if due <= closed:
        events.append(Event(_uuid(rng), "overdue", _z(due)))
        reminder = due + timedelta(days=6, hours=9)
        if reminder <= closed:
            events.append(Event(_uuid(rng), "reminder_sent", _z(reminder), channel=channel))
    if paid is not None:
        events.append(Event(_uuid(rng), "paid", _z(paid), amount_cents=inv.total_cents, paid_at=_z(paid),
                            data={"method": "card", "payment_intent": f"pi_{rng.getrandbits(96):024x}"}))


def _status(events: list[Event]) -> str:
    events.sort(key=lambda e: e.created_at)  # stable: same-instant events keep their order
    status = "draft"
    for e in events:
        if e.type == "sent" and status == "draft":
            status = "sent"
        elif e.type == "opened" and status == "sent":
            status = "opened"
        elif e.type == "overdue" and status in ("sent", "opened"):
            status = "overdue"
        elif e.type in ("paid", "cancelled"):
            status = e.type
    return status


def generate(spec: SeedSpec) -> SeedData:
    """Build the whole account for `spec` (cyclic GC paused meanwhile: many small objects)."""
    with paused_gc():
        return _generate(spec)


def _generate(spec: SeedSpec) -> SeedData:
    rng = random.Random(spec.seed)
    rnd = rng.random
    countries = [c for c, _ in _COUNTRIES]
    weights = [w for _, w in _COUNTRIES]
    homes = rng.choices(countries, weights=weights, k=spec.clients)
    clients = [_client(rng, seq, homes[seq - 1]) for seq in range(1, spec.clients + 1)]
    data = SeedData(clients=clients, seed=spec.seed)
    if not clients or spec.invoices <= 0:
        _archive(rng, clients, {}, spec)
        return data
    order = list(range(len(clients)))
    rng.shuffle(order)
    cumulative, acc = [], 0.0
    for rank in range(len(order)):
        acc += 1.0 / (rank + 1) ** 0.8
        cumulative.append(acc)
    chosen = rng.choices(order, cum_weights=cumulative, k=spec.invoices)
    start = datetime.combine(spec.start_date, datetime.min.time())
    end = datetime.combine(spec.end_date, datetime.min.time()) + timedelta(days=1, seconds=-1)
    span = int((end - start).total_seconds()) - 11 * 3600
    year_seq: dict[int, int] = {}
    last_invoice: dict[int, datetime] = {}
    for i, ci in enumerate(chosen):
        client = clients[ci]
        country = homes[ci]
        created = start + timedelta(seconds=i * span // spec.invoices + int(rnd() * 3600) + 7 * 3600)
        year_seq[created.year] = seq = year_seq.get(created.year, 0) + 1
        lines = _lines(rnd, max(1, spec.lines_per_invoice), country)
        subtotal, tax, total = totals(lines)
        invoice_id = _uuid(rng)
        due = created.date() + timedelta(days=14 if rnd() < 0.4 else 30)
        inv = Invoice(id=invoice_id, seq=spec.clients + i + 1, number=f"FF-{created.year}-{seq:04d}",
                      client_id=client.id, currency=country.currency, lines=lines, subtotal_cents=subtotal,
                      tax_cents=tax, total_cents=total, status="draft", due_date=due.isoformat(),
                      public_url=public_url(invoice_id)[1],
                      notes=f"Order {rng.randrange(1000, 9999)}" if rnd() < 0.2 else None,
                      events=[Event(_uuid(rng), "created", _z(created))])
        _story(rng, inv, client, created, end)
        inv.status = _status(inv.events)
        data.invoices.append(inv)
        last_invoice[ci] = max(last_invoice.get(ci, created), datetime.fromisoformat(inv.events[-1].created_at[:-1]))
    _archive(rng, clients, last_invoice, spec)
    return data


def _archive(rng: random.Random, clients: list[Client], last: dict[int, datetime], spec: SeedSpec) -> None:
    """Archive a few clients, each after its last invoice event (never after `end_date`)."""
    count = round(len(clients) * spec.archived_share)
    end = datetime.combine(spec.end_date, datetime.min.time()) + timedelta(hours=23)
    for ci in sorted(rng.sample(range(len(clients)), count)):
        earliest = last.get(ci, datetime.combine(spec.start_date, datetime.min.time())) + timedelta(hours=1)
        window = max(0, int((end - earliest).total_seconds()))
        when = min(end, earliest + timedelta(seconds=int(rng.random() * window)))
        clients[ci].archived_at = _z(when)
