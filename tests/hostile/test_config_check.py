"""`connector config check` never prints a secret written into a base_url's user-info."""

from __future__ import annotations

from pathlib import Path

from tests.support import run_cli

TOML = """
[connections.leaky]
provider = "factuursturen"
base_url = "https://me:hunter2-in-the-url@www.factuursturen.nl/api/v1"
username = "me"
api_key_env = "CONNECTOR_TEST_LEAKY_KEY"
"""


def test_config_check_redacts_the_user_info_of_base_url(tmp_path: Path) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text(TOML)
    env = {"CONNECTOR_CONNECTIONS_FILE": str(conf), "CONNECTOR_TEST_LEAKY_KEY": "the-api-key"}

    result = run_cli("config", "check", env=env)

    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert "ok  leaky: factuursturen at https://***@www.factuursturen.nl/api/v1" in result.stdout
