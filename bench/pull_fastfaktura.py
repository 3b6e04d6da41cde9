"""Benchmark (not a test): pull N invoices (3 lines each) and N/10 clients from the FastFaktura sandbox into a
fresh SQLite file, rate limits off; then a no-change rerun. Prints records/s, requests, peak RSS.

    python bench/pull_fastfaktura.py                          # 50,000 invoices + 5,000 clients, 1 and 4 workers
    python bench/pull_fastfaktura.py --invoices 10000 --workers 4

Every invoice costs one detail request on the first pull (the list has no lines), so the first pull is
bound by the connector's per-request cost (httpx + HttpSession, about 1 ms of CPU per request on a
2-core test machine); the rerun reads list pages only. The sandbox runs in a separate process so the
numbers measure the connector, not the simulator. `--workers` sets the provider's ``detail_workers``
option (repeat it to compare settings; each run is its own process with its own sandbox).

Measured on the 2-core test machine (other jobs running, so +-20 %), 50,000 invoices + 5,000 clients:
full pull 77-80 s = 630-650 invoices/s (1,200-1,240 records/s with lines' invoices, clients and
payments; 52,203 requests; connector CPU 57-59 s, about 1.15 ms per invoice), no-change rerun 5.3-6.5 s
= 7-8 % of the full pull (2,203 list requests, nothing written), peak RSS 88-90 MB; 1 and 4 detail
workers within noise of each other (the connector process is CPU-bound, so threads only overlap the
sandbox's share). FactuurSturen on the same machine at the same time: 2,000-3,000 invoices/s, connector
CPU about 0.3 ms per invoice (500 invoices per request) - FastFaktura's one request per invoice costs
about 0.85 ms of that 1.15 ms.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from _common import measured_pull, run_child


def child(invoices: int, workers: int, pages_per_batch: int) -> dict[str, Any]:
    """One measured run in this process: full sync, then a no-change rerun."""
    from connector.settings import Connection

    numbers = measured_pull(
        "fastfaktura", invoices, ["--no-rate-limit"], "BENCH_FF_KEY",
        lambda info: Connection(
            name="bench",
            provider="fastfaktura",
            base_url=info["base_url"],
            api_key_env="BENCH_FF_KEY",
            sandbox=True,
            safety_lag_seconds=0,
            rate_limit=1_000_000_000,  # "off": otherwise the pacer keeps the service's 120/minute
            options={"detail_workers": workers, "list_pages_per_batch": pages_per_batch},
        ),
    )
    return {**numbers, "workers": workers}


def main() -> None:
    """Run each setting in a child process and print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=50_000, help="seeded invoices (default 50,000)")
    parser.add_argument("--workers", type=int, action="append", help="detail_workers settings (default 1 and 4)")
    parser.add_argument("--pages-per-batch", type=int, default=4, help="list_pages_per_batch (default 4)")
    parser.add_argument("--only", action="store_true", help="run in this process and print JSON (internal)")
    args = parser.parse_args()
    if args.only:
        print(json.dumps(child(args.invoices, (args.workers or [4])[0], args.pages_per_batch)))
        return
    for workers in args.workers or [1, 4]:
        r = run_child(__file__, "--invoices", str(args.invoices), "--workers", str(workers),
                      "--pages-per-batch", str(args.pages_per_batch))
        print(
            f"{r['invoices']:>7,} invoices + {r['clients']:>6,} clients, {r['workers']} detail workers: "
            f"full {r['full_seconds']:.1f}s = {r['invoices_per_second']:,.0f} invoices/s "
            f"({r['records_per_second']:,.0f} records/s, {r['records_written']:,} records), connector CPU "
            f"{r['full_cpu_seconds']:.1f}s, {r['full_requests']:,} requests; no-change rerun "
            f"{r['rerun_seconds']:.1f}s ({r['rerun_seconds'] / r['full_seconds']:.1%} of full, "
            f"{r['rerun_requests']:,} requests, {r['rerun_written']} written); peak RSS {r['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
