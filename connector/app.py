"""Composition root: builds stores, providers, mappings and the sync engine from `Settings`.

The only module that imports every layer; everything below it receives what it needs as arguments.
"""

from __future__ import annotations

import copy
import logging
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from connector.clock import Clock, SystemClock
from connector.domain import KIND_ORDER
from connector.errors import ConfigError
from connector.http import (
    ApiKeyHeader,
    BasicAuth,
    BearerToken,
    Classifier,
    HttpConfig,
    HttpSession,
    Pacer,
)
from connector.mapping import Mapper, load_mapping
from connector.observability.events import get_logger
from connector.providers.base import AuthScheme, OptionProblem, Provider, ProviderOptions
from connector.providers.registry import get_provider_class
from connector.settings import Connection, Settings, load_connections, resolve_secret
from connector.stopping import StoppableClock, StopToken
from connector.store.db import ensure_migrated, make_engine
from connector.sync.engine import ConnectionReport, SyncEngine
from connector.sync.pull.gap import AuditReport, audit_kinds, run_audit
from connector.sync.pull.refetch import RefetchPolicy
from connector.sync.pull.stream import PullOptions
from connector.sync.push.run import PlanLine, TargetPush, describe_plan, push_target
from connector.sync.reconcile.conflicts import ConflictPolicy
from connector.sync.references import references_for
from connector.sync.replay import RemapReport, RetryResult, remap, retry_quarantined

__all__ = ["App"]

log = get_logger("connector.push")


def provider_options(conn: Connection) -> ProviderOptions:
    """The connection's `options` read by its provider's options model.

    Raises:
        ConfigError: an unknown provider; an unknown option (naming the valid ones) or an invalid value, naming
            the connection and the option.
    """
    try:
        return get_provider_class(conn.provider).read_options(conn.options)
    except OptionProblem as exc:
        raise ConfigError(f"connection '{conn.name}'", f"options.{exc.option}", exc.problem) from None


def check_push_routes(conn: Connection) -> None:
    """Refuse a push route whose creates could be made twice: a kind the service creates that has neither an
    idempotency key nor a marker look-up (`Capabilities.safe_to_retry`), since a retry after a dropped answer
    could not tell whether the first attempt was committed.

    Raises:
        ConfigError: names the connection, the kind and the provider.
    """
    capabilities = get_provider_class(conn.provider).capabilities
    for kind in conn.receives:
        if not capabilities.safe_to_retry(kind):
            raise ConfigError(
                f"connection '{conn.name}'", "receives",
                f"{conn.provider} has no idempotency key and no marker look-up for a {kind} create, so a retry "
                f"after a lost answer could make it twice; remove {kind!r} from receives",
            )


class App:
    """Everything one process needs, built lazily from one `Settings`."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        connections: list[Connection] | None = None,
        stop: StopToken | None = None,
    ) -> None:
        """Args: settings: process settings. clock: time source (tests pass a fake). connections: given
        directly instead of read from the connections file (the demo does this). stop: the daemon's stop
        flag: pulls and pushes end at their next safe point once it is set, and waits end at once."""
        self.settings = settings
        self.stop = stop
        base: Clock = clock or SystemClock()
        self._base_clock = base
        self.clock: Clock = StoppableClock(base, stop) if stop is not None else base
        for conn in connections or ():
            check_push_routes(conn)
        self._connections = connections
        self._pacers: dict[str, Pacer] = {}
        self._mappings: dict[str, tuple[Any, Mapper]] = {}

    def stopping_with(self, stop: StopToken) -> App:
        """This app under another stop token (a daemon job's own): the same engine, connections and pacers."""
        view = copy.copy(self)
        view.__dict__["engine"] = self.engine  # built here if it was not yet, so the two share one pool
        view.stop = stop
        view.clock = StoppableClock(self._base_clock, stop)
        return view

    @cached_property
    def engine(self) -> Engine:
        """The store's engine (not checked for migrations; see `migrated_engine`)."""
        # a connection per job worker, plus the daemon's own threads (membership, scrapes, heartbeat)
        return make_engine(self.settings.database_url, pool_size=self.settings.workers + 4)

    def migrated_engine(self) -> Engine:
        """The store's engine, after refusing an unmigrated database (`NotMigrated`)."""
        ensure_migrated(self.engine)
        return self.engine

    @property
    def connections(self) -> list[Connection]:
        """Every configured connection (read from the connections file once)."""
        if self._connections is None:
            connections = load_connections(self.settings.connections_file)
            for conn in connections:
                check_push_routes(conn)
            self._connections = connections
        return self._connections

    def connection(self, name: str) -> Connection:
        """Return the connection called `name`.

        Raises:
            ConfigError: no such connection; lists the configured names.
        """
        for conn in self.connections:
            if conn.name == name:
                return conn
        names = ", ".join(c.name for c in self.connections) or "none configured"
        raise ConfigError(str(self.settings.connections_file), name, f"no such connection; known: {names}")

    def mapping(self, provider_id: str) -> Mapper:
        """Load (and validate) the mapping of a provider, with the user's overrides.

        Compiled once per provider and kept while its files stay unchanged (size and modification time): a daemon
        with many connections of one provider would otherwise parse the same YAML for every job.
        """
        base = self.settings.mappings_base_dir
        user = self.settings.mappings_dir
        stamp = (_file_stamp(base / f"{provider_id}.yaml"),
                 _file_stamp(user / f"{provider_id}.yaml") if user is not None else None)
        cached = self._mappings.get(provider_id)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        mapper = load_mapping(provider_id, base, user)
        self._mappings[provider_id] = (stamp, mapper)  # a race only loads it twice: the mapper is immutable
        return mapper

    def provider(self, conn: Connection, *, transport: httpx.BaseTransport | None = None) -> Provider:
        """Build the provider of a connection with its own HTTP session and the connection's shared pacer."""
        cls = get_provider_class(conn.provider)
        options = provider_options(conn)
        secret = resolve_secret(conn)
        secret_value = secret.get_secret_value() if secret else ""
        config = HttpConfig(
            provider=cls.id,
            connection=conn.name,
            base_url=conn.base_url,
            auth=_auth(conn, cls.auth_scheme, secret_value),
            headers=dict(cls.default_headers),
            timeout_seconds=conn.timeout_seconds,
            deadline_seconds=conn.request_deadline_seconds,
            max_body_bytes=conn.max_body_mib * 1024 * 1024,
            max_attempts=conn.max_attempts,
            rate_limit=conn.rate_limit or cls.default_rate_limit,
            rate_window_seconds=conn.rate_window_seconds or cls.default_rate_window_seconds,
            rate_reserve=conn.rate_reserve,
            verify=str(conn.ca_bundle) if conn.ca_bundle else True,
            secrets=tuple(s for s in (secret_value,) if s),
        )
        if conn.name not in self._pacers:
            self._pacers[conn.name] = Pacer(
                self.clock,
                limit=config.rate_limit,
                window_seconds=config.rate_window_seconds,
                reserve=config.rate_reserve,
                name=conn.name,
            )
        session = HttpSession(
            config,
            clock=self.clock,
            pacer=self._pacers[conn.name],
            classifier=Classifier(dict(cls.status_overrides)),
            transport=transport,
        )
        return cls(session, page_size=conn.page_size, options=options)

    def sync(self, name: str, *, streams: list[str] | None = None, full: bool = False) -> ConnectionReport:
        """Pull one connection into the store (refuses an unmigrated database first)."""
        conn = self.connection(name)
        engine = self.migrated_engine()
        mapping = self.mapping(conn.provider)
        provider = self.provider(conn)
        options = self.pull_options(conn)
        try:
            return SyncEngine(engine, self.clock).sync(
                conn.name, provider, mapping, streams=streams or conn.streams, full=full, options=options,
                refetch=self.refetch_policy(conn),
            )
        finally:
            provider.close()

    def audit(self, name: str, *, kind: str | None = None) -> AuditReport:
        """Run the gap audit of one connection (every kind it can list and read by id, or just `kind`).

        Raises:
            ConfigError: the provider cannot audit (it cannot list or read by id), or not that kind.
        """
        conn = self.connection(name)
        engine = self.migrated_engine()
        provider = self.provider(conn)
        try:
            kinds = audit_kinds(provider, kind)
            if not kinds:
                known = audit_kinds(provider)
                raise ConfigError(f"connection '{name}'", "kind", f"cannot audit {kind or 'anything'}; "
                                  f"auditable kinds: {known or 'none'}")
            return run_audit(
                engine, provider, self.mapping(conn.provider), conn.name, self.clock, kinds=kinds,
                max_fetch=conn.audit_max_fetch, policy=self.pull_options(conn).conflicts, stop=self.stop,
            )
        finally:
            provider.close()

    def offline_mapper(self, name: str) -> Any:
        """Connection `name`'s mapping (with the user's overrides) bound to the reference lists its pulls kept, so
        mapping stored payloads again costs no request.

        Raises:
            ConfigError: a reference list the mapping needs was never fetched (a `connector sync` keeps them).
        """
        conn = self.connection(name)
        mapping = self.mapping(conn.provider)
        needed = set(mapping.references_needed)
        refs = references_for(self.migrated_engine(), conn.name, needed, None, self.clock.now())
        if needed - set(refs):
            missing = ", ".join(sorted(needed - set(refs)))
            raise ConfigError(f"connection '{name}'", "references",
                              f"the mapping needs {missing}, which no pull kept yet: run `connector sync` first")
        return mapping.bind(refs)

    def remap(self, name: str, *, kind: str | None = None, dry_run: bool = False) -> RemapReport:
        """Map the payloads last read at connection `name` again with its current mapping (no request); see
        `connector.sync.replay.remap`."""
        conn = self.connection(name)
        mapper = self.offline_mapper(name)
        kinds = [kind] if kind else list(KIND_ORDER)
        return remap(self.migrated_engine(), mapper, conn.name, self.clock, kinds=kinds, dry_run=dry_run,
                     policy=self.pull_options(conn).conflicts, stop=self.stop)

    def retry_quarantined(self, name: str, row_ids: list[int]) -> list[RetryResult]:
        """Map quarantine rows of connection `name` again from their stored payloads (no request); see
        `connector.sync.replay.retry_quarantined`."""
        conn = self.connection(name)
        return retry_quarantined(self.migrated_engine(), self.offline_mapper(name), conn.name, row_ids, self.clock,
                                 policy=self.pull_options(conn).conflicts)

    def refetch_policy(self, conn: Connection) -> RefetchPolicy:
        """How many quarantined records a run of `conn` reads again (its setting, within half the budget left), and
        how many missing ones a gap audit after a short listing reads back."""
        pacer = self.pacer(conn.name)
        budget = (lambda: pacer.remaining) if pacer is not None else None
        return RefetchPolicy(conn.refetch_per_run, budget, audit_max_fetch=conn.audit_max_fetch)

    def pull_options(self, conn: Connection) -> PullOptions:
        """How pulls of `conn` cut windows and settle conflicts; they stop on this app's stop token."""
        return PullOptions(
            lookback=timedelta(days=conn.lookback_days),
            safety_lag=timedelta(seconds=conn.safety_lag_seconds),
            conflicts=ConflictPolicy(
                {str(k): str(v) for k, v in conn.conflict_policy.items()}, frozenset(conn.source_of_truth)
            ),
            stop=self.stop,
        )

    def pacer(self, name: str) -> Pacer | None:
        """The rate budget of connection `name`, once `provider` built it (None before)."""
        return self._pacers.get(name)


    def push_targets(self, name: str | None = None) -> list[Connection]:
        """Connections that receive pushes (`receives` set and enabled), or the named one.

        Raises:
            ConfigError: the named connection is unknown or receives nothing.
        """
        if name is not None:
            conn = self.connection(name)
            if not conn.receives:
                raise ConfigError(f"connection '{name}'", "receives", "receives nothing: set receives = [...]")
            return [conn]
        return [c for c in self.connections if c.enabled and c.receives]

    def outbound_mapper(self, conn: Connection, provider: Provider, *, offline: bool) -> Any | None:
        """The connection's mapping bound for writing; offline (dry run) uses only kept reference lists.

        Returns None when offline and a needed reference list was never fetched.
        """
        mapping = self.mapping(conn.provider)
        needed = set(mapping.references_needed)
        fetch = None if offline else provider.reference_data
        refs = references_for(self.migrated_engine(), conn.name, needed, fetch, self.clock.now())
        if needed - set(refs):
            return None
        return mapping.bind(refs)

    def push(self, name: str | None = None) -> list[TargetPush]:
        """Plan, queue and drain pushes for every receiving connection (or the named one)."""
        engine = self.migrated_engine()
        results = []
        for conn in self.push_targets(name):
            provider = self.provider(conn)
            started = self.clock.monotonic()
            try:
                mapper = self.outbound_mapper(conn, provider, offline=False)
                if mapper is None:
                    raise ConfigError(f"connection '{conn.name}'", "provider", "the service gave no reference lists")
                result = push_target(
                    engine,
                    self.clock,
                    conn.name,
                    list(conn.receives),
                    provider,
                    mapper,
                    max_attempts=conn.push_max_attempts,
                    stop=self.stop,
                )
            finally:
                provider.close()
            results.append(result)
            _log_push(result, self.clock.monotonic() - started)
        return results

    def push_plan(self, name: str | None = None) -> dict[str, list[PlanLine]]:
        """The dry run: what `push` would do, per target, computed from the store alone (no request)."""
        engine = self.migrated_engine()
        plans = {}
        for conn in self.push_targets(name):
            provider = self.provider(conn)
            try:
                mapper = self.outbound_mapper(conn, provider, offline=True)
                plans[conn.name] = describe_plan(engine, conn.name, list(conn.receives), provider, mapper)
            finally:
                provider.close()
        return plans


def _log_push(result: TargetPush, seconds: float) -> None:
    """One event per push job (the rows themselves are DEBUG lines); a warning when a row failed."""
    d = result.drain
    if d is None:
        return
    log.log(
        logging.WARNING if d.failed else logging.INFO,
        "push",
        target=result.target,
        planned=result.planned,
        queued=result.queued,
        done=d.done,
        failed=d.failed,
        unsupported=d.unsupported,
        deferred=d.deferred,
        superseded=d.superseded,
        requests=d.requests,
        seconds=round(seconds, 2),
        **({"first_error": d.errors[0][:300]} if d.errors else {}),
    )


def _file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _auth(conn: Connection, scheme: AuthScheme, secret: str) -> httpx.Auth:
    where = f"connection '{conn.name}'"
    if not secret:
        raise ConfigError(where, "api_key_env", "no API key: set api_key_env or api_key_file")
    if scheme.kind == "basic":
        if not conn.username:
            raise ConfigError(where, "username", f"{conn.provider} uses HTTP Basic: set username")
        return BasicAuth(conn.username, secret)
    if scheme.kind == "header" and scheme.header:
        return ApiKeyHeader(scheme.header, secret)
    if scheme.kind == "bearer":
        return BearerToken(secret)
    raise ConfigError(where, "provider", f"unknown auth scheme {scheme!r}")
