"""A person's mistake in a setting: one line naming the setting, exit 2, never a traceback (issue 15 item 6); a
daemon that cannot start holds no lease."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from tests.support import FsSandbox, run_cli


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONNECTOR_LOG_FORMAT", "xml"),
        ("CONNECTOR_METRICS_PORT", "nine"),
        ("CONNECTOR_LEASE_TTL_SECONDS", "-5"),
        ("CONNECTOR_DATABASE_URL", "mysql://app:hunter2@db.example/connector"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(variable: str, value: str, tmp_path: Path) -> None:
    env = {"CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", variable: value}
    done = run_cli("db", "current", env=env)
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


def test_the_short_scheme_spelling_is_accepted(database_url: str) -> None:
    url = database_url.replace("postgresql://", "postgres://", 1)  # SQLite URLs are taken as they are
    done = run_cli("db", "current", env={"CONNECTOR_DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    assert "code needs" in done.stdout


def test_a_busy_metrics_port_is_exit_2_and_the_daemon_holds_no_lease(fs: FsSandbox, tmp_path: Path) -> None:
    database = tmp_path / "c.db"
    env = {
        "CONNECTOR_DATABASE_URL": f"sqlite:///{database}",
        "CONNECTOR_CONNECTIONS_FILE": str(fs.connections_toml(tmp_path / "connections.toml")),
    }
    assert run_cli("db", "upgrade", env=env).returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("run", env={**env, "CONNECTOR_METRICS_PORT": str(port), "CONNECTOR_METRICS_HOST": "127.0.0.1"})
    assert done.returncode == 2, done
    errors = [line for line in done.stderr.splitlines() if "connector:" in line]
    assert len(errors) == 1 and "CONNECTOR_METRICS_PORT" in errors[0] and "Traceback" not in done.stderr
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM lease").fetchone() == (0,)


def test_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("connector ")


@pytest.mark.parametrize(
    ("settings", "limit"),
    [("rate_reserve = 250", "250 requests per 3600 s (factuursturen's default limit)"),
     ("rate_limit = 40\nrate_reserve = 45", "40 requests per 3600 s (rate_limit)")],
    ids=["provider-default", "own-limit"],
)
def test_config_check_refuses_a_rate_reserve_eating_the_rate_limit(
    settings: str, limit: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTOR_TEST_RESERVE_KEY", "k")
    conf = tmp_path / "c.toml"
    conf.write_text(
        '[connections.main]\nprovider = "factuursturen"\nbase_url = "https://x"\nusername = "u"\n'
        f'api_key_env = "CONNECTOR_TEST_RESERVE_KEY"\n{settings}\n'
    )
    done = run_cli("config", "check", env={"CONNECTOR_CONNECTIONS_FILE": str(conf)})
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "connection 'main': rate_reserve:" in lines[0] and limit in lines[0], lines[0]

    conf.write_text(conf.read_text().replace("rate_reserve = 250", "rate_reserve = 249").replace("= 45", "= 39"))
    done = run_cli("config", "check", env={"CONNECTOR_CONNECTIONS_FILE": str(conf)})
    assert done.returncode == 0, done.stderr
