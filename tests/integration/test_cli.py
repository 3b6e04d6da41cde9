"""The command line: help texts, exit codes, refusal of an unmigrated database, config errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector.store import leases
from connector.store.db import make_engine
from tests.support import FsSandbox, run_cli

COMMANDS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["config", "check"],
    ["mappings", "check"],
    ["sync"],
    ["status"],
    ["runs"],
    ["state", "reset"],
    ["remap"],
    ["quarantine"],
    ["quarantine", "retry"],
    ["sandbox"],
    ["demo"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "connector")
def test_every_command_has_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "usage: connector" in result.stdout and len(result.stdout) > 120


def test_unmigrated_database_is_refused_with_the_command_that_fixes_it(tmp_path: Path, fs: FsSandbox) -> None:
    conf = fs.connections_toml(tmp_path / "c.toml")
    env = {"CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    result = run_cli("sync", "--connection", "fs", env=env)
    assert result.returncode == 3
    assert "connector db upgrade" in result.stderr
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("status", env=env).returncode == 0


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[connections.a]\nprovider = "factuursturen"\nbase_url = "http://x"\n', ["connection 'a'", "plain http://"]),
        (
            '[connections.b]\nprovider = "factuursturen"\nbase_url = "https://x"\npage_size = 0\n',
            ["connection 'b'", "page_size"],
        ),
        (
            '[connections.c]\nprovider = "factuursturen"\nbase_url = "https://x"\nbogus = 1\n',
            ["connection 'c'", "bogus"],
        ),
        ('[connections.d]\nprovider = "nope"\nbase_url = "https://x"\napi_key_env = "X"\n', ["nope", "factuursturen"]),
        (
            '[connections.e]\nprovider = "factuursturen"\nbase_url = "https://x"\nusername = "u"\n'
            'api_key_env = "CONNECTOR_TEST_UNSET_VAR"\n',
            ["connection 'e'", "api_key_env", "CONNECTOR_TEST_UNSET_VAR"],
        ),
        ("not toml [", ["not valid TOML"]),
    ],
    ids=["plain-http", "bad-page-size", "unknown-key", "unknown-provider", "missing-secret", "bad-toml"],
)
def test_config_check_names_the_connection_and_key(tmp_path: Path, toml: str, expected: list[str]) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text(toml)
    result = run_cli("config", "check", env={"CONNECTOR_CONNECTIONS_FILE": str(conf)})
    assert result.returncode == 2
    for text in expected:
        assert text in result.stderr


def test_config_check_accepts_the_example_shape(tmp_path: Path, fs: FsSandbox) -> None:
    conf = fs.connections_toml(tmp_path / "c.toml")
    result = run_cli("config", "check", env={"CONNECTOR_CONNECTIONS_FILE": str(conf)})
    assert result.returncode == 0, result.stderr
    assert "ok  fs" in result.stdout


def test_status_exits_non_zero_when_a_connection_is_failing(tmp_path: Path, fs: FsSandbox) -> None:
    import os

    os.environ["CONNECTOR_TEST_BAD_KEY2"] = "wrong"
    conf = fs.connections_toml(tmp_path / "c.toml", api_key_env="CONNECTOR_TEST_BAD_KEY2")
    env = {"CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("sync", "--connection", "fs", env=env).returncode == 1
    result = run_cli("status", env=env)
    assert result.returncode == 1
    assert "FAILING" in result.stdout


def test_status_names_the_lease_holder_and_the_outbox(tmp_path: Path, fs: FsSandbox) -> None:
    conf = fs.connections_toml(tmp_path / "c.toml")
    url = f"sqlite:///{tmp_path / 's.db'}"
    env = {"CONNECTOR_DATABASE_URL": url, "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    result = run_cli("status", env=env)
    assert "outbox pending=0 failed=0; lease=free" in result.stdout, result.stdout

    engine = make_engine(url)
    expires = leases.claim(engine, "fs", "replica-a", datetime.now(UTC), timedelta(seconds=120))
    engine.dispose()
    assert expires is not None
    result = run_cli("status", "--json", env=env)
    [item] = json.loads(result.stdout)
    assert item["lease"] == {"holder": "replica-a", "expires_at": expires.isoformat()}
    assert item["outbox"] == {"pending": 0, "failed": 0}
    assert f"lease=replica-a until {expires.isoformat()}" in run_cli("status", env=env).stdout


def test_config_check_reports_every_problem_of_the_file_at_once(tmp_path: Path) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text(
        '[connections.one]\nprovider = "factuursturen"\nbase_url = "https://x"\npage_size = "many"\nmax_attempts = -3\n'
        '[connections.two]\nprovider = "hydra"\nbase_url = "https://x"\npull_interval_seconds = "soon"\n'
    )
    result = run_cli("config", "check", env={"CONNECTOR_CONNECTIONS_FILE": str(conf)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    for text in ("connection 'one': page_size", "connection 'one': max_attempts", "connection 'two': pull_interval"):
        assert text in result.stderr, result.stderr
    # a valid file: every connection's own problems (secrets, mappings) are listed too, not only the first
    conf.write_text(
        '[connections.a]\nprovider = "factuursturen"\nbase_url = "https://x"\nusername = "u"\n'
        'api_key_env = "CONNECTOR_TEST_UNSET_A"\n'
        '[connections.b]\nprovider = "hydra"\nbase_url = "https://x"\napi_key_env = "CONNECTOR_TEST_UNSET_B"\n'
    )
    result = run_cli("config", "check", env={"CONNECTOR_CONNECTIONS_FILE": str(conf)})
    assert result.returncode == 2
    assert "CONNECTOR_TEST_UNSET_A" in result.stderr and "CONNECTOR_TEST_UNSET_B" in result.stderr


def test_config_check_names_a_misspelt_provider_option_and_the_valid_ones(tmp_path: Path) -> None:
    """Each provider declares its options (extra="forbid"): a misspelt one is an error naming the connection, the
    option and the valid ones, exit 2; an invalid value names what the option takes; the right spelling passes."""
    conf = tmp_path / "c.toml"
    env = {"CONNECTOR_CONNECTIONS_FILE": str(conf), "CONNECTOR_TEST_FS_KEY": "k"}
    head = '[connections.fs]\nprovider = "factuursturen"\nbase_url = "https://x"\nusername = "u"\n'
    head += 'api_key_env = "CONNECTOR_TEST_FS_KEY"\n'
    conf.write_text(head + 'options = { invoice_acton = "send" }\n')
    result = run_cli("config", "check", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert (
        "connection 'fs': options.invoice_acton: unknown option; valid options: invoice_action, send_method"
        in result.stderr
    ), result.stderr
    conf.write_text(head + 'options = { send_method = "pigeon" }\n')
    result = run_cli("config", "check", env=env)
    assert result.returncode == 2 and "connection 'fs': options.send_method:" in result.stderr, result.stderr
    assert "'mail', 'email' or 'printcenter'" in result.stderr and "'pigeon'" in result.stderr
    conf.write_text(head + 'options = { invoice_action = "send", send_method = "email" }\n')
    result = run_cli("config", "check", env=env)
    assert result.returncode == 0, result.stderr
    # a provider without options names none as valid
    conf.write_text(
        '[connections.hy]\nprovider = "hydra"\nbase_url = "https://x"\napi_key_env = "CONNECTOR_TEST_FS_KEY"\n'
        "options = { page = 1 }\n"
    )
    result = run_cli("config", "check", env=env)
    assert result.returncode == 2
    assert "'hy': options.page: unknown option; valid options: none (hydra takes no options)" in result.stderr
