"""Deterministic customers and invoice requests for a seeded account (the same seed, the same data)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

__all__ = ["customer_fields", "invoice_bodies"]

_FIRMS = ("Bakkerij", "Brouwerij", "Garage", "Drukkerij", "Schrijnwerkerij", "Tuinaanleg", "Dakwerken",
          "Architectenbureau", "Boekhandel", "Fietsenwinkel", "Elektro", "Loodgieterij")
_NAMES = ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
          "De Smet", "Dubois", "Lambert", "Dupont", "Martin", "Vermeulen", "Hermans")
_TOWNS = (("1000", "Brussel"), ("2000", "Antwerpen"), ("9000", "Gent"), ("3000", "Leuven"), ("8000", "Brugge"),
          ("4000", "Luik"), ("5000", "Namen"), ("2800", "Mechelen"), ("3500", "Hasselt"), ("7000", "Bergen"))
_STREETS = ("Kerkstraat", "Stationsstraat", "Dorpsstraat", "Molenstraat", "Nieuwstraat", "Schoolstraat")


def _vat_number(rng: random.Random) -> str:
    """A Belgian VAT number with a valid mod-97 check: BE0 + 7 digits + 2 check digits."""
    base = rng.randrange(2_000_000, 9_999_999)
    return f"BE0{base:07d}{97 - (base % 97):02d}"


def customer_fields(rng: random.Random, index: int) -> dict[str, Any]:
    """The fields of seeded customer number `index` (1-based)."""
    firm, name = rng.choice(_FIRMS), rng.choice(_NAMES)
    postal_code, city = rng.choice(_TOWNS)
    slug = f"{firm}{name}".lower().replace(" ", "")
    return {"name": f"{firm} {name} BV", "vat_number": _vat_number(rng), "street": f"{rng.choice(_STREETS)} "
            f"{rng.randint(1, 180)}", "postal_code": postal_code, "city": city, "country": "BE",
            "email": f"boekhouding@{slug}.be", "phone": f"+32 {rng.randint(2, 9)} {rng.randint(100, 999)} "
            f"{rng.randint(10, 99)} {rng.randint(10, 99)}", "external_customer_no": f"K{index:05d}"}


def invoice_bodies(rng: random.Random, count: int, customer_ids: list[int], products: list[str],
                   end: date) -> list[dict[str, Any]]:
    """`count` valid create requests dated over the year before `end`, for existing customers."""
    bodies = []
    for n in range(count):
        day = end - timedelta(days=rng.randrange(0, 365))
        lines = [{"product_code": rng.choice(products), "description": f"Prestatie {n + 1}.{k + 1}",
                  "quantity": Decimal(rng.randint(1, 8)), "unit_price": Decimal(rng.randint(2000, 25000)) / 100,
                  "vat_rate": rng.choice((21, 21, 21, 6, 12, 0))} for k in range(rng.randint(1, 3))]
        bodies.append({"invoice": {"date": day.isoformat(), "due_days": rng.choice((14, 30, 30, 60)),
                                   "language": rng.choice(("nl", "nl", "fr", "en"))},
                       "customer": {"customer_id": rng.choice(customer_ids)}, "lines": lines})
    return bodies
