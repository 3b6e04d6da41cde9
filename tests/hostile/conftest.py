"""Fixtures of the hostile-answer tests: the hostile server with every route, and a gzip bomb."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hostile.server import (
    HostileServer,
    bomb,
    bomb_route,
    drip_body,
    drip_headers,
    gzipped_page,
    page,
    rate_limited_once,
)

BOMB_SIZE = 300 * 1024 * 1024  # inflates to 300 MiB from about 300 KB


@pytest.fixture(scope="session")
def bomb_body() -> bytes:
    """300 MiB of valid JSON (one client, then spaces), gzip-compressed."""
    return bomb(BOMB_SIZE)


@pytest.fixture
def hostile(bomb_body: bytes) -> Iterator[HostileServer]:
    """A hostile server: /drip-body, /drip-headers, /bomb, /page, /gzipped-page, /limited."""
    server = HostileServer(routes={
        "/drip-body": drip_body,
        "/drip-headers": drip_headers,
        "/bomb": bomb_route(bomb_body),
        "/page": page,
        "/gzipped-page": gzipped_page,
        "/limited": rate_limited_once(),
    }).start()
    yield server
    server.stop()
