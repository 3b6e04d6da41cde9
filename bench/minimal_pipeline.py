"""Benchmark (not a test): DESIGN.md's "minimal pipeline" row, measured again on today's machine.

DESIGN.md's Performance table was measured when the targets were set: "httpx + JSON decode + map + sqlite3
upsert, one transaction per page: ~15,000-17,000 invoices/s". This script runs that pipeline against the
FactuurSturen sandbox (a subprocess, rate limit off, pages of 500), so the connector's own numbers can be
read against the machine as it is when they are taken: a shared host drifts.

Three levels, each from a fresh SQLite file (WAL, synchronous=NORMAL), the same pages:

- ``minimal``: decode (numbers as Decimal), map the invoice header to a tuple (amounts in minor units),
  upsert one row per invoice: DESIGN.md's row.
- ``lines``: the same, plus each invoice's 3 lines as rows.
- ``stored``: the same, plus what the connector must also keep per record (DESIGN.md "Canonical store"):
  a link row with payload hash and the raw payload text.
- ``payments``: the same, plus a projection hash per invoice (the repr of its row, hashed) and each paid
  invoice's payment as a row with its own link and raw payload, as the FactuurSturen pull derives them.

Still far less than the connector does: no declarative mapping, clients, open-invoice tracking, sweep,
identity matching, quarantine or run rows.

    python bench/minimal_pipeline.py                      # 100,000 invoices
    python bench/minimal_pipeline.py --invoices 20000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from _common import start_sandbox

_CENT = Decimal("0.01")
_SCHEMA = """
CREATE TABLE invoice (id INTEGER PRIMARY KEY, remote_id TEXT UNIQUE, number TEXT, client TEXT, issued_on TEXT,
  due_on TEXT, total_minor INTEGER, tax_minor INTEGER, open_minor INTEGER, status TEXT);
CREATE TABLE line (id INTEGER PRIMARY KEY, invoice_id INTEGER REFERENCES invoice(id), position INTEGER,
  description TEXT, quantity TEXT, price TEXT, vat_rate TEXT, total_minor INTEGER);
CREATE INDEX ix_line_invoice ON line (invoice_id);
CREATE TABLE link (id INTEGER PRIMARY KEY, remote_id TEXT UNIQUE, entity_id INTEGER, payload_hash TEXT);
CREATE TABLE raw (link_id INTEGER PRIMARY KEY, payload TEXT);
CREATE TABLE payment (id INTEGER PRIMARY KEY, invoice_id INTEGER REFERENCES invoice(id), amount_minor INTEGER,
  paid_on TEXT);
CREATE INDEX ix_payment_invoice ON payment (invoice_id);
"""
_UPSERT = (
    "INSERT INTO invoice (remote_id, number, client, issued_on, due_on, total_minor, tax_minor, open_minor, status)"
    " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (remote_id) DO UPDATE SET number=excluded.number,"
    " total_minor=excluded.total_minor, open_minor=excluded.open_minor, status=excluded.status"
)


def _minor(text: str) -> int:
    return int((Decimal(text) * 100).to_integral_value())


def _header(inv: dict[str, Any]) -> tuple[Any, ...]:
    return (
        inv["id"], inv["invoicenr_full"], inv["clientnr"], inv.get("sent") or None, inv.get("duedate") or None,
        _minor(inv["totalintax"]), _minor(inv["tax"]), _minor(inv["open"]),
        "paid" if inv["open"] == "0.00" else "sent",
    )


def _lines(inv: dict[str, Any]) -> list[tuple[Any, ...]]:
    lines = inv["lines"] or {}
    return [
        (n, line["description"], str(line["amount"]), str(line["price"]), str(line["tax_rate"]),
         int((Decimal(str(line["linetotal"])) * 100).quantize(Decimal(1))))
        for n, line in enumerate(lines.values(), 1)
    ]


def _elements(decoder: json.JSONDecoder, body: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Decode a JSON array of objects, keeping each element's source text (the raw payload, as the connector
    keeps it: no re-encoding)."""
    values, texts, i = [], [], body.index("[") + 1
    while body[i] != "]":
        value, end = decoder.raw_decode(body, i)
        values.append(value)
        texts.append(body[i:end])
        i = end + 1 if body[end] == "," else end
    return values, texts


def _payments(db: sqlite3.Connection, page: list[dict[str, Any]], ids: dict[str, int]) -> None:
    """Projection hashes, and one payment (row, link, raw payload) per paid invoice."""
    for inv in page:
        hashlib.blake2b(repr((_header(inv), _lines(inv))).encode(), digest_size=16).hexdigest()
    paid = [inv for inv in page if inv.get("paiddate")]
    first = db.execute("SELECT coalesce(max(id), 0) + 1 FROM payment").fetchone()[0]
    rows = [(first + n, ids[inv["id"]], _minor(inv["totalintax"]) - _minor(inv["open"]), inv["paiddate"])
            for n, inv in enumerate(paid)]
    db.executemany("INSERT INTO payment (id, invoice_id, amount_minor, paid_on) VALUES (?,?,?,?)", rows)
    texts = [json.dumps({"invoice": inv["id"], "amount": inv["totalintax"], "date": inv["paiddate"]}) for inv in paid]
    link = db.execute("SELECT coalesce(max(id), 0) + 1 FROM link").fetchone()[0]
    db.executemany(
        "INSERT INTO link (id, remote_id, entity_id, payload_hash) VALUES (?,?,?,?)",
        [(link + n, f"{inv['id']}:paid", row[0], hashlib.blake2b(text.encode(), digest_size=16).hexdigest())
         for n, (inv, row, text) in enumerate(zip(paid, rows, texts, strict=True))],
    )
    db.executemany("INSERT INTO raw (link_id, payload) VALUES (?,?)", [(link + n, t) for n, t in enumerate(texts)])


def run(base_url: str, auth: tuple[str, str], invoices: int, level: str) -> float:
    """One pass at `level`; returns seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "minimal.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        decoder = json.JSONDecoder(parse_float=Decimal)
        started = time.perf_counter()
        with httpx.Client(base_url=base_url, auth=auth, headers={"Accept": "application/json"}, timeout=60) as client:
            for start in range(0, invoices, 500):
                body = client.get("/invoices", params={"start": start, "count": 500}).text
                page, texts = _elements(decoder, body)
                db.execute("BEGIN IMMEDIATE")
                db.executemany(_UPSERT, [_header(inv) for inv in page])
                if level != "minimal":
                    ids = dict(db.execute(
                        f"SELECT remote_id, id FROM invoice WHERE remote_id IN ({','.join('?' * len(page))})",
                        [inv["id"] for inv in page],
                    ).fetchall())
                    db.executemany(
                        "INSERT INTO line (invoice_id, position, description, quantity, price, vat_rate, total_minor)"
                        " VALUES (?,?,?,?,?,?,?)",
                        [(ids[inv["id"]], *line) for inv in page for line in _lines(inv)],
                    )
                if level in ("stored", "payments"):
                    first = db.execute("SELECT coalesce(max(id), 0) + 1 FROM link").fetchone()[0]
                    db.executemany(
                        "INSERT INTO link (id, remote_id, entity_id, payload_hash) VALUES (?,?,?,?)",
                        [(first + n, inv["id"], ids[inv["id"]],
                          hashlib.blake2b(text.encode(), digest_size=16).hexdigest())
                         for n, (inv, text) in enumerate(zip(page, texts, strict=True))],
                    )
                    db.executemany("INSERT INTO raw (link_id, payload) VALUES (?,?)",
                                   [(first + n, text) for n, text in enumerate(texts)])
                if level == "payments":
                    _payments(db, page, ids)
                db.execute("COMMIT")
        seconds = time.perf_counter() - started
        db.close()
    return seconds


def main() -> None:
    """Seed the sandbox once, run each level, print invoices/s."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000, help="seeded invoices (default 100,000)")
    args = parser.parse_args()
    proc, info = start_sandbox("factuursturen", args.invoices, max(1, args.invoices // 10), "--no-rate-limit")
    try:
        for level in ("minimal", "lines", "stored", "payments"):
            seconds = run(info["base_url"], (info["username"], info["api_key"]), args.invoices, level)
            rate = args.invoices / seconds
            print(f"{level:>8}: {args.invoices:,} invoices in {seconds:.1f}s = {rate:,.0f} invoices/s")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
