"""An answer that drips one byte a second, in its body or in its headers, ends in a typed Timeout at the
request deadline, retried a bounded number of times; it never holds a sync for ever."""

from __future__ import annotations

import time
from typing import Any

import pytest

from connector.errors import Timeout
from connector.http import DEADLINE_PER_TIMEOUT, HttpConfig, HttpSession
from tests.hostile.server import PAGE, HostileServer
from tests.unit.http.conftest import FakeClock

NO_HANG = 30.0  # generous: two attempts of a 2 s deadline; a drip waited out takes 55 s an attempt


def _session(server: HostileServer, clock: FakeClock, **config: Any) -> HttpSession:
    values: dict[str, Any] = {"provider": "hostile", "connection": "h", "base_url": server.url,
                              "timeout_seconds": 3, "deadline_seconds": 2, "max_attempts": 2}
    values.update(config)
    return HttpSession(HttpConfig(**values), clock=clock)  # the fake clock only skips the retry backoff


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_a_dripping_answer_ends_at_the_deadline_in_a_typed_timeout(hostile: HostileServer, path: str) -> None:
    clock = FakeClock()
    started = time.monotonic()
    with _session(hostile, clock) as session, pytest.raises(Timeout) as caught:
        session.get_json_array(path)
    took = time.monotonic() - started

    assert took < NO_HANG, f"{path}: {took:.0f}s: the per-read timeout (3 s) alone never fires on a drip"
    assert "deadline of 2s" in str(caught.value)
    assert hostile.paths() == [path, path]  # retried, and bounded by max_attempts
    assert len(clock.slept) == 1  # the one backoff between the two attempts


def test_a_normal_page_on_the_same_server_is_read_whole(hostile: HostileServer) -> None:
    with _session(hostile, FakeClock()) as session:
        assert [text for _, text in session.get_json_array("/page")] == [
            '{"clientnr": 1, "name": "Normal"}', '{"clientnr": 2, "name": "Page"}'
        ]
        assert session.get_json("/gzipped-page") == [{"clientnr": 1, "name": "Normal"}, {"clientnr": 2, "name": "Page"}]
        # a pooled connection reused after a request with a deadline keeps working without one being set
        assert session.request("GET", "/page").content == PAGE


def test_the_deadline_defaults_to_a_multiple_of_the_timeout() -> None:
    config = HttpConfig(provider="p", connection="c", base_url="https://x.test", timeout_seconds=3)
    assert config.request_deadline == DEADLINE_PER_TIMEOUT * 3 == 12
    assert HttpConfig(provider="p", connection="c", base_url="https://x.test", deadline_seconds=7).request_deadline == 7
