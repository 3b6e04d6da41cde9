"""`connector sandbox --toml FILE`: the "Using it" path against the sandboxes with no configuration written by hand.

A real `connector sandbox` subprocess writes the connections file; `db upgrade`, `config check`, a `sync` of every
connection and `status` then run as a person would run them, with only CONNECTOR_CONNECTIONS_FILE (read from the
`--env` exports) and a database URL set.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connector.cli.sandboxes import SANDBOXES
from tests.support import REPO, run_cli


@contextmanager
def serving(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`connector sandbox ARGS` in the background until it says it serves; stopped with SIGTERM (a clean exit)."""
    out, err = tmp_path / "sandbox.env", tmp_path / "sandbox.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "connector", "sandbox", *args], cwd=REPO, stdout=stdout,
                                stderr=stderr)
    try:
        deadline = time.monotonic() + 120
        while "Ctrl-C or SIGTERM stops them" not in err.read_text(encoding="utf-8"):
            assert proc.poll() is None, f"connector sandbox exited {proc.returncode}: {err.read_text()}"
            assert time.monotonic() < deadline, "connector sandbox did not start"
            time.sleep(0.1)
        yield proc, out
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, err.read_text(encoding="utf-8")


def _exports(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        assert line.startswith(("export ", "# ")), f"not a shell line: {line!r}"  # stdout can be sourced
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            found[name] = shlex.split(value)[0]
    return found


def test_sandbox_toml_then_upgrade_check_sync_every_connection_and_status(tmp_path: Path) -> None:
    toml = tmp_path / "connections.toml"
    with serving(tmp_path, "--toml", str(toml), "--env", "--no-rate-limit") as (_, out):
        exports = _exports(out)
        assert exports["CONNECTOR_CONNECTIONS_FILE"] == str(toml.resolve())
        env = {"CONNECTOR_CONNECTIONS_FILE": exports["CONNECTOR_CONNECTIONS_FILE"], "CONNECTOR_LOG_FORMAT": "json",
               "CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'connector.db'}"}
        connections = tomllib.loads(toml.read_text(encoding="utf-8"))["connections"]
        assert sorted(connections) == sorted(SANDBOXES)
        for name, conn in connections.items():  # secrets by reference: a key file only its owner reads
            assert "api_key" not in conn and Path(conn["api_key_file"]).stat().st_mode & 0o077 == 0, name
            assert conn["base_url"] == exports[f"CONNECTOR_SANDBOX_{name.upper()}_URL"]

        upgraded = run_cli("db", "upgrade", env=env)
        assert upgraded.returncode == 0, upgraded.stderr
        checked = run_cli("config", "check", env=env)
        assert checked.returncode == 0, checked.stderr
        assert checked.stdout.count("ok  ") == len(SANDBOXES)

        seconds: dict[str, float] = {}
        for name in connections:
            synced = run_cli("sync", "--connection", name, env=env)
            assert synced.returncode == 0, synced.stderr
            events = [json.loads(line) for line in synced.stderr.splitlines()]
            assert not [e for e in events if e["event"] == "rate budget wait"], name  # --no-rate-limit: no pacing
            runs = [e for e in events if e["event"] == "stream run"]
            assert all(e["status"] == "ok" for e in runs), runs
            seconds[name] = sum(e["seconds"] for e in runs)
        # FastFaktura reads each invoice's detail: about 520 requests. At its sandbox's real limit (120 a minute)
        # that is over three minutes; here it must be well under that bound (seconds on an idle machine).
        assert seconds["fastfaktura"] < 120, seconds
        status = run_cli("status", env=env)
        assert status.returncode == 0, status.stdout + status.stderr
        for name in ("factuursturen", "fastfaktura", "hydra"):  # Facturalia only receives: nothing to pull
            assert re.search(rf"^{name} \({name}\): ok; client=100, invoice=500", status.stdout, re.M), status.stdout


def _free_block(size: int) -> int:
    """A first port with `size` free ports after it (checked by binding each)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + size > 65535:
            continue
        try:
            for port in range(first, first + size):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise AssertionError("no block of free ports")


def test_port_gives_each_service_its_own_fixed_offset(tmp_path: Path) -> None:
    first = _free_block(len(SANDBOXES))
    toml = tmp_path / "c.toml"
    with serving(tmp_path, "--service", "hydra", "--service", "fastfaktura", "--port", str(first), "--toml",
                 str(toml), "--clients", "2", "--invoices", "3"):
        connections = tomllib.loads(toml.read_text(encoding="utf-8"))["connections"]
    assert connections["fastfaktura"]["base_url"].startswith(f"http://127.0.0.1:{first + 2}/")
    assert connections["hydra"]["base_url"].startswith(f"http://127.0.0.1:{first + 3}/")
    assert "rate_limit" not in connections["hydra"]  # served with their limits: the provider's budget applies
