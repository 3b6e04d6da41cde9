"""HttpSession + Pacer against a real loopback server that 403s once its hourly-style budget is spent.

The server reads "now" from the same FakeClock the client sleeps on, so a paced wait moves the
server's clock too: fixed windows aligned to epoch multiples, ``Date`` and ``X-RateLimit-*`` on every
answer, 403 with remaining 0 over the limit (FactuurSturen's behaviour, PROVIDERS.md §3).
"""

from __future__ import annotations

import base64
import gc
import json
import threading
import weakref
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from connector.errors import AuthFailed, RateLimited
from connector.http import (
    BasicAuth,
    Classifier,
    HttpConfig,
    HttpSession,
    Pacer,
    StartCountPaginator,
    forbidden_with_zero_remaining_is_rate_limit,
)
from tests.unit.http.conftest import FakeClock, VirtualClock

LIMIT, WINDOW = 5, 60
KEY = "budget-server-key-77"
GOOD_AUTH = "Basic " + base64.b64encode(f"tester:{KEY}".encode()).decode()


class BudgetServer:
    """A FactuurSturen-like rate limiter on 127.0.0.1:0, with time from the test's FakeClock."""

    def __init__(self, clock: FakeClock, limit: int = LIMIT, window: int = WINDOW) -> None:
        self.clock, self.limit, self.window = clock, limit, window
        self.lock = threading.Lock()
        self.used: dict[int, int] = {}  # window index -> requests counted
        self.statuses: list[int] = []
        self.records = [{"id": str(i), "price": f"{i}.125"} for i in range(23)]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def date_time_string(self, timestamp: float | None = None) -> str:
                return formatdate(server.clock.now().timestamp(), usegmt=True)

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with server.lock:
                    window = int(server.clock.now().timestamp() // server.window)
                    used = server.used.get(window, 0)
                    if used >= server.limit:
                        status, remaining, body = 403, 0, b"Forbidden: request limit reached"
                    elif self.headers.get("Authorization") != GOOD_AUTH:
                        server.used[window] = used + 1
                        status, remaining, body = 401, server.limit - used - 1, b"Unauthorized"
                    else:
                        server.used[window] = used + 1
                        status, remaining, body = 200, server.limit - used - 1, server._page(self.path)
                    server.statuses.append(status)
                self.send_response(status)
                self.send_header("X-RateLimit-Limit", str(server.limit))
                self.send_header("X-RateLimit-Remaining", str(remaining))
                self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _page(self, path: str) -> bytes:
        query = dict(httpx.URL(path).params)
        start, count = int(query.get("start", 0)), int(query.get("count", 100))
        return (
            json.dumps(self.records[start : start + count])
            .replace('"price": "', '"price": ')
            .replace('125"', "125")
            .encode()
        )

    def __enter__(self) -> BudgetServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[BudgetServer]:
    with BudgetServer(clock) as running:
        yield running


def session(server: BudgetServer, clock: FakeClock, pacer: Pacer | None = None, key: str = KEY) -> HttpSession:
    config = HttpConfig(
        provider="factuursturen",
        connection="fs-loopback",
        base_url=server.url,
        auth=BasicAuth("tester", key),
        headers={"Accept": "application/json"},
        rate_limit=LIMIT,
        rate_window_seconds=WINDOW,
        timeout_seconds=10,
    )
    return HttpSession(
        config,
        clock=clock,
        pacer=pacer,
        classifier=Classifier({403: forbidden_with_zero_remaining_is_rate_limit}),
    )


def test_paced_session_never_sees_a_403_over_several_windows(server: BudgetServer, clock: FakeClock) -> None:
    # Given a budget of 5 requests per minute on the server's clock
    start = clock.now()
    with session(server, clock) as client:
        # When 17 requests are made back to back (more than three windows' worth)
        for _ in range(17):
            client.get_json("clients", params={"start": 0, "count": 1})
        # Then the server never had to refuse one: the pacer waited for each window boundary instead
        assert server.statuses == [200] * 17
        assert client.requests_made == 17
        assert (clock.now() - start).total_seconds() > 2 * WINDOW
        assert sorted(server.used.values()) == [2, 5, 5, 5]
        # and the pacer learned the service's clock from its Date header
        assert client.server_now() is not None
        assert abs((client.server_now() - clock.now()).total_seconds()) <= 1.0  # type: ignore[operator]


def test_jobs_sharing_a_pacer_from_threads_never_see_a_403() -> None:
    # Given one pacer shared by four concurrent jobs of the same connection, on a clock that moves only
    # when all four wait (however slowly the machine runs them, a request takes no time on it)
    clock = VirtualClock()
    with BudgetServer(clock) as server:
        pacer = Pacer(clock, limit=LIMIT, window_seconds=WINDOW, name="fs-loopback")
        clients = [session(server, clock, pacer) for _ in range(4)]
        errors: list[BaseException] = []
        ready = threading.Barrier(4)

        def job(client: HttpSession) -> None:
            with clock.taking_part():
                ready.wait(30)  # all four take part before any sleeps, so time cannot jump for one alone
                try:
                    for _ in range(4):
                        client.get_json("clients", params={"start": 0, "count": 1})
                except BaseException as exc:  # surfaced by the assertion below
                    errors.append(exc)

        threads = [threading.Thread(target=job, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        for c in clients:
            c.close()
        # Then 16 requests went over at least four windows, and none was refused
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        assert server.statuses.count(200) == 16 and 403 not in server.statuses
        assert len(server.used) >= 4


def test_paging_over_a_real_socket_with_decimal_prices(server: BudgetServer, clock: FakeClock) -> None:
    with session(server, clock) as client:
        pager = StartCountPaginator(5, overlap=1)
        params: dict[str, object] = {}
        pager.init_request(params)
        got = []
        while True:
            got += pager.update_state(client.get_json("clients", params=params))
            if not pager.has_next:
                break
            pager.update_request(params)
    assert [r["id"] for r in got] == [str(i) for i in range(23)]
    assert str(got[7]["price"]) == "7.125"  # a Decimal, not a float
    assert 403 not in server.statuses


def test_a_budget_spent_elsewhere_is_waited_out_not_failed(server: BudgetServer, clock: FakeClock) -> None:
    # Given another tool spent this window's budget before the connector started
    window = int(clock.now().timestamp() // WINDOW)
    server.used[window] = LIMIT
    with session(server, clock) as client:
        # When the connector reads, it meets one 403 (RateLimited), waits for the window, and succeeds
        assert client.get_json("clients", params={"start": 0, "count": 2})
    assert server.statuses == [403, 200]


def test_wrong_key_is_auth_failed_and_not_retried(server: BudgetServer, clock: FakeClock) -> None:
    with session(server, clock, key="wrong-key-999") as client, pytest.raises(AuthFailed) as caught:
        client.get_json("clients")
    assert server.statuses == [401]
    assert "wrong-key-999" not in str(caught.value)
    assert not isinstance(caught.value, RateLimited)


def test_a_read_response_is_freed_by_reference_counting_not_left_to_the_garbage_collector(
    server: BudgetServer, clock: FakeClock
) -> None:
    # A page body must not wait for a full collection (memory would grow with the pages of a run).
    with session(server, clock) as client:
        gc.collect()
        gc.disable()
        try:
            response = client.request("GET", "clients", params={"start": 0, "count": 20})
            assert response.json()[19]["id"] == "19"  # the body is still there to read
            alive = weakref.ref(response)
            del response
            assert alive() is None
        finally:
            gc.enable()
