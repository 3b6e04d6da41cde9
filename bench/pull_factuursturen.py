"""Benchmark (not a test): pull N invoices (3 lines each) and N/10 clients from the FactuurSturen sandbox
into a fresh SQLite file, rate limit off; then a no-change rerun. Prints records/s, requests, peak RSS.

    python bench/pull_factuursturen.py                 # 10,000 and 100,000 invoices, each in its own process
    python bench/pull_factuursturen.py --invoices 20000 --only

The sandbox runs in a separate process so the numbers measure the connector, not the simulator.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from _common import measured_pull, run_child


def child(invoices: int) -> dict[str, Any]:
    """One measured run in this process: full sync, then a no-change rerun."""
    from connector.settings import Connection

    return measured_pull(
        "factuursturen", invoices,
        ["--rate-limit", "1000000000"],  # never binds; the connector still paces by the headers it sees
        "BENCH_FS_KEY",
        lambda info: Connection(
            name="bench",
            provider="factuursturen",
            base_url=info["base_url"],
            username=info["username"],
            api_key_env="BENCH_FS_KEY",
            sandbox=True,
            safety_lag_seconds=0,
            rate_limit=1_000_000_000,  # the sandbox allows this many; otherwise the pacer keeps 250/hour
        ),
    )


def main() -> None:
    """Run the benchmark sizes in child processes and print one comparison."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, action="append", help="sizes to run (default 10000 and 100000)")
    parser.add_argument("--only", action="store_true", help="run in this process and print JSON (internal)")
    args = parser.parse_args()
    if args.only:
        print(json.dumps(child(args.invoices[0])))
        return
    results = [run_child(__file__, "--invoices", str(n)) for n in args.invoices or [10_000, 100_000]]
    for r in results:
        print(
            f"{r['invoices']:>7} invoices + {r['clients']:>6} clients: full {r['full_seconds']:.1f}s "
            f"= {r['invoices_per_second']:,.0f} invoices/s, connector CPU {r['full_cpu_seconds']:.1f}s "
            f"({r['full_requests']} requests, "
            f"{r['records_written']:,} records); no-change rerun {r['rerun_seconds']:.1f}s "
            f"({r['rerun_seconds'] / r['full_seconds']:.0%} of full, {r['rerun_requests']} requests, "
            f"{r['rerun_written']} written); peak RSS {r['peak_rss_mb']:.0f} MB"
        )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        print(
            f"peak RSS ratio {large['invoices']}/{small['invoices']}: {large['peak_rss_mb'] / small['peak_rss_mb']:.2f}"
        )


if __name__ == "__main__":
    main()
