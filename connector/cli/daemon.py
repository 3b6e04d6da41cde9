"""`connector run`: the daemon until SIGTERM/SIGINT, or every job once with --once."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType

from connector.app import App
from connector.daemon import Daemon
from connector.observability.events import get_logger
from connector.stopping import StopToken

__all__ = ["run"]

log = get_logger("connector.daemon")

EXIT_OK = 0
EXIT_UNCLEAN = 1


def run(app: App, args: argparse.Namespace) -> int:
    """Run the scheduler until a signal; exit 0 when every job ended within the grace period."""
    stop = StopToken()
    daemon = Daemon(app.settings, stop, app=App(app.settings, stop=stop, connections=app.connections))
    if args.once:
        return EXIT_OK if daemon.run_once(sweep=args.sweep) else EXIT_UNCLEAN

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    outcome = daemon.run()
    if outcome.clean:
        return EXIT_OK
    log.error("jobs still running after the grace period", count=outcome.still_running, action="exiting without them")
    logging.shutdown()
    sys.stderr.flush()
    os._exit(EXIT_UNCLEAN)  # job threads stuck in I/O would otherwise hold the interpreter open
