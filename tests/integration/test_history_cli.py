"""The run history and cursor commands as a person uses them (issue 15 item 7): `connector runs [--json]`,
`connector state reset` with its confirmation, `sync` of a push-only connection, `backfill --json`, and every
instant printed with its zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from connector.store import runs
from connector.store.db import make_engine
from tests.support import REPO, FsSandbox, run_cli, seed_until_yesterday

INVOICES = 24


def _run_with_input(args: list[str], env: dict[str, str], answer: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connector", *args], input=answer, capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, **env}, timeout=300, check=False)


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0), f"{text} is not UTC with its zone"
    return moment


def _env(tmp_path: Path, fs: FsSandbox) -> dict[str, str]:
    conf = fs.connections_toml(tmp_path / "c.toml", "fs", page_size=10)
    os.environ["CONNECTOR_TEST_BOOKS_KEY"] = "books-key"
    with conf.open("a", encoding="utf-8") as out:  # push-only: Facturalia has nothing to pull
        out.write('\n[connections.books]\nprovider = "facturalia"\nbase_url = "https://books.invalid/api/v1"\n'
                  'api_key_env = "CONNECTOR_TEST_BOOKS_KEY"\nreceives = ["invoice"]\n'
                  '[connections.books.options]\ndefault_product_code = "CONSULT"\n')
    return {"CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CONNECTOR_CONNECTIONS_FILE": str(conf)}


def test_runs_lists_the_history_and_state_reset_makes_a_stream_start_over(tmp_path: Path, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=30, seed=3, clients=6, invoices=INVOICES)
    env = _env(tmp_path, fs)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("sync", "--connection", "fs", env=env).returncode == 0
    read_first = json.loads(run_cli("runs", "--stream", "invoices", "--json", env=env).stdout)[0]["records_read"]
    assert read_first >= INVOICES

    listing = run_cli("runs", "--connection", "fs", env=env)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("3 run(s) of fs, newest first"), listing.stdout
    for line in listing.stdout.splitlines()[1:]:
        assert " ok " in line and _aware(line.split("started=")[1].split()[0]) <= _aware(
            line.split("finished=")[1].split()[0])
    history = json.loads(run_cli("runs", "--json", env=env).stdout)
    assert {(r["connection"], r["stream"], r["status"]) for r in history} == {
        ("fs", "clients", "ok"), ("fs", "invoices", "ok"), ("fs", "open_invoices", "ok")}
    [invoices_run] = [r for r in history if r["stream"] == "invoices"]
    assert _aware(invoices_run["finished_at"])
    assert invoices_run["window_end"] is not None and _aware(invoices_run["window_end"])
    assert [r["stream"] for r in json.loads(run_cli("runs", "--stream", "clients", "--json", env=env).stdout)] == [
        "clients"]
    status = run_cli("status", "--json", env=env)
    [fs_status] = [item for item in json.loads(status.stdout) if item["connection"] == "fs"]
    assert all(_aware(s["finished_at"]) for s in fs_status["streams"])

    engine = make_engine(env["CONNECTOR_DATABASE_URL"])
    kept = runs.load_cursor(engine, "fs", "invoices")
    assert kept["high_water"]
    refused = _run_with_input(["state", "reset", "--connection", "fs", "--stream", "invoices"], env, "n\n")
    assert refused.returncode == 1 and "Reset it?" in refused.stdout and "not reset" in refused.stdout
    assert f"high_water={kept['high_water']}" in refused.stdout
    assert runs.load_cursor(engine, "fs", "invoices") == kept, "not confirmed: nothing changed"
    nothing = _run_with_input(["state", "reset", "--connection", "fs", "--stream", "invoices"], env, "")
    assert nothing.returncode == 1 and runs.load_cursor(engine, "fs", "invoices") == kept  # no answer is no

    done = _run_with_input(["state", "reset", "--connection", "fs", "--stream", "invoices"], env, "y\n")
    assert done.returncode == 0 and "cursor reset" in done.stdout, done.stdout + done.stderr
    assert runs.load_cursor(engine, "fs", "invoices") == {}
    assert runs.load_cursor(engine, "fs", "clients"), "the other streams keep theirs"

    unknown = run_cli("state", "reset", "--connection", "fs", "--stream", "invoices", "--yes", env=env)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1, unknown.stderr
    assert "--stream" in unknown.stderr and "clients" in unknown.stderr and "Traceback" not in unknown.stderr
    assert run_cli("state", "reset", "--connection", "nope", "--stream", "x", "--yes", env=env).returncode == 2

    again = run_cli("sync", "--connection", "fs", "--stream", "invoices", env=env)
    assert again.returncode == 0, again.stderr
    newest = json.loads(run_cli("runs", "--stream", "invoices", "--limit", "1", "--json", env=env).stdout)
    assert newest[0]["records_read"] == read_first, "after the reset the stream read everything again"
    assert newest[0]["id"] > invoices_run["id"]
    engine.dispose()


def test_sync_of_a_push_only_connection_says_so(tmp_path: Path, fs: FsSandbox) -> None:
    env = _env(tmp_path, fs)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    done = run_cli("sync", "--connection", "books", env=env)
    assert done.returncode == 0, done.stderr
    assert "books: push-only" in done.stdout and "connector push --connection books" in done.stdout
    assert json.loads(run_cli("runs", "--json", env=env).stdout) == [], "no run was recorded"


def test_backfill_json_report(tmp_path: Path, fs: FsSandbox) -> None:
    seed_until_yesterday(fs, days=30, seed=4, clients=4, invoices=INVOICES)
    env = _env(tmp_path, fs)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    today = date.fromisoformat(fs.post("/clock", {})["now"][:10])
    since = (today - timedelta(days=40)).isoformat()
    done = run_cli("backfill", "--connection", "fs", "--since", since, "--window", "2w", "--stream", "invoices",
                   "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "ok" and report["counts"]["created"] >= INVOICES
    window_runs = json.loads(run_cli("runs", "--stream", "backfill:invoices", "--json", env=env).stdout)
    assert len(window_runs) == report["windows_run"] and {r["mode"] for r in window_runs} == {"backfill"}
    for key, column in (("read", "records_read"), ("created", "created"), ("updated", "updated")):
        assert report["counts"][key] == sum(r[column] for r in window_runs), key
    assert report["windows_done"] == report["windows_total"] == report["plans"]["invoices"]["windows"] >= 3
    assert _aware(report["plans"]["invoices"]["since"]) == datetime.fromisoformat(f"{since}T00:00:00+00:00")
    assert report["plans"]["invoices"]["window_seconds"] == 14 * 86400
    assert report["plans"]["invoices"]["run_stream"] == "backfill:invoices"
