"""Connections files as VALID/INVALID tables with the messages a user must see."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from connector.errors import ConfigError
from connector.settings import Connection, Settings, load_connections, resolve_secret

REPO_ROOT = Path(__file__).resolve().parents[2]

BASE = 'provider = "factuursturen"\nbase_url = "https://www.factuursturen.nl/api/v1"\nusername = "u"\n'

VALID = [
    ("minimal", f"[connections.a]\n{BASE}api_key_env = 'K'\n"),
    (
        "sandbox-http",
        '[connections.a]\nprovider = "factuursturen"\nbase_url = "http://127.0.0.1:1/api/v1"\n'
        'sandbox = true\napi_key_env = "K"\n',
    ),
    ("key-file", f"[connections.a]\n{BASE}api_key_file = 'KEYFILE'\n"),
]
INVALID = [
    ("plain-http", '[connections.a]\nprovider = "x"\nbase_url = "http://h"\n', "plain http:// is refused"),
    ("no-scheme", '[connections.a]\nprovider = "x"\nbase_url = "h"\n', "must start with https://"),
    ("both-secrets", f"[connections.a]\n{BASE}api_key_env='K'\napi_key_file='f'\n", "give one, not both"),
    ("unknown-key", f"[connections.a]\n{BASE}colour = 'red'\n", "colour"),
    ("bad-type", f"[connections.a]\n{BASE}page_size = 'many'\n", "page_size"),
    ("top-level", "[nonsense]\nx = 1\n", "unknown top-level key"),
    ("not-a-table", "connections = 3\n", "must be a table"),
]


@pytest.mark.parametrize(("name", "text"), VALID, ids=[v[0] for v in VALID])
def test_valid_connections(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / "c.toml"
    (tmp_path / "KEYFILE").write_text("secret\n")
    path.write_text(text.replace("KEYFILE", str(tmp_path / "KEYFILE")))
    (conn,) = load_connections(path)
    assert conn.name == "a"


@pytest.mark.parametrize(("name", "text", "message"), INVALID, ids=[v[0] for v in INVALID])
def test_invalid_connections_name_what_is_wrong(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_connections(path)
    assert message in str(caught.value)


def test_missing_file_points_at_the_example(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"connections\.example\.toml"):
        load_connections(tmp_path / "absent.toml")


def test_secrets_resolve_by_reference_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[connections.a]\n{BASE}api_key_env = 'CONNECTOR_UNIT_KEY'\n")
    (conn,) = load_connections(path)
    monkeypatch.delenv("CONNECTOR_UNIT_KEY", raising=False)
    with pytest.raises(ConfigError, match="connection 'a': api_key_env: environment variable CONNECTOR_UNIT_KEY"):
        resolve_secret(conn)
    monkeypatch.setenv("CONNECTOR_UNIT_KEY", "s3cret")
    secret = resolve_secret(conn)
    assert secret is not None and secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(secret) and "s3cret" not in repr(conn)


def test_an_env_reference_also_reads_the_file_its_FILE_variable_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[connections.a]\n{BASE}api_key_env = 'CONNECTOR_UNIT_KEY'\n")
    (conn,) = load_connections(path)
    monkeypatch.delenv("CONNECTOR_UNIT_KEY", raising=False)
    monkeypatch.setenv("CONNECTOR_UNIT_KEY_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="connection 'a': CONNECTOR_UNIT_KEY_FILE: cannot read"):
        resolve_secret(conn)
    (tmp_path / "key").write_text("from-a-file\n")
    monkeypatch.setenv("CONNECTOR_UNIT_KEY_FILE", str(tmp_path / "key"))
    secret = resolve_secret(conn)
    assert secret is not None and secret.get_secret_value() == "from-a-file"
    monkeypatch.setenv("CONNECTOR_UNIT_KEY", "from-the-variable")  # the variable itself wins
    secret = resolve_secret(conn)
    assert secret is not None and secret.get_secret_value() == "from-the-variable"


def test_the_example_connections_file_is_valid_and_documents_every_option() -> None:
    example = REPO_ROOT / "config" / "connections.example.toml"
    connections = load_connections(example)
    assert [c.name for c in connections] == ["factuursturen_main", "facturalia_books"]
    text = example.read_text(encoding="utf-8")
    documented = [f"{name} =" in text or f".{name}]" in text for name in Connection.model_fields]
    undocumented = [n for n, ok in zip(Connection.model_fields, documented, strict=True) if n != "name" and not ok]
    assert not undocumented, f"options missing from {example.name}: {undocumented}"
    settings = [f"CONNECTOR_{name.upper()}" for name in Settings.model_fields if name != "mappings_base_dir"]
    assert not [s for s in settings if s not in text], "every process setting is listed at the top"


def test_a_bad_sweep_schedule_names_the_key() -> None:
    with pytest.raises(ValidationError, match="sweep_cron"):
        Connection(name="x", provider="factuursturen", base_url="https://x", sweep_cron="every night")
