"""Everything one connection's HTTP session needs to know, in one frozen value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from connector.errors import ConfigError

__all__ = ["DEADLINE_PER_TIMEOUT", "MAX_BODY_BYTES", "HttpConfig"]

DEADLINE_PER_TIMEOUT = 4
"""Without a configured deadline, a request gets this many times `timeout_seconds` in all."""
MAX_BODY_BYTES = 64 * 1024 * 1024
"""The default largest decoded response body (64 MiB: a page of 500 invoices is well under 2 MiB)."""


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """HTTP settings of one connection (built by the composition root from `Settings`).

    Attributes:
        provider: provider id, e.g. ``"factuursturen"``.
        connection: configured connection name, used in error messages and logs.
        base_url: the API root; paths given to the session are relative to it.
        auth: how to authenticate (see `connector.http.auth`); never a hand-built header.
        headers: default headers, e.g. ``Accept: application/json``.
        timeout_seconds: connect/read/write/pool timeout of each socket wait of a request.
        deadline_seconds: the whole of one attempt (connect, headers and body together); None:
            `DEADLINE_PER_TIMEOUT` times `timeout_seconds`. Passing it is a transient `Timeout`.
        max_body_bytes: the largest response body accepted, decoded (a bigger one is a `ProtocolError`).
        max_attempts: total attempts of a retryable request (1 = no retry).
        max_retry_seconds: stop retrying once this much time has passed since the first attempt.
        rate_limit: requests per window, when the service has a known budget.
        rate_window_seconds: window length; windows are fixed and aligned to epoch multiples of it on the
            service's clock (FactuurSturen: 3600).
        rate_reserve: requests kept back in each window for other jobs or manual use.
        verify: TLS verification (True) or a CA bundle path; False is refused.
        secrets: literal secret values to scrub from every message (auth secrets are added automatically).
    """

    provider: str
    connection: str
    base_url: str
    auth: httpx.Auth | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = 30.0
    deadline_seconds: float | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    max_attempts: int = 5
    max_retry_seconds: float = 600.0
    rate_limit: int | None = None
    rate_window_seconds: float | None = None
    rate_reserve: int = 0
    verify: bool | str = True
    secrets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, naming the connection and the key.

        Raises:
            ConfigError: a bad value (non-positive limits, a reserve eating the whole budget, verify=False).
        """
        where = f"connection '{self.connection or self.provider}'"
        limit, window = self.rate_limit, self.rate_window_seconds
        checks = {  # key -> (is wrong, what it must be)
            "base_url": (not self.base_url.startswith(("http://", "https://")), "must be an http(s) URL"),
            "timeout_seconds": (self.timeout_seconds <= 0, "must be > 0"),
            "deadline_seconds": (self.deadline_seconds is not None and self.deadline_seconds <= 0, "must be > 0"),
            "max_body_bytes": (self.max_body_bytes < 1, "must be >= 1"),
            "max_attempts": (self.max_attempts < 1, "must be >= 1"),
            "max_retry_seconds": (self.max_retry_seconds < 0, "must be >= 0"),
            "rate_limit": (limit is not None and limit < 1, "must be >= 1"),
            "rate_window_seconds": (window is not None and window <= 0, "must be > 0"),
            "rate_reserve": (
                self.rate_reserve < 0 or (limit is not None and self.rate_reserve >= limit),
                "must be >= 0 and below rate_limit",
            ),
            "verify": (self.verify is False, "cannot be switched off; give a CA bundle path"),
        }
        for key, (wrong, problem) in checks.items():
            if wrong:
                raise ConfigError(where, key, problem)

    @property
    def request_deadline(self) -> float:
        """Seconds one attempt may take in all: `deadline_seconds`, or its default from `timeout_seconds`."""
        return self.deadline_seconds or DEADLINE_PER_TIMEOUT * self.timeout_seconds
