"""Test helpers: drive a sandbox's control surface and build an `App` wired to it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from connector.app import App
from connector.clock import Clock
from connector.settings import Connection, Settings
from connector.store.db import make_engine, upgrade
from sandboxes.factuursturen import FactuurSturenSandbox

REPO = Path(__file__).resolve().parents[1]
KEY_ENV = "CONNECTOR_TEST_FS_KEY"


@dataclass
class FsSandbox:
    """A running FactuurSturen sandbox plus a client for its control surface."""

    server: FactuurSturenSandbox
    control: httpx.Client = field(init=False)

    @classmethod
    def start(cls) -> FsSandbox:
        """Start a sandbox on a free loopback port."""
        server = FactuurSturenSandbox(port=0, username="tester", api_key="fs-secret-key-123", rate_limit=None)
        server.start()
        sandbox = cls(server)
        sandbox.control = httpx.Client(base_url=server.control_url, timeout=60)
        return sandbox

    def stop(self) -> None:
        """Stop the server."""
        self.control.close()
        self.server.stop()

    @property
    def base_url(self) -> str:
        """The API root."""
        return self.server.base_url

    @property
    def api_key(self) -> str:
        """The sandbox account's API key."""
        return str(self.server.credentials["api_key"])

    @property
    def username(self) -> str:
        """The sandbox account's user name."""
        return str(self.server.credentials["username"])

    def post(self, path: str, body: Any = None) -> Any:
        """POST to the control surface and return the decoded answer."""
        response = self.control.post(path, json=body if body is not None else {})
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self) -> None:
        """Empty state, no faults, no rate limit."""
        self.post("/reset")
        self.post("/ratelimit", {"limit": None})

    def seed(self, **params: Any) -> Any:
        """Seed deterministic data (clients, invoices, seed, lines_per_invoice, start_date, end_date)."""
        return self.post("/seed", params)

    def act(self, action: str, **params: Any) -> Any:
        """Act as a person in the web app would."""
        return self.post(f"/act/{action}", params)

    def faults(self, *rules: dict[str, Any]) -> None:
        """Replace the fault rules."""
        self.post("/faults", {"rules": list(rules)})

    def state(self) -> dict[str, Any]:
        """The sandbox's truth."""
        response = self.control.get("/state")
        response.raise_for_status()
        return dict(response.json())

    def requests(self) -> list[dict[str, Any]]:
        """The request log."""
        response = self.control.get("/requests")
        response.raise_for_status()
        return list(response.json())

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.control.delete("/requests").raise_for_status()

    def release_held(self, timeout: float = 60.0) -> None:
        """Clear the faults, releasing the answer a `slow` fault holds, and wait until that answer is logged.

        A held answer left alone is logged when its hold ends, possibly during a later test that reads the log
        (the sandbox is shared by the session); its client is gone by then (a killed process).
        """
        before = len(self.requests())
        self.control.delete("/faults").raise_for_status()
        deadline = time.monotonic() + timeout
        while len(self.requests()) <= before:
            if time.monotonic() > deadline:
                raise AssertionError("the held answer was not logged after its release")
            time.sleep(0.01)

    def connection(self, name: str = "fs", **overrides: Any) -> Connection:
        """A connection to this sandbox (the key is read from an environment variable, as in production)."""
        os.environ[KEY_ENV] = self.api_key
        values: dict[str, Any] = {
            "name": name,
            "provider": "factuursturen",
            "base_url": self.base_url,
            "username": self.username,
            "api_key_env": KEY_ENV,
            "sandbox": True,
            "safety_lag_seconds": 0,
            "max_attempts": 3,
        }
        values.update(overrides)
        return Connection(**values)

    def connections_toml(self, path: Path, name: str = "fs", **overrides: Any) -> Path:
        """Write a connections file for subprocess runs."""
        conn = self.connection(name, **overrides)
        lines = [f"[connections.{name}]"]
        for key, value in conn.model_dump(exclude={"name", "options"}, exclude_none=True).items():
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, (int, float)):
                lines.append(f"{key} = {value}")
            elif isinstance(value, dict):
                if value:
                    pairs = ", ".join(f'{k} = "{v}"' for k, v in value.items())
                    lines.append(f"{key} = {{ {pairs} }}")
            elif isinstance(value, list):
                lines.append(f"{key} = [{', '.join(repr(v) for v in value)}]".replace("'", '"'))
            else:
                lines.append(f'{key} = "{value}"')
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def make_app(database_url: str, *connections: Connection, migrate: bool = True, clock: Clock | None = None) -> App:
    """An App over `database_url` (migrated unless told otherwise) with the given connections (and clock)."""
    if migrate:
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
    return App(Settings(database_url=database_url), clock=clock, connections=list(connections))


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `python -m connector ARGS` in a subprocess and capture its output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "connector", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=full_env,
        timeout=timeout,
        check=False,
    )


def seed_until_yesterday(fs: FsSandbox, *, days: int, seed: int, clients: int, invoices: int, lines: int = 3) -> None:
    """Seed invoices sent over the `days` before the sandbox's today (so today's new invoices are new)."""
    from datetime import date, timedelta

    today = date.fromisoformat(fs.post("/clock", {})["now"][:10])
    fs.seed(
        seed=seed,
        clients=clients,
        invoices=invoices,
        lines_per_invoice=lines,
        start_date=(today - timedelta(days=days)).isoformat(),
        end_date=(today - timedelta(days=1)).isoformat(),
    )
