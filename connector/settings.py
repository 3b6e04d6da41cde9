"""Settings: `CONNECTOR_*` environment variables plus a TOML connections file; secrets by reference only.

Built once by the composition root (`connector.app`) and passed down; there is no module-level instance.
"""

from __future__ import annotations

import os
import socket
import tomllib
from datetime import UTC
from pathlib import Path
from typing import Any, Literal

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connector.domain import ENTITY_KINDS
from connector.errors import ConfigError, ConfigErrors

__all__ = ["Connection", "Settings", "load_connections", "resolve_secret"]

_REPO_ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_MAPPINGS = _REPO_ROOT / "mappings"


class Connection(BaseModel):
    """One configured account at one service."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Connection name (the table key in the connections file).")
    provider: str = Field(description="Provider id of an installed provider (an unknown one is refused with the list).")
    base_url: str = Field(description="API root of the service (see config/connections.example.toml).")
    username: str | None = Field(default=None, description="Account user name (HTTP Basic services).")
    api_key_env: str | None = Field(default=None, description="Name of the environment variable holding the key.")
    api_key_file: Path | None = Field(default=None, description="Path of a file holding the key (Docker secret).")
    sandbox: bool = Field(default=False, description="Talking to a local sandbox: allows plain http://.")
    enabled: bool = Field(default=True, description="Disabled connections are skipped by run and sync.")
    streams: list[str] | None = Field(default=None, description="Streams to pull; default: the provider's.")
    page_size: int = Field(default=500, ge=1, le=10_000, description="Records per list request.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of each socket wait of a request.")
    request_deadline_seconds: float | None = Field(
        default=None, gt=0, description="One request in all (connect, headers, body); default 4 x timeout_seconds."
    )
    max_body_mib: int = Field(default=64, ge=1, description="Largest response body accepted (decoded), in MiB.")
    max_attempts: int = Field(default=5, ge=1, le=20, description="Attempts for a retryable request.")
    rate_limit: int | None = Field(default=None, ge=1, description="Requests per window (default: provider's).")
    rate_window_seconds: float | None = Field(default=None, gt=0, description="Rate window length in seconds.")
    rate_reserve: int = Field(default=0, ge=0, description="Requests per window left unused for other tools.")
    lookback_days: int = Field(default=2, ge=0, description="Overlap of incremental windows, in days.")
    safety_lag_seconds: int = Field(default=120, ge=0, description="Window upper bound = service clock - lag.")
    ca_bundle: Path | None = Field(default=None, description="CA bundle to verify the service's TLS certificate.")
    options: dict[str, Any] = Field(default_factory=dict, description="Provider-specific options.")
    receives: list[Literal["client", "invoice", "payment"]] = Field(
        default_factory=list, description="Entity kinds pushed to this connection (routing); none by default."
    )
    source_of_truth: list[str] = Field(
        default_factory=list,
        description="Kinds ('client') or fields ('client.email') this connection is authoritative for.",
    )
    conflict_policy: dict[Literal["client", "invoice", "payment"], Literal["source_of_truth", "newest_wins"]] = Field(
        default_factory=dict, description="Per kind: who wins when both sides changed (default newest_wins)."
    )
    push_max_attempts: int = Field(default=8, ge=1, le=100, description="Attempts of one outbox row before failed.")
    pull_interval_seconds: float = Field(default=300.0, ge=1, description="`connector run`: seconds between pulls.")
    stream_intervals: dict[str, float] = Field(
        default_factory=dict, description="`connector run`: per-stream pull intervals overriding pull_interval_seconds."
    )
    push_interval_seconds: float = Field(default=60.0, ge=1, description="`connector run`: seconds between pushes.")
    sweep_cron: str | None = Field(
        default="30 3 * * *", description="`connector run`: crontab (UTC) of the deletion sweep; empty: no sweep."
    )
    jitter_seconds: float | None = Field(
        default=None, ge=0, description="`connector run`: random delay added to each run; default 10% of the interval."
    )
    refetch_per_run: int = Field(
        default=25, ge=0, description="Quarantined records read again by id after each incremental run (0: none)."
    )
    audit_interval_seconds: float = Field(
        default=86400.0, ge=0, description="`connector run`: seconds between gap audits (0: no audit job)."
    )
    audit_max_fetch: int = Field(
        default=500, ge=0, description="Missing records one gap audit reads back by id (the rest: the next audit)."
    )

    @field_validator("base_url")
    @classmethod
    def _url_has_scheme(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a sandbox)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _plain_http_only_for_sandboxes(self) -> Connection:
        if self.base_url.startswith("http://") and not self.sandbox:
            raise ValueError("base_url: plain http:// is refused; use https:// or set sandbox = true")
        if self.api_key_env and self.api_key_file:
            raise ValueError("api_key_env and api_key_file: give one, not both")
        if self.sweep_cron:
            _check_crontab(self.sweep_cron)
        for stream, seconds in self.stream_intervals.items():
            if seconds < 1:
                raise ValueError(f"stream_intervals.{stream}: must be at least 1 second")
        for item in self.source_of_truth:
            kind, _, field = item.partition(".")
            if kind not in ENTITY_KINDS or (field and not field.isidentifier()):
                raise ValueError(f"source_of_truth: {item!r} is not 'kind' or 'kind.field' (client, invoice, payment)")
        return self


class Settings(BaseSettings):
    """Process-wide settings from `CONNECTOR_*` variables."""

    model_config = SettingsConfigDict(env_prefix="CONNECTOR_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///data/connector.db", description="SQLAlchemy URL; SQLite file by default."
    )
    connections_file: Path = Field(
        default=Path("config/connections.toml"), description="TOML file listing the connections."
    )
    mappings_base_dir: Path = Field(default=_DEFAULT_MAPPINGS, description="Shipped mapping files.")
    mappings_dir: Path | None = Field(default=None, description="User mapping overrides, per provider file.")
    log_level: str = Field(default="INFO", description="Python log level name.")
    log_format: Literal["kv", "json"] = Field(default="kv", description="key=value or JSON lines.")
    metrics_host: str = Field(default="127.0.0.1", description="`connector run`: address of /metrics, /healthz.")
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="`connector run`: port (0: any free one).")
    heartbeat_seconds: float = Field(default=5.0, gt=0, description="How often the scheduler ticks its heartbeat.")
    health_max_age_seconds: float = Field(
        default=60.0, gt=0, description="/healthz answers 503 when the last heartbeat is older than this."
    )
    shutdown_grace_seconds: float = Field(
        default=30.0, gt=0, description="On SIGTERM: how long running jobs get to commit the page in hand."
    )
    lease_ttl_seconds: float = Field(
        default=30.0, ge=3, description="A connection's lease expires this long after its last renewal."
    )
    replica_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        max_length=200,
        description="This replica's name in the lease table (default host-pid).",
    )
    workers: int = Field(
        default=8,
        ge=1,
        le=256,
        description="`connector run`: size of the job pool, fixed whatever the number of connections; jobs due "
        "while every worker is busy wait (connector_job_queue_delay_seconds).",
    )


def _check_crontab(expression: str) -> None:
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"sweep_cron: {expression!r} is not a 5-field crontab (minute hour day month weekday)")
    try:
        CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as exc:
        raise ValueError(f"sweep_cron: {expression!r}: {exc}") from None


def resolve_secret(conn: Connection) -> SecretStr | None:
    """Read the connection's API key from its reference.

    ``api_key_env = "X"`` reads the variable X or, when X is unset, the file named by ``X_FILE`` (the convention
    of container images: a Docker or Kubernetes secret mounted as a file, e.g. ``X_FILE=/run/secrets/x``).

    Raises:
        ConfigError: the referenced variable or file is missing or empty; names the connection and key.
    """
    where = f"connection '{conn.name}'"
    if conn.api_key_env:
        value = os.environ.get(conn.api_key_env)
        if not value and os.environ.get(f"{conn.api_key_env}_FILE"):
            return _secret_file(where, f"{conn.api_key_env}_FILE", Path(os.environ[f"{conn.api_key_env}_FILE"]))
        if not value:
            raise ConfigError(
                where, "api_key_env",
                f"environment variable {conn.api_key_env} is not set (nor {conn.api_key_env}_FILE naming a file "
                "holding it)",
            )
        return SecretStr(value.strip())
    if conn.api_key_file:
        return _secret_file(where, "api_key_file", conn.api_key_file)
    return None


def _secret_file(where: str, key: str, path: Path) -> SecretStr:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(where, key, f"cannot read {path}: {exc.strerror}") from None
    if not value:
        raise ConfigError(where, key, f"{path} is empty")
    return SecretStr(value)


def load_connections(path: Path) -> list[Connection]:
    """Parse and validate the connections file.

    Raises:
        ConfigError: the file is missing, is not TOML, or a connection is invalid (names connection and key).
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "", "connections file not found (see config/connections.example.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None
    unknown = set(document) - {"connections"}
    if unknown:
        raise ConfigError(str(path), sorted(unknown)[0], "unknown top-level key; expected [connections.<name>]")
    tables = document.get("connections", {})
    if not isinstance(tables, dict):
        raise ConfigError(str(path), "connections", "must be a table of [connections.<name>] tables")
    result = []
    problems: list[ConfigError] = []  # every problem of the file at once, not one per run
    for name, body in tables.items():
        if not isinstance(body, dict):
            problems.append(ConfigError(str(path), f"connections.{name}", "must be a table"))
            continue
        try:
            result.append(Connection(name=name, **body))
        except ValidationError as exc:
            for error in exc.errors():
                key = ".".join(str(p) for p in error["loc"]) or "<connection>"
                problems.append(ConfigError(f"{path}: connection '{name}'", key, error["msg"]))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigErrors(problems)
    return result
