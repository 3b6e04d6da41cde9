"""Real `connector` processes for chaos trials: run to completion, or start and SIGKILL on a chosen event.

Every command is recorded (`Cli.steps`) so a failing trial can print exactly what was run.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Cli", "Killed"]

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Killed:
    """How a started command ended: SIGKILLed by the trial (`killed`) or on its own (`returncode`)."""

    killed: bool
    returncode: int


@dataclass
class Cli:
    """`python -m connector ...` against one database and connections file."""

    database_url: str
    connections_file: Path
    secrets: dict[str, str]
    steps: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The environment of every command (keys by reference, as in production)."""
        return {**os.environ, **self.secrets, "CONNECTOR_DATABASE_URL": self.database_url,
                "CONNECTOR_CONNECTIONS_FILE": str(self.connections_file), "CONNECTOR_LOG_LEVEL": "WARNING"}

    def note(self, text: str) -> None:
        """Record a step that is not a command (a person's act, a fault)."""
        self.steps.append(f"# {text}")

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run a command to its end; its completed process (output captured)."""
        self.steps.append(f"connector {shlex.join(args)}")
        done = subprocess.run([sys.executable, "-m", "connector", *args], cwd=REPO, env=self.env(),
                              capture_output=True, text=True, timeout=timeout, check=False)
        self.steps[-1] += f"   -> exit {done.returncode}"
        return done

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """Start a command (output discarded)."""
        self.steps.append(f"connector {shlex.join(args)}   (to be killed)")
        return subprocess.Popen([sys.executable, "-m", "connector", *args], cwd=REPO, env=self.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill_when(self, proc: subprocess.Popen[bytes], event: Callable[[], bool], label: str,
                  timeout: float = 60, delay: float = 0.0) -> Killed:
        """SIGKILL `proc` as soon as `event()` holds (after `delay` more seconds); or let it end on its own."""
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if event():
                    if delay:
                        time.sleep(delay)
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGKILL)
                        proc.wait()
                        self.steps[-1] += f"   -> SIGKILL {label}"
                        return Killed(True, proc.returncode)
                    break
                time.sleep(0.003)
            if proc.poll() is None:  # the event never came: kill it at the deadline rather than hang
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                self.steps[-1] += f"   -> SIGKILL at the {timeout:.0f} s deadline ({label} never came)"
                return Killed(True, proc.returncode)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.steps[-1] += f"   -> ended by itself, exit {proc.returncode} (before {label})"
        return Killed(False, proc.returncode)

    def kill_after(self, proc: subprocess.Popen[bytes], seconds: float) -> Killed:
        """SIGKILL `proc` after `seconds` if it is still running."""
        start = time.monotonic()
        return self.kill_when(proc, lambda: time.monotonic() - start >= seconds, f"after {seconds:.2f} s",
                              timeout=seconds + 5)
