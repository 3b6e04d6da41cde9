"""`connector backfill` as a command: usage errors, exit codes, SIGTERM, a failing service, progress lines."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from connector.cli import main
from connector.store.db import make_engine
from tests.backfill.harness import backfill_runs, cursor, sandbox_today, seed_three_years
from tests.daemon.harness import wait_for
from tests.support import REPO, FsSandbox, make_app, run_cli

INVOICES = "/api/v1/invoices"


def _env(tmp_path: Path, fs: FsSandbox, *, migrate: bool = True, **overrides: object) -> dict[str, str]:
    conf = fs.connections_toml(tmp_path / "connections.toml", **{"page_size": 20, **overrides})
    env = {"CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}", "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    if migrate:
        make_app(env["CONNECTOR_DATABASE_URL"])
    return env


def test_help_explains_windows_resuming_and_exit_codes() -> None:
    result = run_cli("backfill", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for needle in ("--since", "--until", "--window", "--stream", "--restart", "30d", "rate budget",
                   "the window it was in", "4 interrupted", "2 bad usage", "backfill:<stream>"):
        assert needle in text, needle
    assert "4 interrupted" in " ".join(run_cli("--help").stdout.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2023-01-01", "--window", "3x"], "unit h, d or w"),
        (["--since", "2023-01-01", "--window", "0d"], "unit h, d or w"),
        (["--since", "last year"], "YYYY-MM-DD"),
        (["--since", "2023-01-01", "--until", "2023-13-40"], "YYYY-MM-DD"),
        (["--until", "2023-01-01"], "--since"),
    ],
    ids=["bad-unit", "zero", "bad-since", "bad-until", "no-since"],
)
def test_bad_arguments_are_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["backfill", "--connection", "fs", *args])  # argparse refuses before anything runs
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_exit_codes_of_configuration_problems(tmp_path: Path, fs: FsSandbox) -> None:
    env = _env(tmp_path, fs, migrate=False)
    since = ["--since", "2024-01-01"]
    not_migrated = run_cli("backfill", "--connection", "fs", *since, env=env)
    assert not_migrated.returncode == 3 and "connector db upgrade" in not_migrated.stderr
    assert run_cli("db", "upgrade", env=env).returncode == 0
    unknown = run_cli("backfill", "--connection", "nope", *since, env=env)
    assert unknown.returncode == 2 and "known: fs" in unknown.stderr
    clients = run_cli("backfill", "--connection", "fs", *since, "--stream", "clients", env=env)
    assert clients.returncode == 2 and "windowed streams: ['invoices']" in clients.stderr
    backwards = run_cli("backfill", "--connection", "fs", *since, "--until", "2023-01-01", env=env)
    assert backwards.returncode == 2 and "--until: must be after --since" in backwards.stderr


def test_sigterm_commits_the_page_in_hand_exits_4_and_the_same_command_resumes_after_it(
    tmp_path: Path, fs: FsSandbox
) -> None:
    first, today = seed_three_years(fs, invoices=600, clients=60)
    env = _env(tmp_path, fs)
    command = ["backfill", "--connection", "fs", "--since", first.isoformat(), "--until", today.isoformat()]
    # The sandbox holds the 15th invoices request until the test lets go (clearing the faults); SIGTERM
    # arrives while it is held, however slowly the machine runs.
    fs.faults({"kind": "slow", "seconds": 600, "path_prefix": INVOICES, "after": 14, "times": 1})
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", *command], cwd=REPO, env={**os.environ, **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for(lambda: proc.poll() is None and fs.control.get("/faults").json()["rules"][0]["fired"], 60,
                 "the held request")
        proc.send_signal(signal.SIGTERM)
        fs.control.delete("/faults").raise_for_status()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 4, err
    assert "interrupted (SIGTERM received)" in err and "the same command resumes" in err
    assert "backfill fs: interrupted," in out
    held = [parse_qs(r["query"]) for r in fs.requests() if r["path"] == INVOICES][-1]

    engine = make_engine(env["CONNECTOR_DATABASE_URL"])
    state = cursor(engine, "fs", "backfill:invoices")
    assert state["progress"], "the page in hand was committed with its checkpoint"
    assert backfill_runs(engine, "fs")[-1]["status"] == "interrupted"

    # Another plan is refused while this one is in progress (exit 2), naming it and --restart.
    other = run_cli(*command[:-2], "--until", "2030-01-01", env=env)
    assert other.returncode == 2
    assert f"--since {first.isoformat()}T00:00:00+00:00" in other.stderr and "--restart" in other.stderr

    # The same command resumes after the committed page: same window, a later offset.
    fs.faults()
    fs.clear_requests()
    again = run_cli(*command, env=env)
    assert again.returncode == 0, again.stderr
    assert "resumed invoices at window" in again.stdout and "from its last committed page" in again.stdout
    resumed = next(parse_qs(r["query"]) for r in fs.requests() if r["path"] == INVOICES)
    assert resumed["since"] == held["since"] and int(resumed["start"][0]) > int(held["start"][0])
    engine.dispose()


def test_a_failing_service_exits_1_with_the_report_and_the_same_command_resumes(tmp_path: Path, fs: FsSandbox) -> None:
    first, today = seed_three_years(fs, invoices=300, clients=40)
    env = _env(tmp_path, fs, max_attempts=2)
    command = ["backfill", "--connection", "fs", "--since", first.isoformat(), "--until", today.isoformat()]
    fs.faults({"kind": "status", "status": 503, "path_prefix": INVOICES, "after": 10, "times": None})
    failed = run_cli(*command, env=env)
    assert failed.returncode == 1
    assert "backfill fs: failed," in failed.stdout and "the same command resumes" in failed.stderr
    assert "503" in failed.stderr or "unavailable" in failed.stderr.lower()
    fs.faults()
    again = run_cli(*command, env=env)
    assert again.returncode == 0, again.stderr
    assert re.search(r"backfill fs: ok, (\d+) of \1 windows done", again.stdout)


def test_progress_is_one_event_per_window_off_a_terminal_with_an_eta(tmp_path: Path, fs: FsSandbox) -> None:
    today = sandbox_today(fs)
    seed_three_years(fs, invoices=200, clients=20)
    env = {**_env(tmp_path, fs), "CONNECTOR_LOG_FORMAT": "json"}
    result = run_cli("backfill", "--connection", "fs", "--since", "2024-01-01", "--until", today.isoformat(),
                     "--window", "2w", env=env)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines()]
    windows = [e for e in events if e["event"] == "backfill window"]
    total = int(re.search(r"of (\d+) windows done", result.stdout).group(1))  # type: ignore[union-attr]
    assert [e["window"] for e in windows] == list(range(1, total + 1))
    assert all(e["windows"] == total and "eta_seconds" in e and isinstance(e["requests"], int) for e in windows)
    assert windows[-1]["windows_done"] == total and windows[-1]["eta_seconds"] == 0
    assert "in 2w windows" in result.stdout and "run rows: one per window" in result.stdout
