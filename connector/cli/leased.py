"""One-shot commands hold the leases of the connections they work on, as a `connector run` replica does.

`connector sync`, `push` and `backfill` claim each connection's lease before their first request, renew it in
the background every third of CONNECTOR_LEASE_TTL_SECONDS, and release it when they end, however they end
(SIGTERM and SIGINT stop the work at the next page or row, then release). A lease another live holder has is
refused with `LeaseHeld` (exit 5), or waited for with ``--wait SECONDS``. A lease lost while running (taken
over after this process failed to renew it in time) stops the work at the next page or row, also exit 5.
The holder id and the rule for leases of killed commands are `connector.daemon.leasing`'s.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import FrameType

from sqlalchemy import Engine

from connector.app import App
from connector.clock import Clock
from connector.daemon.leasing import LeaseKeeper, Renewal, cli_holder_id
from connector.errors import ConnectorError, Interrupted
from connector.observability.events import get_logger
from connector.settings import Settings
from connector.stopping import StopToken

__all__ = [
    "EXIT_LEASE_HELD",
    "LEASE_EPILOG",
    "LeaseGuard",
    "LeaseHeld",
    "add_wait_option",
    "cli_holder",
    "hold_leases",
    "leased_app",
    "stop_on_signals",
]

log = get_logger("connector.cli")

EXIT_LEASE_HELD = 5
POLL_SECONDS = 0.5  # how often --wait asks again: a released lease is taken within half a second

LEASE_EPILOG = """leases: the command holds the lease of each connection it works on, as a `connector run` replica
does, so the two never work on one connection at once. Exit 5 when another holder (a replica or another command)
has it: the message names the connection, the holder and until when; nothing was done. --wait SECONDS waits up to
that long for it first. A command's holder id is cli:<hostname>:<pid> (CONNECTOR_REPLICA_ID when set); the lease
is renewed every CONNECTOR_LEASE_TTL_SECONDS/3 and released at the end (also on SIGTERM/SIGINT). A lease left
by a killed command on this host (cli:<this hostname>:<pid>, that pid not alive) is taken over at once; any
other only when it expires. Exit 5 also when the lease was lost while running (stopped after the page or row
in hand)."""


def add_wait_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--wait SECONDS`` (how long to wait for a lease another holder has; default 0: refuse at once)."""

    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not 0 <= value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds, 0 or more")
        return value

    parser.add_argument(
        "--wait",
        type=seconds,
        default=0.0,
        metavar="SECONDS",
        help="when another holder (a `connector run` replica, another command) has a connection's lease, wait up "
        "to this long for it before giving up with exit 5 (default 0: give up at once)",
    )


class LeaseHeld(ConnectorError):
    """A connection's lease is held by another holder (exit 5): refused before any work, or lost during it."""

    def __init__(
        self,
        connection: str,
        holder: str | None,
        until: datetime | None,
        *,
        waited: float = 0.0,
        lost: bool = False,
    ) -> None:
        """Args: connection: whose lease. holder, until: the other holder and its lease's expiry (None when
        unknown). waited: seconds --wait waited. lost: the lease was lost while the command worked."""
        self.connection = connection
        self.holder = holder
        self.until = until
        who = f"held by {holder} until {until.isoformat(timespec='seconds')}" if holder and until else None
        if lost:
            text = (f"connection '{connection}': its lease was lost while working ({who or 'not renewed in time'}); "
                    "stopped after the page or row in hand was committed")
        else:
            after = f" after waiting {waited:g} s" if waited else ""
            text = (f"connection '{connection}' is busy: its lease is {who or 'held by another holder'}{after} "
                    "(a `connector run` replica or another command is working on it); nothing was done: stop "
                    "that holder, or retry with --wait SECONDS")
        super().__init__(text)


def cli_holder(settings: Settings) -> str:
    """The lease holder id of this command: CONNECTOR_REPLICA_ID when set, else ``cli:<hostname>:<pid>``."""
    return settings.replica_id if "replica_id" in settings.model_fields_set else cli_holder_id()


class LeaseGuard:
    """What `hold_leases` yields: the keeper, and the loss (if any) that stopped the work."""

    def __init__(self, keeper: LeaseKeeper, token: StopToken) -> None:
        """Nothing lost yet."""
        self.keeper = keeper
        self.token = token
        self.lost: LeaseHeld | None = None

    def on_lost(self, names: set[str]) -> None:
        """The renewal found `names` no longer held: remember why and stop the work at its next safe point."""
        name = sorted(names)[0]
        try:
            standing = self.keeper.standing(name)
        except Exception:  # the database is away: the loss stands without its new holder
            standing = None
        holder, until = standing if standing and standing[0] != self.keeper.holder else (None, None)
        self.lost = LeaseHeld(name, holder, until, lost=True)
        self.token.stop(str(self.lost))


def _acquire(keeper: LeaseKeeper, clock: Clock, wait: float) -> None:
    """Claim every lease of `keeper`, asking again every POLL_SECONDS for up to `wait` seconds.

    Raises:
        LeaseHeld: one is still held by another holder (the ones claimed are kept; the caller releases them).
        Interrupted: a stop was asked while waiting (the clock's sleep is cut short).
    """
    deadline = clock.monotonic() + wait
    told = False
    while True:
        missing = [name for name in keeper.names if name not in keeper.refresh()]
        if not missing:
            return
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            holder, until = keeper.standing(missing[0]) or (None, None)
            raise LeaseHeld(missing[0], holder, until, waited=wait)
        if not told:
            told = True
            holder, until = keeper.standing(missing[0]) or ("another holder", None)
            log.info("lease busy", lease=missing[0], holder=holder,
                     until=until.isoformat(timespec="seconds") if until else "unknown", waiting_seconds=wait)
        clock.sleep(min(POLL_SECONDS, remaining))


@contextmanager
def hold_leases(
    engine: Engine,
    names: Sequence[str],
    *,
    holder: str,
    ttl: timedelta,
    clock: Clock,
    token: StopToken,
    wait: float = 0.0,
) -> Iterator[LeaseGuard]:
    """Hold the leases `names` while inside: claimed (waiting up to `wait` seconds), renewed every `ttl / 3`,
    released on the way out. A loss sets `token`; the `Interrupted` it causes leaves as the loss's `LeaseHeld`.

    Raises:
        LeaseHeld: a lease is held by another holder (nothing ran), or was lost while running.
    """
    keeper = LeaseKeeper(engine, holder, sorted(set(names)), ttl, clock)
    guard = LeaseGuard(keeper, token)
    try:
        _acquire(keeper, clock, wait)
        renewal = Renewal(keeper, ttl.total_seconds() / 3, guard.on_lost)
        renewal.start()
        try:
            yield guard
        except Interrupted as exc:
            if guard.lost is not None:
                raise guard.lost from exc
            raise
        finally:
            renewal.stop()
    finally:
        keeper.release_all()


@contextmanager
def leased_app(app: App, names: Sequence[str], wait: float = 0.0) -> Iterator[tuple[App, LeaseGuard]]:
    """An `App` that stops on SIGTERM/SIGINT or on a lost lease, holding the leases of `names` while inside.

    Raises:
        NotMigrated: before any lease is claimed.
        LeaseHeld: see `hold_leases`.
    """
    token = StopToken()
    with stop_on_signals(token):
        worker = App(app.settings, clock=app.clock, connections=app.connections, stop=token)
        engine = worker.migrated_engine()
        try:
            ttl = timedelta(seconds=app.settings.lease_ttl_seconds)
            holder = cli_holder(app.settings)
            with hold_leases(engine, names, holder=holder, ttl=ttl, clock=worker.clock, token=token,
                             wait=wait) as guard:
                yield worker, guard
        finally:
            engine.dispose()


@contextmanager
def stop_on_signals(token: StopToken) -> Iterator[StopToken]:
    """While inside, SIGTERM and SIGINT set `token` (the page in hand is committed, then the run stops);
    a second signal acts at once, as the handlers before did. Only the main thread can take signals."""
    if threading.current_thread() is not threading.main_thread():
        yield token
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        token.stop(f"{signal.Signals(signum).name} received")
        restore()

    for sig in previous:
        signal.signal(sig, on_signal)
    try:
        yield token
    finally:
        restore()
