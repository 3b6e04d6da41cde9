"""Benchmark (not a test): pull N invoices (3 rows each) and N/10 customers from the Hydra sandbox into a fresh
SQLite file (no rate limit: the app has none); then a no-change rerun. Prints records/s, requests, peak RSS.

    python bench/pull_hydra.py                    # 50,000 invoices + 5,000 customers, in a child process
    python bench/pull_hydra.py --invoices 10000 --flavour 4

The sandbox runs in a separate process so the numbers measure the connector, not the simulator. Every
page of 100 invoices costs three requests or more (the invoices, their rows, their transactions): the
app pages at most 100 records, so 50,000 invoices with 150,000 rows take about 2,550 requests.

Measured (2 cores, shared with other jobs): 50,000 invoices + 5,000 customers in 21-28 s = 1,800-2,400
invoices/s (3,300-4,300 records/s), 2,552 requests, peak RSS 90 MB; no-change rerun 0.1-0.2 s with 8
requests. bench/pull_factuursturen.py --invoices 50000 on the same machine at the same time: 2,800-3,100
invoices/s.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from _common import measured_pull, run_child


def child(invoices: int, flavour: str) -> dict[str, Any]:
    """One measured run in this process: full sync, then a no-change rerun."""
    from connector.settings import Connection

    return measured_pull(
        "hydra", invoices, ["--flavour", flavour], "BENCH_HY_KEY",
        lambda info: Connection(name="bench", provider="hydra", base_url=info["base_url"],
                                api_key_env="BENCH_HY_KEY", sandbox=True, safety_lag_seconds=0, page_size=100),
    )


def main() -> None:
    """Run the benchmark in a child process and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, action="append", help="sizes to run (default 50000)")
    parser.add_argument("--flavour", choices=("3", "4"), default="3", help="API Platform flavour of the sandbox")
    parser.add_argument("--only", action="store_true", help="run in this process and print JSON (internal)")
    args = parser.parse_args()
    if args.only:
        print(json.dumps(child(args.invoices[0], args.flavour)))
        return
    for n in args.invoices or [50_000]:
        r = run_child(__file__, "--invoices", str(n), "--flavour", args.flavour)
        print(
            f"{r['invoices']:>7} invoices + {r['clients']:>6} customers: full {r['full_seconds']:.1f}s "
            f"= {r['invoices_per_second']:,.0f} invoices/s ({r['records_per_second']:,.0f} records/s: customers, "
            f"invoices, payments), connector CPU {r['full_cpu_seconds']:.1f}s ({r['full_requests']} requests, "
            f"{r['records_written']:,} records); no-change rerun {r['rerun_seconds']:.2f}s ({r['rerun_requests']} "
            f"requests, {r['rerun_read']} read, {r['rerun_written']} written); peak RSS {r['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
