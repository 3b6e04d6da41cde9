"""The push reports as a person (or a script) reads them (issue 15 item 7): `push --dry-run --summary` counts
per target, kind and operation, a push that would fail counted as "would fail" with its reason (never as the
create it was planned as); `--json` on the dry run, the summary, `outbox` and `conflicts`; `outbox --connection X`
totals X's rows only; every instant printed with its zone."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from tests.daemon.harness import combine_toml
from tests.fastfaktura.harness import FastFakturaHarness
from tests.hydra.harness import HydraHarness
from tests.support import FsSandbox, run_cli

REASONS = {
    "client.phone: '020-1234567 na 17u' cannot be written in E.164: it contains letters ('nau')",
    "client.phone: '03-1234-5678' cannot be written in E.164: no calling code known for country 'JP'",
}


def _env(tmp_path: Path, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness) -> dict[str, str]:
    conf = combine_toml(
        tmp_path / "connections.toml",
        fs.connections_toml(tmp_path / "fs.toml", "fs"),
        ff.connections_toml(tmp_path / "ff.toml", "ff", receives=["client"]),
        hy.connections_toml(tmp_path / "hy.toml", "hy", receives=["client"]),
    )
    return {**os.environ, "CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
            "CONNECTOR_CONNECTIONS_FILE": str(conf)}


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"{text} has no zone"
    return moment


def test_dry_run_summary_and_json_count_would_fail_apart_and_outbox_totals_are_per_target(
    tmp_path: Path, fs: FsSandbox, ff: FastFakturaHarness, hy: HydraHarness
) -> None:
    fs.act("create_client", company="Bakkerij De Korf", phone="020 123 4567")
    fs.act("create_client", company="Sakura KK", country="Japan", phone="03-1234-5678")  # no calling code known
    fs.act("create_client", company="Garage Piet", phone="020-1234567 na 17u")
    env = _env(tmp_path, fs, ff, hy)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("sync", "--connection", "fs", env=env).returncode == 0

    summary = run_cli("push", "--dry-run", "--summary", env=env)
    assert summary.returncode == 0, summary.stderr
    lines = summary.stdout.splitlines()
    assert "ff: 1 create, 2 would fail (dry run: no service was called)" in lines, summary.stdout
    assert "hy: 3 create (dry run: no service was called)" in lines, summary.stdout
    assert "  would fail (2):" in lines
    assert {tuple(line.split(None, 1)) for line in lines if "E.164" in line} == {("1", r) for r in REASONS}
    assert len(lines) < 12, "a summary, not the plan"

    digest = json.loads(run_cli("push", "--dry-run", "--summary", "--json", env=env).stdout)
    ff_plan = digest["targets"]["ff"]
    assert ff_plan["totals"] == {"create": 1, "would fail": 2} and ff_plan["counts"] == {"client": ff_plan["totals"]}
    assert {r["reason"] for r in ff_plan["reasons"]["would fail"]} == REASONS and "pushes" not in ff_plan
    assert digest["targets"]["hy"]["totals"] == {"create": 3}

    plan = json.loads(run_cli("push", "--dry-run", "--json", "--connection", "ff", env=env).stdout)
    pushes = plan["targets"]["ff"]["pushes"]
    assert sorted(p["operation"] for p in pushes) == ["create", "would fail", "would fail"]
    assert {p["planned"] for p in pushes} == {"create"}
    [good] = [p for p in pushes if p["operation"] == "create"]
    assert good["diff"]["phone"] == {"now": None, "sent": "+31201234567"}, good["diff"]
    text = run_cli("push", "--dry-run", "--connection", "ff", env=env).stdout
    assert text.startswith("ff: 1 create, 2 would fail"), text
    assert ff.requests() == [] and hy.requests() == [], "a dry run calls no service"

    wrong = run_cli("push", "--summary", env=env)
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "--summary" in wrong.stderr, wrong.stderr

    assert run_cli("push", env=env).returncode == 1  # ff's two rows failed
    of_ff = run_cli("outbox", "--connection", "ff", "--json", env=env)
    listing = json.loads(of_ff.stdout)
    assert listing["totals"] == {"done": 1, "failed": 2}, "ff's rows only"
    assert {r["connection"] for r in listing["rows"]} == {"ff"}
    assert {r["last_error"] for r in listing["rows"]} == REASONS
    for row in listing["rows"]:
        assert _aware(row["created_at"]) <= _aware(row["updated_at"])
    assert json.loads(run_cli("outbox", "--connection", "hy", "--all", "--json", env=env).stdout)["totals"] == {
        "done": 3}
    assert "outbox of ff: 1 done, 2 failed" in run_cli("outbox", "--connection", "ff", env=env).stdout
    shown = run_cli("outbox", env=env).stdout.splitlines()[1:]
    assert len(shown) == 2, shown  # the failed rows; done ones only with --all
    for line in shown:
        _aware(line.split("updated=")[1].split()[0])

    conflicts = run_cli("conflicts", "--json", env=env)
    assert conflicts.returncode == 0 and json.loads(conflicts.stdout) == []
