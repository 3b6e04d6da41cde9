"""Seeded push trials: SIGKILL `connector push` at random moments while the target drops answers after it
committed (`drop_after_commit`), push until nothing is pending, then count what the target holds.

The source is a FactuurSturen account a person filled (clients with e-mails, one-line 21 % invoices with
distinct totals, some partial payments), pulled once. The oracle reads the target's truth only: each source
client's e-mail, invoice total and payment amount must be there exactly once (0 duplicates, 0 missing).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.chaos.oracle import cents
from tests.chaos.runner import Cli
from tests.chaos.services import Service

__all__ = ["RECEIVES", "WRITABLE", "PushResult", "push_trial", "target_holds"]

WRITABLE = ("factuursturen", "fastfaktura", "facturalia", "hydra")
RECEIVES = {"factuursturen": ["client", "invoice", "payment"], "fastfaktura": ["client", "invoice"],
            "facturalia": ["invoice"], "hydra": ["client", "invoice", "payment"]}


@dataclass
class PushResult:
    """What the target holds too often (duplicates) or not at all (missing), per kind."""

    target: str
    seed: int
    backend: str
    duplicates: list[str]
    missing: list[str]
    killed: int
    drops: int
    steps: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Exactly once each."""
        return not self.duplicates and not self.missing

    def repro(self) -> str:
        """The command replaying this trial."""
        return f"python bench/chaos.py --push --provider {self.target} --seed {self.seed} --trials 1 " \
               f"--backend {self.backend}"

    def report(self) -> str:
        """Duplicates, missing, the replay command and every step."""
        return (f"push to {self.target} seed={self.seed}: duplicates={self.duplicates[:8]} missing={self.missing[:8]} "
                f"(killed {self.killed}, drops {self.drops})\nreproduce: {self.repro()}\nsteps:\n  "
                + "\n  ".join(self.steps))


def fill_source(source: Service, rng: random.Random, note: Any) -> None:
    """A person's small FactuurSturen account: clients, one-line invoices with distinct totals, payments."""
    source.reset()
    clients = []
    for n in range(rng.randint(2, 4)):
        tag = f"{rng.randrange(10**6):06d}{n}"
        clients.append(source.act("create_client", company=f"Bron Klant {tag}", email=f"bron{tag}@example.nl",
                                  city="Utrecht"))
    prices = rng.sample(range(1000, 90000), rng.randint(3, 7))
    for price in prices:
        invoice = source.act("create_invoice", clientnr=rng.choice(clients)["clientnr"], lines=[
            {"amount": 1, "description": "Advies", "tax_rate": 21, "price": f"{price / 100:.2f}"}])
        if rng.random() < 0.4:
            source.act("register_payment", invoice=invoice["id"], amount=f"{price / 300:.2f}")
    note(f"source: {len(clients)} clients, {len(prices)} invoices (seeded acts)")


def target_holds(target: Service) -> dict[str, Counter[Any]]:
    """The target's records as the oracle counts them: client e-mails, invoice totals, payment amounts."""
    state = target.state()
    name = target.name
    if name == "factuursturen":
        return {"client": Counter(str(c["email"]).lower() for c in state["clients"]),
                "invoice": Counter(cents(i["totalintax"]) for i in state["invoices"]),
                "payment": Counter(cents(p["amount"]) for p in state["payments"])}
    if name == "fastfaktura":
        return {"client": Counter(str(c["email"]).lower() for c in state["clients"]),
                "invoice": Counter(int(i["total_cents"]) for i in state["invoices"]), "payment": Counter()}
    if name == "facturalia":
        return {"client": Counter(), "invoice": Counter(cents(i["response"]["totals"]["incl"])
                                                        for i in state["invoices"]), "payment": Counter()}
    live = [i for i in state["invoices"] if not i["deleted"]]
    return {"client": Counter(str(c["email"]).lower() for c in state["customers"] if not c["deleted"]),
            "invoice": Counter(cents(i["grossAmount"]) for i in live),
            "payment": Counter(cents(t["amount"]) for i in live for t in i["transactions"] if not t["deleted"])}


def _expected(source: Service, receives: list[str]) -> dict[str, Counter[Any]]:
    state = source.state()
    out: dict[str, Counter[Any]] = {"client": Counter(), "invoice": Counter(), "payment": Counter()}
    if "client" in receives:
        out["client"] = Counter(str(c["email"]).lower() for c in state["clients"])
    if "invoice" in receives:
        out["invoice"] = Counter(cents(i["totalintax"]) for i in state["invoices"])
    if "payment" in receives:
        out["payment"] = Counter(cents(p["amount"]) for p in state["payments"])
    return out


def _pending(database_url: str) -> tuple[int, float]:
    """Pending outbox rows and seconds until the earliest may be tried again (plain SQL)."""
    sql = "SELECT count(*), min(next_attempt_at) FROM outbox WHERE status = 'pending'"
    if database_url.startswith("sqlite:///"):
        db: Any = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    else:
        import psycopg

        db = psycopg.connect(database_url)
    try:
        cursor = db.cursor()
        cursor.execute(sql)
        count, earliest = cursor.fetchone()
    finally:
        db.close()
    if not count or earliest is None:
        return int(count or 0), 0.0
    when = earliest if isinstance(earliest, datetime) else datetime.fromisoformat(str(earliest))
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return int(count), max(0.0, (when - datetime.now(UTC)).total_seconds())


def push_until_settled(cli: Cli, rounds: int = 25) -> int:
    """Push until no outbox row is pending, waiting out each backoff; the last exit code."""
    code = 0
    for _ in range(rounds):
        code = cli.run("push", "--connection", "dst", "--wait", "30").returncode
        pending, wait = _pending(cli.database_url)
        if not pending:
            return code
        time.sleep(min(wait, 10.0) + 0.05)
    return code


def push_trial(source: Service, target: Service, seed: int, database_url: str, workdir: Path,
               backend: str = "sqlite") -> PushResult:
    """One seeded push trial from a filled FactuurSturen `source` to an empty `target`."""
    rng = random.Random(f"push:{target.name}:{seed}")
    workdir.mkdir(parents=True, exist_ok=True)
    receives = RECEIVES[target.name]
    conf = workdir / "connections.toml"
    conf.write_text(source.toml("src", rate_limit=1_000_000)
                    + target.toml("dst", receives=receives, rate_limit=1_000_000, max_attempts=1,
                                  push_max_attempts=30), encoding="utf-8")
    cli = Cli(database_url, conf, {source.key_env: source.secret, target.key_env: target.secret})
    fill_source(source, rng, cli.note)
    target.reset()
    if cli.run("db", "upgrade").returncode or cli.run("sync", "--connection", "src").returncode:
        raise RuntimeError("setup failed:\n" + "\n".join(cli.steps))
    drop = {"kind": "drop_after_commit", "method": "POST", "path_prefix": target.api_prefix,
            "every": rng.randint(1, 3), "after": rng.randint(0, 3), "times": rng.randint(1, 6)}
    target.faults(drop)
    cli.note(f"faults {drop}")
    killed = 0
    for _ in range(rng.randint(1, 3)):
        base = target.request_count()
        proc = cli.start("push", "--connection", "dst", "--wait", "30")
        if rng.random() < 0.5:
            n = rng.randint(1, 12)

            def reached(n: int = n, base: int = base) -> bool:
                return target.request_count() - base >= n

            outcome = cli.kill_when(proc, reached,
                                    f"after target request {n}", delay=rng.choice([0.0, rng.uniform(0, 0.03)]))
        else:
            outcome = cli.kill_after(proc, rng.uniform(1.0, 3.0))
        killed += outcome.killed
    push_until_settled(cli)
    drops = sum(int(r["fired"]) for r in target.fault_rules())
    target.faults()
    push_until_settled(cli, rounds=3)
    want, have = _expected(source, receives), target_holds(target)
    duplicates, missing = [], []
    for kind in ("client", "invoice", "payment"):
        for key, n in want[kind].items():
            if have[kind][key] > n:
                duplicates.append(f"{kind} {key} x{have[kind][key]}")
            elif have[kind][key] < n:
                missing.append(f"{kind} {key}")
        duplicates.extend(f"{kind} {key} x{n} (not in the source)" for key, n in have[kind].items()
                          if key not in want[kind])
    return PushResult(target.name, seed, backend, duplicates, missing, killed, drops, cli.steps)
