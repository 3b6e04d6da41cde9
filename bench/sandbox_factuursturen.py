"""Benchmark (not a test): how fast the FactuurSturen sandbox serves invoice pages.

Seeds N invoices (3 lines each), then one `httpx.Client` fetches every page of `count` invoices
sequentially (`/api/v1/invoices?start=..&count=..`, `Accept: application/json`, rate limit off), reading
bytes only. Seeding serializes every invoice once (the JSON bytes are cached per record and rebuilt only
when the record changes), so the first pass is as fast as the later ones. Prints the seeding time, then
seconds, invoices/s and MB/s per pass.

    python bench/sandbox_factuursturen.py                     # 100,000 invoices, sandbox in a subprocess
    python bench/sandbox_factuursturen.py --invoices 20000 --in-process
"""

from __future__ import annotations

import argparse
import subprocess
import time
from typing import Any

import httpx
from _common import start_sandbox


def _subprocess_sandbox(invoices: int) -> tuple[subprocess.Popen[str], dict[str, Any], float]:
    started = time.perf_counter()
    proc, info = start_sandbox("factuursturen", invoices, max(1, invoices // 10), "--no-rate-limit")
    return proc, info, time.perf_counter() - started


def _one_pass(client: httpx.Client, invoices: int, count: int) -> tuple[float, int, int]:
    """Fetch every page once; returns (seconds, invoices seen, bytes)."""
    started = time.perf_counter()
    total_bytes = pages = 0
    for start in range(0, invoices, count):
        response = client.get("/invoices", params={"start": start, "count": count})
        response.raise_for_status()
        total_bytes += len(response.content)
        pages += 1
    seconds = time.perf_counter() - started
    return seconds, min(invoices, pages * count), total_bytes


def main() -> None:
    """Run the benchmark and print one line per pass."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000, help="seeded invoices (default 100,000)")
    parser.add_argument("--count", type=int, default=500, help="invoices per page (default 500)")
    parser.add_argument("--passes", type=int, default=3, help="passes over all pages (default 3)")
    parser.add_argument("--in-process", action="store_true", help="serve from this process (shares the GIL)")
    args = parser.parse_args()

    proc = None
    if args.in_process:
        from sandboxes.factuursturen import FactuurSturenSandbox

        started = time.perf_counter()
        sandbox = FactuurSturenSandbox(
            invoices=args.invoices, clients=max(1, args.invoices // 10), seed=1, rate_limit=None
        ).start()
        seeded = time.perf_counter() - started
        info: dict[str, Any] = {"base_url": sandbox.base_url, **sandbox.credentials}
    else:
        proc, info, seeded = _subprocess_sandbox(args.invoices)
    print(f"seeded {args.invoices:,} invoices and started in {seeded:.2f}s")
    try:
        with httpx.Client(
            base_url=info["base_url"],
            auth=(info["username"], info["api_key"]),
            headers={"Accept": "application/json"},
            timeout=60,
        ) as client:
            for n in range(1, args.passes + 1):
                seconds, seen, size = _one_pass(client, args.invoices, args.count)
                print(
                    f"pass {n}: {seen:,} invoices in {seconds:.2f}s = {seen / seconds:,.0f} invoices/s, "
                    f"{size / seconds / 1e6:,.1f} MB/s ({size / 1e6:,.1f} MB, {size / max(seen, 1):,.0f} B/invoice)"
                )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
        else:
            sandbox.stop()


if __name__ == "__main__":
    main()
