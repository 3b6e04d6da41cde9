"""The oracle sees each known data-loss defect: one deterministic trial per defect, judged like every chaos trial.

Each failed on the code this suite was written against (issue 11's findings) and passes since its fix.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from tests.chaos.oracle import cents
from tests.chaos.pull import CONNECTION, connections_file, judge, rerun_and_judge
from tests.chaos.push import push_until_settled
from tests.chaos.runner import Cli
from tests.chaos.services import Service, wait_until


def _cli(service: Service, tmp_path: Path, **settings: object) -> Cli:
    cli = Cli(f"sqlite:///{tmp_path / 'store.db'}", connections_file(tmp_path / "c.toml", service, **settings),
              {service.key_env: service.secret})
    assert cli.run("db", "upgrade").returncode == 0
    return cli


def _seed_fs(fs: Service, days: int, invoices: int) -> None:
    fs.reset()
    end = date.fromisoformat(fs.today()) - timedelta(days=1)
    fs.seed(seed=5, clients=20, invoices=invoices, start_date=(end - timedelta(days=days)).isoformat(),
            end_date=end.isoformat())


def _assert_converges(service: Service, cli: Cli) -> None:
    """The promised rerun leaves the store matching the truth."""
    findings, verdict, code, _ = rerun_and_judge(service, cli)
    assert verdict == "ok", f"{verdict} (exit {code}): {findings.describe()}\n  {_steps(cli)}"


def _steps(cli: Cli) -> str:
    return "\n  ".join(cli.steps)


def test_a_payment_dropped_after_factuursturen_committed_it_is_booked_once(services: dict[str, Service],
                                                                          tmp_path: Path) -> None:
    source, target = services["source"], services["factuursturen"]
    source.reset()
    target.reset()
    client = source.act("create_client", company="Bakkerij De Korf", email="info@dekorf.nl")
    invoice = source.act("create_invoice", clientnr=client["clientnr"],
                         lines=[{"amount": 1, "description": "Advies", "tax_rate": 21, "price": "200.00"}])
    source.act("register_payment", invoice=invoice["id"], amount="60.50")
    conf = tmp_path / "c.toml"
    conf.write_text(source.toml("src") + target.toml("dst", receives=["client", "invoice", "payment"],
                                                     max_attempts=1, push_max_attempts=30), encoding="utf-8")
    cli = Cli(f"sqlite:///{tmp_path / 'store.db'}", conf, {source.key_env: source.secret})
    assert cli.run("db", "upgrade").returncode == 0 and cli.run("sync", "--connection", "src").returncode == 0
    target.faults({"kind": "drop_after_commit", "method": "POST", "path_prefix": "/api/v1/invoices_payment",
                   "times": 1})
    push_until_settled(cli)

    booked = Counter(cents(p["amount"]) for p in target.state()["payments"])
    assert booked == Counter({6050: 1}), f"payments at the target: {dict(booked)}\n  {_steps(cli)}"


def test_a_full_payment_of_an_old_open_invoice_after_a_run_cut_between_streams(services: dict[str, Service],
                                                                              tmp_path: Path) -> None:
    fs = services["factuursturen"]
    _seed_fs(fs, days=200, invoices=120)
    cli = _cli(fs, tmp_path)
    # A first load cut between the invoices and the open_invoices streams (what a kill there leaves; the
    # daemon also runs streams as separate jobs).
    assert cli.run("sync", "--connection", CONNECTION, "--stream", "clients", "--stream", "invoices").returncode == 0
    old = date.fromisoformat(fs.today()) - timedelta(days=10)
    victim = next(i for i in fs.state()["invoices"]
                  if Decimal(str(i["open"])) > 0 and date.fromisoformat(i["sent"]) < old)
    fs.act("register_payment", invoice=victim["id"], amount=str(victim["open"]))
    cli.note(f"paid old open invoice {victim['id']} in full")

    _assert_converges(fs, cli)


def test_invoices_deleted_before_a_killed_first_loads_offset_skip_nothing(services: dict[str, Service],
                                                                         tmp_path: Path) -> None:
    fs = services["factuursturen"]
    _seed_fs(fs, days=300, invoices=160)
    cli = _cli(fs, tmp_path)

    def invoice_pages() -> int:
        return sum(1 for r in fs.requests() if r["method"] == "GET" and r["path"] == "/api/v1/invoices")

    killed = cli.kill_when(cli.start("sync", "--connection", CONNECTION), lambda: invoice_pages() >= 5,
                           "at the 5th invoice page request (4 pages committed)")
    assert killed.killed, _steps(cli)
    rng = random.Random(3)
    for invoice in rng.sample(fs.state()["invoices"][:60], 10):
        fs.act("delete_invoice", invoice=invoice["id"])
    cli.note("deleted 10 of the first 60 invoices")

    _assert_converges(fs, cli)


def test_hydra_customer_fields_empty_at_first_read_are_filled_later(services: dict[str, Service],
                                                                   tmp_path: Path) -> None:
    hy = services["hydra"]
    hy.reset()
    hy.seed(seed=4, customers=5, invoices=10)
    bare = hy.act("create_customer", name="Kale Klant B.V.")
    cli = _cli(hy, tmp_path)
    assert cli.run("sync", "--connection", CONNECTION).returncode == 0
    hy.act("edit_customer", id=bare["id"], changes={"email": "kaal@example.nl", "city": "Zwolle", "country": "NL"})
    cli.note(f"filled customer {bare['id']}'s e-mail, city and country")

    _assert_converges(hy, cli)


def test_an_invoice_created_while_fastfaktura_pages_deletes_nothing(services: dict[str, Service],
                                                                    tmp_path: Path) -> None:
    ff = services["fastfaktura"]
    ff.reset()
    ff.seed(seed=6, clients=10, invoices=75)  # three full pages of 25
    cli = _cli(ff, tmp_path)
    assert cli.run("sync", "--connection", CONNECTION).returncode == 0
    ff.faults({"kind": "slow", "seconds": 1.0, "method": "GET", "path_prefix": "/api/v1/invoices", "after": 1,
               "times": 1})
    proc = cli.start("sync", "--connection", CONNECTION)
    assert wait_until(lambda: bool(ff.fault_rules()[0]["fired"]) or proc.poll() is not None, 60)
    client = ff.state()["clients"][0]
    ff.act("create_invoice", client_id=client["id"], send=True)
    cli.note("created an invoice while the second invoice list page was held")
    assert proc.wait(timeout=120) == 0, _steps(cli)
    during = judge(ff, cli)
    assert not during.wrongly_deleted, f"{during.describe()}\n  {_steps(cli)}"
