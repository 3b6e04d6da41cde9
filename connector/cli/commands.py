"""What each subcommand does; `run` turns typed errors into messages and exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from pydantic import ValidationError

from connector.app import App, provider_options
from connector.cli.backfill import EXIT_INTERRUPTED
from connector.cli.leased import EXIT_LEASE_HELD, LeaseHeld, leased_app
from connector.cli.progress import progress_of
from connector.domain import RunStatus
from connector.errors import (
    ConfigError,
    ConnectorError,
    Interrupted,
    MappingSpecError,
    NotMigrated,
    ProviderError,
    StoreError,
)
from connector.observability.logging import configure_logging, secrets
from connector.providers.base import Provider
from connector.settings import Connection, Settings, resolve_secret

__all__ = [
    "backfill",
    "check_rate_reserve",
    "config_check",
    "db",
    "demo",
    "mappings_check",
    "run",
    "sandbox",
    "status",
    "sync",
]

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_NOT_MIGRATED = 0, 1, 2, 3


def run(args: argparse.Namespace) -> int:
    """Dispatch to the subcommand and map errors to exit codes (messages on stderr, never a traceback)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        _err(f"configuration error: {settings_problem(exc)}")
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format)
    func: Callable[[App, argparse.Namespace], int] = args.func
    try:
        return func(App(settings), args)
    except NotMigrated as exc:
        _err(str(exc))
        return EXIT_NOT_MIGRATED
    except (ConfigError, MappingSpecError) as exc:
        _err(f"configuration error: {exc}")
        return EXIT_CONFIG
    except LeaseHeld as exc:
        _err(str(exc))
        return EXIT_LEASE_HELD
    except Interrupted as exc:
        _err(f"interrupted ({exc}); what was done so far is committed")
        return EXIT_INTERRUPTED
    except ProviderError as exc:
        _err(f"sync failed: {exc}")
        return EXIT_FAILED
    except (StoreError, ConnectorError) as exc:
        _err(f"error: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


def settings_problem(exc: ValidationError) -> str:
    """One line naming the first `CONNECTOR_*` variable at fault, what it holds wrong and what it takes.

    The value itself is left out: a setting may hold a secret (a database URL with its password).
    """
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error.get("loc") else "?"
    problem = str(error.get("msg", "invalid")).replace("Input should be", "should be")
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"CONNECTOR_{field.upper()}: {problem}{more}"


def _err(message: str) -> None:
    print(f"connector: {secrets_redacted(message)}", file=sys.stderr)


def secrets_redacted(text: str) -> str:
    """Scrub every registered secret from `text`."""
    from connector.http import redact

    return redact(text, secrets.values)


def db(app: App, args: argparse.Namespace) -> int:
    """`connector db upgrade|current`."""
    from connector.store.db import current_revision, head_revision, upgrade

    if args.db_command == "upgrade":
        print(f"database at revision {upgrade(app.engine)} (head {head_revision()})")
    else:
        print(f"database: {current_revision(app.engine) or 'empty'}; code needs: {head_revision()}")
    return EXIT_OK


def config_check(app: App, args: argparse.Namespace) -> int:
    """`connector config check`: every connection valid (its provider's options too), its secret resolvable, its
    mapping loadable."""
    from connector.providers.registry import get_provider_class

    problems: list[str] = []
    for conn in app.connections:
        try:
            check_rate_reserve(conn, get_provider_class(conn.provider))
            provider_options(conn)
            secret = resolve_secret(conn)
            if secret is None:
                raise ConfigError(
                    f"connection '{conn.name}'", "api_key_env", "no credentials: set api_key_env or api_key_file"
                )
            secrets.add(secret.get_secret_value())
            app.mapping(conn.provider)
        except (ConfigError, MappingSpecError) as exc:  # every connection is checked; all problems are shown
            problems.append(str(exc))
            continue
        print(f"ok  {conn.name}: {conn.provider} at {secrets_redacted(conn.base_url)}")  # user-info too
    if problems:
        for problem in problems:
            _err(f"configuration error: {problem}")
        return EXIT_CONFIG
    print(f"{len(app.connections)} connection(s) valid ({app.settings.connections_file})")
    return EXIT_OK


def check_rate_reserve(conn: Connection, provider_class: type[Provider]) -> None:
    """Refuse a `rate_reserve` that leaves nothing of the rate limit (the connection's, else the provider's).

    Raises:
        ConfigError: naming the connection and `rate_reserve`, with the limit it was checked against.
    """
    limit = conn.rate_limit or provider_class.default_rate_limit
    if limit is None or conn.rate_reserve < limit:
        return
    window = conn.rate_window_seconds or provider_class.default_rate_window_seconds
    per = f" per {window:g} s" if window else ""
    source = "rate_limit" if conn.rate_limit else f"{conn.provider}'s default limit"
    raise ConfigError(
        f"connection '{conn.name}'",
        "rate_reserve",
        f"{conn.rate_reserve} leaves nothing of the {limit} requests{per} ({source}); must be below {limit}",
    )


def mappings_check(app: App, args: argparse.Namespace) -> int:
    """`connector mappings check`."""
    from connector.mapping import check_mappings

    for line in check_mappings(app.settings.mappings_base_dir, app.settings.mappings_dir):
        print(line)
    return EXIT_OK


def sync(app: App, args: argparse.Namespace) -> int:
    """`connector sync --connection NAME [--stream S] [--full]`."""
    conn = app.connection(args.connection)
    secret = resolve_secret(conn)
    if secret:
        secrets.add(secret.get_secret_value())
    if not args.stream and not conn.streams and not _has_streams(app, conn):
        receives = ", ".join(conn.receives) or "nothing yet (set receives)"
        print(f"{conn.name}: push-only: {conn.provider} has nothing to pull, so there is nothing to sync; it "
              f"receives {receives}: `connector push --connection {conn.name}` sends them")
        return EXIT_OK
    with leased_app(app, [conn.name], args.wait) as (worker, _guard), progress_of(worker, "sync", [conn.name]):
        report = worker.sync(conn.name, streams=args.stream, full=args.full)
    for stream in report.streams:
        c = stream.counts
        print(
            f"{conn.name}/{stream.stream}: {stream.status} pages={stream.pages} read={c.read} created={c.created} "
            f"updated={c.updated} unchanged={c.unchanged} deleted={c.deleted} quarantined={c.quarantined} "
            f"requests={stream.requests} {stream.seconds:.2f}s"
        )
    if report.refetched is not None:
        r = report.refetched
        print(f"{conn.name}/refetch: quarantined records read again={r.counts.read} resolved={r.resolved} "
              f"still quarantined={r.still_quarantined} requests={r.requests}")
    missing = any(stream.status == RunStatus.GAP for stream in report.streams)  # records the service lists
    return EXIT_FAILED if missing else EXIT_OK


def _has_streams(app: App, conn: Connection) -> bool:
    """Whether the connection's provider has any stream to pull (a push-only service such as Facturalia has none)."""
    provider = app.provider(conn)
    try:
        return bool(provider.streams())
    finally:
        provider.close()


def backfill(app: App, args: argparse.Namespace) -> int:
    """`connector backfill --connection NAME --since D [--until D] [--window 30d] [--stream S] [--restart]`."""
    from connector.cli.backfill import run_backfill

    secret = resolve_secret(app.connection(args.connection))
    if secret:
        secrets.add(secret.get_secret_value())
    return run_backfill(app, args)


def status(app: App, args: argparse.Namespace) -> int:
    """`connector status [--replicas]`."""
    from connector.cli.status import print_replicas, print_status

    if getattr(args, "replicas", False):
        return print_replicas(app, as_json=args.json)
    return print_status(app, as_json=args.json)


def sandbox(app: App, args: argparse.Namespace) -> int:
    """`connector sandbox`."""
    from connector.cli.sandboxes import serve_sandboxes

    return serve_sandboxes(
        args.service, args.port, args.json, args.clients, args.invoices, args.seed, args.quirk, args.list_quirks,
        toml=args.toml, env=args.env, rate_limited=not args.no_rate_limit,
    )


def demo(app: App, args: argparse.Namespace) -> int:
    """`connector demo`."""
    from connector.cli.demo import run_demo

    return run_demo(args.database, clients=args.clients, invoices=args.invoices)
