"""Sandboxes for chaos trials: started in this process, driven only through their HTTP control surface.

A `Service` knows one sandbox's control URL and credentials and writes the connections-file table the
`connector` CLI needs to reach it. Nothing here imports connector code; the simulated services come from the
`sandboxes` package, which is not the connector.
"""

from __future__ import annotations

import json
import ssl
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

__all__ = ["KEY_ENV", "Service", "start_service"]

KEY_ENV = "CONNECTOR_CHAOS_KEY_"  # + the service name upper-cased: the environment variable with its key


@dataclass
class Service:
    """One running sandbox and a client of its control surface (`/_sandbox/...`)."""

    name: str
    server: Any
    control: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        """Open the control client."""
        bundle = getattr(self.server, "ca_bundle", None)
        self.control = httpx.Client(base_url=self.server.control_url, timeout=120,
                                    verify=ssl.create_default_context(cafile=str(bundle)) if bundle else True)

    def stop(self) -> None:
        """Stop the sandbox."""
        self.control.close()
        self.server.stop()

    @property
    def base_url(self) -> str:
        """The API root the connector talks to."""
        return str(self.server.base_url)

    @property
    def api_prefix(self) -> str:
        """The path prefix of the API (fault rules and the request log use raw paths)."""
        return str(self.server.api_prefix)  # every sandbox declares its own (SandboxApp.api_prefix)

    @property
    def secret(self) -> str:
        """The account's key or token."""
        creds = self.server.credentials
        return str(creds.get("api_key") or creds.get("token"))

    # -- control surface ------------------------------------------------------------------------------

    def post(self, path: str, body: Any = None) -> Any:
        """POST JSON to the control surface; the decoded answer (fractions as Decimal)."""
        payload = json.dumps(body if body is not None else {}, default=_plain)
        response = self.control.post(path, content=payload, headers={"Content-Type": "application/json"})
        if response.status_code >= 400:
            raise RuntimeError(f"{self.name} {path} -> {response.status_code}: {response.text[:300]}")
        return json.loads(response.content, parse_float=Decimal) if response.content else None

    def get(self, path: str) -> Any:
        """GET from the control surface (fractions as Decimal)."""
        response = self.control.get(path)
        response.raise_for_status()
        return json.loads(response.content, parse_float=Decimal)

    def reset(self) -> None:
        """Empty account, no faults, empty log, real time, no rate limit."""
        self.post("/reset")
        self.post("/ratelimit", {"limit": None})

    def seed(self, **spec: Any) -> dict[str, int]:
        """Replace the account's data with generated records; the counts."""
        return dict(self.post("/seed", spec))

    def act(self, action: str, **body: Any) -> Any:
        """Act as a person in the service's web app; the touched record."""
        return self.post(f"/act/{action}", {k: str(v) if isinstance(v, Decimal) else v for k, v in body.items()})

    def state(self) -> dict[str, Any]:
        """The service's truth."""
        return dict(self.get("/state"))

    def faults(self, *rules: dict[str, Any]) -> None:
        """Replace the fault rules (an empty call clears them)."""
        self.post("/faults", {"rules": list(rules)})

    def fault_rules(self) -> list[dict[str, Any]]:
        """The installed rules with their `seen` and `fired` counters."""
        return list(self.get("/faults")["rules"])

    def fault_specs(self) -> list[dict[str, Any]]:
        """The installed rules as they were given (counters left out), to install again next to another."""
        return [{k: v for k, v in rule.items() if k not in ("seen", "fired")} for rule in self.fault_rules()]

    def requests(self) -> list[dict[str, Any]]:
        """The API request log, oldest first."""
        return list(self.get("/requests"))

    def request_count(self) -> int:
        """How many API requests the log holds."""
        return len(self.requests())

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.control.delete("/requests").raise_for_status()

    def rate_limit(self, limit: int | None, window_seconds: float = 60) -> None:
        """Set the service's own rate limit (None: off)."""
        self.post("/ratelimit", {"limit": limit, "window_seconds": window_seconds})

    def today(self) -> str:
        """The service's local date (ISO)."""
        return str(self.post("/clock", {})["now"])[:10]

    # -- the connector's view of it -------------------------------------------------------------------

    def toml(self, connection: str, **settings: Any) -> str:
        """The `[connections.<connection>]` table reaching this sandbox (the key through an environment variable)."""
        values: dict[str, Any] = {"provider": self.name, "base_url": self.base_url, "api_key_env": self.key_env,
                                  "sandbox": True, "safety_lag_seconds": 0, "max_attempts": 3,
                                  "timeout_seconds": 5.0, "sweep_cron": ""}
        if self.name == "factuursturen":
            values["username"] = self.server.credentials["username"]
        if self.name in ("fastfaktura", "facturalia"):
            values["rate_limit"] = 1_000_000
        if self.name == "facturalia":
            values["ca_bundle"] = str(self.server.ca_bundle)
            values["options"] = {"default_product_code": "CONSULT"}
        values.update(settings)
        lines = [f"[connections.{connection}]"]
        options = values.pop("options", None)
        for key, value in values.items():
            lines.append(f"{key} = {_toml(value)}")
        if options:
            lines.append(f"[connections.{connection}.options]")
            lines.extend(f"{k} = {_toml(v)}" for k, v in options.items())
        return "\n".join(lines) + "\n"

    @property
    def key_env(self) -> str:
        """The environment variable the connections file names for this service's key."""
        return KEY_ENV + self.name.upper()


def _plain(value: Any) -> Any:
    """JSON for what `json` cannot encode by itself: Decimal as a number."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


def start_service(name: str) -> Service:
    """Start the named sandbox on a free loopback port, empty, with its rate limit off."""
    from sandboxes import start

    options: dict[str, Any] = {"port": 0}
    if name != "hydra":
        options["rate_limit"] = None
    service = Service(name, start(name, **options))
    service.reset()
    return service


def wait_until(predicate: Any, timeout: float, every: float = 0.005) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds passed; whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())
