"""`connector backfill` (and `sync`) as a person sees it: in a real terminal (a pty of 80 columns, read by the
`pyte` terminal emulator) the progress line is redrawn in place while it waits on the rate budget, leaving no
stale rows; with stderr piped and JSON logs every stderr line is a JSON object."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyte

from tests.backfill.harness import sandbox_today, seed_three_years
from tests.support import REPO, FsSandbox, make_app

COLUMNS, ROWS = 80, 40


def _progress_rows(rows: list[str]) -> list[str]:
    """Rows of the progress line (the final report starts with "backfill fs:", the line with "backfill fs ")."""
    return [row for row in rows if row.startswith("backfill fs ")]


def _env(tmp_path: Path, fs: FsSandbox, **extra: str) -> dict[str, str]:
    # A budget of 3 requests per 2-second window, at the sandbox and in the connection: the backfill's windows
    # need more than that, so it waits for the budget several times.
    fs.post("/ratelimit", {"limit": 3, "window_seconds": 2})
    conf = fs.connections_toml(tmp_path / "connections.toml", page_size=100, rate_limit=3, rate_window_seconds=2)
    env = {"CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}", "CONNECTOR_CONNECTIONS_FILE": str(conf)}
    make_app(env["CONNECTOR_DATABASE_URL"])
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "CONNECTOR_LOG_FORMAT")}
    return {**base, **env, **extra}


def _backfill_args(fs: FsSandbox) -> list[str]:
    today = sandbox_today(fs)  # twelve windows of a day, a request or two each: several waits for the budget
    since = (today - timedelta(days=12)).isoformat()
    return ["backfill", "--connection", "fs", "--since", since, "--until", today.isoformat(), "--window", "1d"]


def _run_in_pty(
    argv: list[str], env: dict[str, str], observe: Callable[[list[str]], None], timeout: float = 300
) -> tuple[int, pyte.Screen, bytes]:
    """Run `argv` with stdin, stdout and stderr on a pty of COLUMNS x ROWS; `observe` sees the screen's rows after
    every chunk of output. Return its exit status, the screen at the end and the raw bytes written."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    proc = subprocess.Popen(argv, cwd=REPO, env={**env, "TERM": "xterm-256color"}, stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)
    raw = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError as exc:  # EIO: the child closed the pty
                if exc.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            raw.extend(chunk)
            stream.feed(chunk)
            observe([line.rstrip() for line in screen.display])
        status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return status, screen, bytes(raw)


def test_in_an_80_column_terminal_the_progress_line_is_redrawn_in_place_while_waiting_on_the_budget(
    tmp_path: Path, fs: FsSandbox
) -> None:
    seed_three_years(fs, invoices=1500, clients=30)
    env = _env(tmp_path, fs)
    seen_waiting: list[list[str]] = []  # the progress rows on screen whenever the line showed a wait

    def observe(rows: list[str]) -> None:
        if any("rate budget wait 0:" in row for row in rows):
            seen_waiting.append(_progress_rows(rows))

    status, screen, raw = _run_in_pty([sys.executable, "-m", "connector", *_backfill_args(fs)], env, observe)
    rows = [line.rstrip() for line in screen.display]
    text = "\n".join(rows)
    assert status == 0, text

    # While it waited on the budget the line was redrawn, and never left a stale copy of itself behind.
    assert len(seen_waiting) >= 2, text
    assert all(len(progress) == 1 for progress in seen_waiting), seen_waiting
    (line,) = _progress_rows(rows)  # and at the end: one line, every window done
    assert " windows " in line and " 12/12 windows " in line, line
    assert raw.count(b"\x1b[") > 10  # redrawn with cursor moves, not new lines
    # Each wait is said once, by the pacer's event, above the line.
    waits = [number for number, row in enumerate(rows) if "rate budget wait" in row and row != line]
    assert waits and max(waits) < rows.index(line), text
    report = [row for row in rows if row.startswith("backfill fs: ok,")]
    assert report, text


def test_with_stderr_piped_and_json_logs_every_stderr_line_is_json(tmp_path: Path, fs: FsSandbox) -> None:
    seed_three_years(fs, invoices=600, clients=20)
    env = _env(tmp_path, fs, CONNECTOR_LOG_FORMAT="json")
    done = subprocess.run([sys.executable, "-m", "connector", *_backfill_args(fs)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines()]  # every line, or this raises
    windows = [e for e in events if e["event"] == "backfill window"]
    assert windows and windows[-1]["windows_done"] == windows[-1]["windows"], windows[-1:]
    assert all(isinstance(e["eta_bound_by_budget"], bool) and isinstance(e["read"], int) for e in windows)
    assert [e for e in events if e["event"] == "rate budget wait"]
    assert "backfill fs: ok," in done.stdout


def test_a_sync_in_an_80_column_terminal_shows_records_requests_and_the_wait_on_one_line(
    tmp_path: Path, fs: FsSandbox
) -> None:
    seed_three_years(fs, invoices=900, clients=250)  # pages of 100: a dozen requests at 3 per 2 seconds
    env = _env(tmp_path, fs)
    seen_waiting: list[list[str]] = []

    def observe(rows: list[str]) -> None:
        if any("rate budget wait 0:" in row for row in rows):
            seen_waiting.append([row for row in rows if row.startswith("sync fs ")])

    argv = [sys.executable, "-m", "connector", "sync", "--connection", "fs"]
    status, screen, _ = _run_in_pty(argv, env, observe)
    rows = [line.rstrip() for line in screen.display]
    assert status == 0, "\n".join(rows)
    assert seen_waiting and all(len(progress) == 1 for progress in seen_waiting), seen_waiting
    (line,) = [row for row in rows if row.startswith("sync fs ")]
    assert " records · " in line and " requests" in line, line
