"""Benchmark (not a test): the FactuurSturen first load replayed in one process, for A/B comparisons.

Records the sandbox's answers once (every invoice, the open ones, every client, the country list) into a
JSON file, then runs the full sync (and, unless --full-only, the no-change rerun) against an in-process
replay of those answers (an `httpx.MockTransport`: no sandbox competing for the CPU, the same bytes
every time). Prints wall and CPU seconds as JSON; with --digest also a hash of every stored column but
the timestamps, to check that a change leaves the store's contents as they were.

On a shared machine CPU seconds drift with the neighbours; instruction counts do not:

    python bench/replay_factuursturen.py --invoices 20000 --record          # once: writes the answers
    perf stat -e instructions:u python bench/replay_factuursturen.py --invoices 20000 --full-only
    python bench/replay_factuursturen.py --invoices 20000 --digest

The replay ignores `since`/`until` (the rerun reads every page again), so only the full sync is
comparable with `pull_factuursturen.py`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
from _common import start_sandbox

_TIMESTAMPS = {"created_at", "updated_at", "first_seen_at", "last_changed_at", "fetched_at", "read_at", "written_at",
               "archived_at"}
_TABLES = ("client", "invoice", "invoice_line", "payment", "link", "raw_record", "quarantine")


def record(invoices: int, path: Path) -> None:
    """Fetch every answer the replay needs from a seeded sandbox (seed 1, a tenth as many clients)."""
    from connector.http.client import split_json_array

    proc, info = start_sandbox("factuursturen", invoices, max(invoices // 10, 1), "--no-rate-limit")
    try:
        with httpx.Client(
            base_url=info["base_url"],
            auth=(info["username"], info["api_key"]),
            headers={"Accept": "application/json"},
            timeout=120,
        ) as client:

            def elements(path: str, **params: Any) -> list[str]:
                return [text for _, text in split_json_array(client.get(path, params=params).text)]

            answers = {
                "invoices": elements("/invoices", count=-1),
                "open": elements("/invoices", count=-1, filter="open"),
                "clients": elements("/clients", count=-1),
                "countrylist": client.get("/countrylist/en").text,
                "profiles": client.get("/profiles").text,
            }
    finally:
        proc.terminate()
        proc.wait()
    path.write_text(json.dumps(answers), encoding="utf-8")


def replay(answers: dict[str, Any]) -> httpx.MockTransport:
    """Serve the recorded answers with start/count paging, `filter=open`, and 404 for single invoices."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.split("/api/v1/")[-1].rstrip("/")
        query = request.url.params
        headers = {
            "Date": formatdate(usegmt=True),
            "X-RateLimit-Limit": "1000000000",
            "X-RateLimit-Remaining": "999999999",
            "Content-Type": "application/json",
        }
        if path in ("invoices", "clients"):
            items = answers["open" if query.get("filter") == "open" else path]
            start, count = int(query.get("start", 0)), int(query.get("count", 100))
            page = items[start:] if count < 0 else items[start : start + count]
            return httpx.Response(200, headers=headers, content=("[" + ",".join(page) + "]").encode())
        if path.startswith("countrylist") or path == "profiles":
            return httpx.Response(200, headers=headers, content=answers[path.split("/")[0]].encode())
        return httpx.Response(404, headers=headers, content=b"not found")

    return httpx.MockTransport(handle)


def store_digest(db: Path) -> str:
    """A hash of every stored row, timestamps left out."""
    digest = hashlib.sha256()
    with sqlite3.connect(db) as conn:
        for table in _TABLES:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})") if row[1] not in _TIMESTAMPS]
            for row in conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def run(answers: dict[str, Any], full_only: bool, digest: bool) -> dict[str, Any]:
    """Full sync into a fresh SQLite file (and the rerun); seconds, counts and optionally the store digest."""
    from connector.app import App
    from connector.settings import Connection, Settings
    from connector.store.db import upgrade
    from connector.sync.engine import SyncEngine

    os.environ["BENCH_REPLAY_KEY"] = "replay"
    conn = Connection(
        name="bench",
        provider="factuursturen",
        base_url="http://replay.invalid/api/v1",
        username="replay",
        api_key_env="BENCH_REPLAY_KEY",
        sandbox=True,
        safety_lag_seconds=0,
        rate_limit=1_000_000_000,
    )
    with tempfile.TemporaryDirectory() as tmp:
        app = App(Settings(database_url=f"sqlite:///{tmp}/replay.db"), connections=[conn])
        upgrade(app.engine)
        engine = app.migrated_engine()

        def sync() -> Any:
            provider = app.provider(conn, transport=replay(answers))
            try:
                return SyncEngine(engine, app.clock).sync(
                    "bench", provider, app.mapping("factuursturen"), options=app.pull_options(conn)
                )
            finally:
                provider.close()

        started, cpu = time.perf_counter(), time.process_time()
        first = sync()
        result: dict[str, Any] = {
            "full_seconds": round(time.perf_counter() - started, 3),
            "full_cpu_seconds": round(time.process_time() - cpu, 3),
            "records_written": first.totals.created,
            "requests": first.requests,
        }
        if not full_only:
            started = time.perf_counter()
            second = sync()
            result["rerun_seconds"] = round(time.perf_counter() - started, 3)
            result["rerun_written"] = second.totals.created + second.totals.updated
        if digest:
            engine.dispose()
            result["store_digest"] = store_digest(Path(tmp) / "replay.db")
    return result


def main() -> None:
    """Record or replay, per the options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=20_000, help="seeded invoices (default 20,000)")
    parser.add_argument("--record", action="store_true", help="fetch the sandbox's answers first")
    parser.add_argument("--full-only", action="store_true", help="skip the no-change rerun")
    parser.add_argument("--digest", action="store_true", help="also print a hash of the stored contents")
    parser.add_argument("--answers", type=Path, help="answers file (default: replay_<invoices>.json in the temp dir)")
    args = parser.parse_args()
    path = args.answers or Path(tempfile.gettempdir()) / f"replay_{args.invoices}.json"
    if args.record or not path.exists():
        record(args.invoices, path)
    print(json.dumps(run(json.loads(path.read_text(encoding="utf-8")), args.full_only, args.digest)))


if __name__ == "__main__":
    main()
