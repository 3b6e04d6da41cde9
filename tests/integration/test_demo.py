"""`connector demo`, end to end: both parts run on the four sandboxes, every check holds, and the output says
what moved where; and a change that does not arrive makes the two-way part say MISMATCH (it checks the
sandboxes' truth, not the connector's own account)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli.demo_cycle import TwoWayDemo
from connector.cli.sandboxes import SANDBOXES, sandbox_control, start_sandbox
from tests.support import run_cli


def _section(out: str, start: str, end: str) -> str:
    return out[out.index(start) : out.index(end)]


def _row(origin: str, target: str, kind: str, *counts: int) -> re.Pattern[str]:
    """A row of a moves table: from, to, kind, then created, updated, unsupported, failed."""
    return re.compile(rf"^\s+{origin}\s+{target}\s+{kind}\s+" + r"\s+".join(map(str, counts)) + r"\s*$", re.M)


@pytest.mark.slow
def test_the_demo_pulls_then_cycles_both_ways_and_every_check_holds(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    result = run_cli("demo", "--clients", "30", "--invoices", "120", "--database", str(database))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "MISMATCH" not in out
    assert database.exists() and (tmp_path / "demo-two-way.db").exists()

    pull = _section(out, "four sandboxes", "two-way sync")
    assert "no-change sync: 0 written" in pull
    assert re.search(r"store:\s+30 clients, 121 invoices", pull), "FactuurSturen after the person's new invoice"

    first = _section(out, "cycle 1,", "a person at the services")
    assert re.search(r"from\s+to\s+kind\s+created\s+updated\s+unsupported\s+failed", first)
    assert _row("factuursturen", "hydra", "client", 6, 0, 0, 0).search(first)
    assert _row("fastfaktura", "factuursturen", "client", 6, 0, 0, 0).search(first)
    assert "at facturalia:" in first and "(a VAT rate Belgium does not have)" in first

    second = _section(out, "cycle 2,", "cycle 3,")
    assert _row("fastfaktura", "factuursturen", "client", 0, 1, 0, 0).search(second)
    assert _row("fastfaktura", "hydra", "client", 0, 1, 0, 0).search(second)
    assert _row("hydra", "factuursturen", "payment", 1, 0, 0, 0).search(second)
    assert _row("fastfaktura", "hydra", "payment", 1, 0, 0, 0).search(second)
    assert not re.search(r"^\s+\S+\s+fastfaktura\s+client", second, re.M), "the e-mail does not go back"
    assert re.search(r"factuursturen F\d+: open [1-9][\d.]* -> 0\.00", second)
    for check in ("the e-mail reached FactuurSturen and hydra", "nothing went back to FastFaktura",
                  "FactuurSturen's invoice is paid", "the paid event reached hydra"):
        assert f"ok: {check}" in second

    final = out[out.index("cycle 4,") :]
    assert "push: 0 moves, 0 requests" in final and "nothing moved\n" in final
    assert "ok: nothing moved anywhere in the final cycle" in final
    assert "demo: every check held" in final


@pytest.fixture
def sandboxes() -> Iterator[dict[str, Any]]:
    """The four sandboxes, empty (the demo reseeds them)."""
    running = {name: start_sandbox(name, 0, 0, 0, 42) for name in SANDBOXES}
    yield running
    for sandbox in running.values():
        sandbox.stop()


def test_a_payment_factuursturen_refuses_is_a_mismatch(
    tmp_path: Path, sandboxes: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    demo = TwoWayDemo(sandboxes, tmp_path / "two-way.db")
    demo.reseed()
    demo.cycle(1, "spread")
    acts = demo.act_as_a_person()
    sandbox_control(sandboxes["factuursturen"]).post("/faults", json={"rules": [
        {"kind": "status", "status": 400, "times": None, "method": "POST", "path_prefix": "/api/v1/invoices_payment"}
    ]}).raise_for_status()

    second = demo.cycle(2, "the payment is refused")

    assert not demo.check_acts(acts, second.moves)
    out = capsys.readouterr().out
    assert _row("hydra", "factuursturen", "payment", 0, 0, 0, 1).search(out)
    assert "MISMATCH: FactuurSturen's invoice is paid" in out
    assert "ok: the e-mail reached FactuurSturen and hydra" in out
