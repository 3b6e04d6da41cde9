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
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _start_sandbox(invoices: int, clients: int, flavour: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector.sandbox.hydra", "--port", "0", "--clients", str(clients),
         "--invoices", str(invoices), "--seed", "1", "--flavour", flavour],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info


def child(invoices: int, flavour: str) -> dict[str, float]:
    """One measured run in this process: full sync, then a no-change rerun."""
    from connector.app import App
    from connector.settings import Connection, Settings
    from connector.store.db import upgrade

    clients = max(invoices // 10, 1)
    proc, info = _start_sandbox(invoices, clients, flavour)
    try:
        os.environ["BENCH_HY_KEY"] = info["api_key"]
        conn = Connection(name="bench", provider="hydra", base_url=info["base_url"], api_key_env="BENCH_HY_KEY",
                          sandbox=True, safety_lag_seconds=0, page_size=100)
        with tempfile.TemporaryDirectory() as tmp:
            app = App(Settings(database_url=f"sqlite:///{tmp}/bench.db"), connections=[conn])
            upgrade(app.engine)
            started, cpu_started = time.perf_counter(), time.process_time()
            first = app.sync("bench")
            full_seconds = time.perf_counter() - started
            full_cpu = time.process_time() - cpu_started
            started = time.perf_counter()
            second = app.sync("bench")
            rerun_seconds = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "invoices": invoices,
        "clients": clients,
        "full_seconds": full_seconds,
        "full_cpu_seconds": full_cpu,
        "invoices_per_second": invoices / full_seconds,
        "records_per_second": first.totals.created / full_seconds,
        "records_written": first.totals.created,
        "full_requests": first.requests,
        "rerun_seconds": rerun_seconds,
        "rerun_read": second.totals.read,
        "rerun_written": second.totals.created + second.totals.updated,
        "rerun_requests": second.requests,
        "peak_rss_mb": rss_mb,
    }


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
        out = subprocess.run([sys.executable, __file__, "--only", "--invoices", str(n), "--flavour", args.flavour],
                             capture_output=True, text=True, check=True, cwd=REPO)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['invoices']:>7} invoices + {r['clients']:>6} customers: full {r['full_seconds']:.1f}s "
            f"= {r['invoices_per_second']:,.0f} invoices/s ({r['records_per_second']:,.0f} records/s: customers, "
            f"invoices, payments), connector CPU {r['full_cpu_seconds']:.1f}s ({r['full_requests']} requests, "
            f"{r['records_written']:,} records); no-change rerun {r['rerun_seconds']:.2f}s ({r['rerun_requests']} "
            f"requests, {r['rerun_read']} read, {r['rerun_written']} written); peak RSS {r['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
