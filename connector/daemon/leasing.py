"""Connection leases of one process: `LeaseKeeper` claims, renews and releases them, `Renewal` renews them in the
background and reports a loss, and the rule for leases left by a killed command (`abandoned_cli_holder`).

Both `connector run` (a replica) and the one-shot commands (`sync`, `push`, `backfill`) keep their leases
through a `LeaseKeeper`: whoever holds a connection's lease is the only one working on it.

A one-shot command holds its leases as ``cli:<hostname>:<pid>``. Killed with SIGKILL it cannot release them;
such a lease is taken over at once by any claimant on the same host when no process with that pid is alive
there (a zombie counts as dead). Leases of any other holder are taken over only when they expire. The rule
assumes a hostname names one process namespace (true of hosts and of containers, whose hostname is their id).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from connector.clock import Clock
from connector.observability.events import get_logger
from connector.store import leases

__all__ = ["LeaseKeeper", "Renewal", "abandoned_cli_holder", "cli_holder_id"]

log = get_logger("connector.daemon")


class LeaseKeeper:
    """Keeps the leases of `names` for `holder`: `refresh()` claims free or expired ones and renews held ones.

    A lease is trusted locally only until a margin before its expiry in the database, so a replica whose
    renewals stall stops starting jobs before another replica can take the lease over.

    Args:
        engine: the shared store.
        holder: this replica's id.
        names: the leases to keep (connection names).
        ttl: how long a claim or renewal lasts; renew every `ttl / 3` (the daemon and `Renewal` do).
        clock: time source.
        abandoned: judges another holder gone (its lease is taken over before it expires); default
            `abandoned_cli_holder`.

    A lease this keeper does not hold yet is claimed with `leases.take`: never adopted from another process
    that runs under the same holder id, only when free, expired or abandoned.
    """

    def __init__(
        self,
        engine: Engine,
        holder: str,
        names: Iterable[str],
        ttl: timedelta,
        clock: Clock,
        *,
        abandoned: Callable[[str], bool] | None = None,
    ) -> None:
        """Hold nothing yet; call `refresh()`."""
        self.engine = engine
        self.holder = holder
        self.names = list(names)
        self.ttl = ttl
        self.clock = clock
        self.abandoned = abandoned or abandoned_cli_holder
        self._margin = ttl / 3
        self._held: dict[str, datetime] = {}
        self._lock = threading.Lock()
        # renewals and releases take turns, or a renewal started before a release would extend the released lease
        self._io = threading.Lock()
        self.last_lost: frozenset[str] = frozenset()
        """The leases the last `renew` found taken over by another holder."""

    def refresh(self) -> set[str]:
        """Claim or renew every lease; return the names held now. A database error keeps what is still valid."""
        for name in self.names:
            now = self.clock.now()
            with self._lock:
                renewing = name in self._held
            try:
                if renewing:
                    expires = leases.claim(self.engine, name, self.holder, now, self.ttl)
                else:
                    expires = leases.take(self.engine, name, self.holder, now, self.ttl, abandoned=self._gone)
            except Exception as exc:  # the database is away: keep running what we still validly hold
                log.warning("lease renewal failed", lease=name, error=type(exc).__name__)
                continue
            with self._lock:
                had = name in self._held
                if expires is None:
                    self._held.pop(name, None)
                else:
                    self._held[name] = expires
            if expires is not None and not had:
                log.info("lease acquired", lease=name, holder=self.holder)
            elif expires is None and had:
                log.warning("lease lost", lease=name, holder=self.holder)
        return self.held()

    def renew(self) -> set[str]:
        """Renew every lease held, in one statement; return the names renewed (a lost one is logged and dropped).

        A database error keeps what is still valid (the margin stops jobs before the leases could lapse).
        """
        with self._io:
            self.last_lost = frozenset()
            with self._lock:
                names = list(self._held)
            if not names:
                return set()
            now = self.clock.now()
            try:
                renewed = leases.renew(self.engine, names, self.holder, now, self.ttl)
            except Exception as exc:  # the database is away: keep running what we still validly hold
                log.warning("lease renewal failed", leases=len(names), error=type(exc).__name__)
                return self.held()
            lost = set()
            with self._lock:
                for name in names:
                    if name in renewed:
                        self._held[name] = now + self.ttl
                    elif self._held.pop(name, None) is not None:
                        lost.add(name)
                        log.warning("lease lost", lease=name, holder=self.holder)
            self.last_lost = frozenset(lost)
            return renewed

    def take_some(self, candidates: Iterable[str], room: int) -> set[str]:
        """Take `candidates` in order (free, expired or abandoned ones) until `room` more are held.

        Free and expired leases are taken a batch at a time (one statement for up to `room` of them, so claiming a
        thousand leases cannot outlast the time-to-live of the first ones); a lease whose holder is judged
        abandoned (a killed command on this host) is taken over one by one.

        Returns:
            The names taken.
        """
        with self._lock:
            pending = [name for name in candidates if name not in self._held]
        gained: set[str] = set()
        while pending and len(gained) < room:
            batch, pending = pending[: room - len(gained)], pending[room - len(gained):]
            now = self.clock.now()
            try:
                taken = leases.take_many(self.engine, batch, self.holder, now, self.ttl)
                for name in batch:
                    if name not in taken and len(gained) + len(taken) < room and \
                            leases.take(self.engine, name, self.holder, now, self.ttl, abandoned=self._gone):
                        taken.add(name)
            except Exception as exc:
                log.warning("lease claim failed", leases=len(batch), error=type(exc).__name__)
                break
            with self._lock:
                for name in taken:
                    self._held[name] = now + self.ttl
            gained |= taken
            for name in sorted(taken):
                log.info("lease acquired", lease=name, holder=self.holder)
        return gained

    def release(self, names: Iterable[str]) -> int:
        """Give the leases `names` up now (this replica's surplus), so another replica may claim them at once."""
        wanted = set(names)
        with self._io:
            with self._lock:
                mine = [name for name in wanted if self._held.pop(name, None) is not None]
            if not mine:
                return 0
            try:
                released = leases.release(self.engine, mine, self.holder, self.clock.now())
            except Exception as exc:
                log.warning("lease release failed", error=type(exc).__name__, consequence="they expire on their own")
                return 0
        for name in sorted(mine):
            log.info("lease released", lease=name, holder=self.holder)
        return released

    def claimed(self) -> set[str]:
        """The names this keeper holds as the database last said (without the safety margin of `held`)."""
        with self._lock:
            return set(self._held)

    def _gone(self, holder: str) -> bool:
        if not self.abandoned(holder):
            return False
        log.warning("lease holder gone", holder=holder, reason="no such process on this host",
                    action="taking its leases over")
        return True

    def standing(self, name: str) -> tuple[str, datetime] | None:
        """Who holds `name` now and until when, as the database says (None when nobody does)."""
        return leases.holders(self.engine, self.clock.now(), [name]).get(name)

    def holds(self, name: str) -> bool:
        """True while this replica holds `name` with more than the safety margin left."""
        with self._lock:
            expires = self._held.get(name)
        return expires is not None and self.clock.now() < expires - self._margin

    def held(self) -> set[str]:
        """The names this replica holds with more than the safety margin left."""
        with self._lock:
            names = list(self._held)
        return {name for name in names if self.holds(name)}

    def release_all(self) -> None:
        """Give every held lease up at once (on a clean stop), so another replica need not wait for expiry."""
        with self._io:
            with self._lock:
                names, self._held = list(self._held), {}
            try:
                released = leases.release(self.engine, names, self.holder, self.clock.now())
            except Exception as exc:
                log.warning("lease release failed", error=type(exc).__name__, consequence="they expire on their own")
                return
        if names:
            log.info("leases released", count=released, holder=self.holder)


class Renewal:
    """Renews a keeper's leases every `every` seconds in a background thread, and calls `on_lost` once with the
    names it no longer holds (taken over by another holder, or not renewed in time: the keeper's margin).

    Args:
        keeper: holds the leases when `start()` is called.
        every: seconds between renewals (a third of the time-to-live, as the daemon).
        on_lost: called from the renewal thread; renewals go on after it.
    """

    def __init__(self, keeper: LeaseKeeper, every: float, on_lost: Callable[[set[str]], None]) -> None:
        """Not started."""
        self.keeper = keeper
        self.every = every
        self.on_lost = on_lost
        self._done = threading.Event()
        self._wanted: set[str] = set()
        self._thread = threading.Thread(target=self._loop, name="lease-renewal", daemon=True)

    def start(self) -> None:
        """Start renewing the leases held now."""
        self._wanted = self.keeper.held()
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing (the leases stay held until released or expired)."""
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.every + 5)

    def _loop(self) -> None:
        reported = False
        while not self._done.wait(self.every):
            lost = self._wanted - self.keeper.refresh()
            if lost and not reported:
                reported = True
                self.on_lost(lost)


def cli_holder_id() -> str:
    """This process's holder id as a one-shot command: ``cli:<hostname>:<pid>``."""
    return f"cli:{socket.gethostname()}:{os.getpid()}"


def abandoned_cli_holder(holder: str) -> bool:
    """True when `holder` is ``cli:<this hostname>:<pid>`` and no process with that pid is alive here."""
    kind, _, rest = holder.partition(":")
    host, _, pid_text = rest.rpartition(":")
    if kind != "cli" or host != socket.gethostname() or not pid_text.isdigit():
        return False
    return not _alive(int(pid_text))


_PROC = Path("/proc")


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    if not _PROC.is_dir():  # no procfs: trust the signal check
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: gone, though its pid answers
        stat = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] not in (["Z"], ["X"])
