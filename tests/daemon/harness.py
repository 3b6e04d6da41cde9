"""`connector run` as a subprocess: started with its own environment, its JSON log read back as events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from tests.support import REPO

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.1) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def combine_toml(path: Path, *parts: Path) -> Path:
    """One connections file made of several single-connection files."""
    path.write_text("\n".join(p.read_text(encoding="utf-8") for p in parts), encoding="utf-8")
    return path


@dataclass(frozen=True)
class JobRun:
    """One `job run` event of the daemon's log."""

    job: str
    status: str
    replica: str
    started_at: datetime
    finished_at: datetime
    fields: dict[str, Any]


@dataclass
class DaemonProcess:
    """A running `connector run`; its stderr (JSON lines) goes to a file."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(
        cls, log_path: Path, env: dict[str, str], *, command: list[str] | None = None, cwd: Path = REPO
    ) -> DaemonProcess:
        """Start `python -m connector run` (or `command`) with `env` over this process's environment (JSON logs,
        any free port)."""
        full = {
            **os.environ,
            "CONNECTOR_LOG_FORMAT": "json",
            "CONNECTOR_METRICS_PORT": "0",
            **env,
        }
        handle = log_path.open("wb")
        argv = command or [sys.executable, "-m", "connector", "run"]
        proc = subprocess.Popen(argv, cwd=cwd, env=full, stdout=handle, stderr=handle)
        handle.close()
        return cls(proc, log_path)

    def events(self) -> list[dict[str, Any]]:
        """Every complete JSON log line so far (other lines, e.g. a traceback, are kept as {"raw": text})."""
        found = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                found.append({"raw": line})
        return found

    def log_text(self) -> str:
        """The whole log, for assertion messages."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def job_runs(self, job: str | None = None) -> list[JobRun]:
        """The `job run` events (of one job id, or all)."""
        runs = []
        for event in self.events():
            if event.get("event") == "job run" and (job is None or event.get("job") == job):
                runs.append(
                    JobRun(
                        str(event["job"]),
                        str(event["status"]),
                        str(event["replica"]),
                        datetime.fromisoformat(str(event["started_at"])),
                        datetime.fromisoformat(str(event["finished_at"])),
                        event,
                    )
                )
        return runs

    def metrics_url(self, timeout: float = 30) -> str:
        """The observability server's base URL, read from its "listening" event."""

        def find() -> str | None:
            self.assert_running()
            for event in self.events():
                if event.get("event") == "observability server listening":
                    return f"http://127.0.0.1:{event['port']}"
            return None

        return wait_for(find, timeout, "the metrics server to listen")

    def assert_running(self) -> None:
        """Fail with the log when the daemon exited."""
        if self.proc.poll() is not None:
            raise AssertionError(f"the daemon exited with {self.proc.returncode}:\n{self.log_text()[-4000:]}")

    def terminate(self, timeout: float = 30) -> tuple[int, float]:
        """SIGTERM; return (exit status, seconds it took to exit)."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - sent

    def kill(self) -> None:
        """SIGKILL, no goodbye."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def ensure_stopped(self) -> None:
        """Kill the process if a test left it running."""
        if self.proc.poll() is None:
            self.kill()
