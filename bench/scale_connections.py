"""Scale-out benchmark: N connections shared by R `connector run` replicas (processes) on PostgreSQL.

    python bench/scale_connections.py --connections 100 --replicas 3
    python bench/scale_connections.py --connections 1000 --replicas 3 --interval 120 --observe 60
    python bench/scale_connections.py --connections 100 --rate-limit 250   # the sandbox counts like the service
    python bench/scale_connections.py --idle 0,100,1000      # one replica's memory per connection, jobs not due

Every connection is a FactuurSturen connection to one sandbox process (seeded small; its rate limit off unless
--rate-limit: the account is shared, so a real limit throttles all of them together), pulling its invoices every
--interval seconds. The replicas start one after the other; the script prints the leases each holds over time,
then per replica its threads, resident memory and job queue delay (due time -> start, from its /metrics) once
the shares settled and --observe seconds passed; then SIGKILLs one replica and starts it again, printing how
long each rebalance took (until every replica holds its fair share within one) and how many leases moved.
With --idle, one replica per count instead, its first pulls spread over an hour: its memory and threads 15 s
after it started, which is what holding the connections costs, apart from running their jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import create_engine, text

from connector.store import leases
from connector.store.db import make_engine, upgrade
from tests.daemon.harness import DaemonProcess

POSTGRES_URL = os.environ.get("CONNECTOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
KEY_ENV = "BENCH_FS_KEY"


def _sandbox(rate_limit: int | None) -> tuple[subprocess.Popen[str], dict[str, str]]:
    limit = ["--rate-limit", str(rate_limit)] if rate_limit else ["--no-rate-limit"]
    proc = subprocess.Popen([sys.executable, "-m", "sandboxes.factuursturen", "--port", "0", "--clients", "5",
                             "--invoices", "20", "--seed", "1", *limit], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def _connections(path: Path, info: dict[str, str], count: int, interval: float) -> None:
    username = info["username"]
    blocks = []
    for i in range(count):
        blocks.append(
            f'[connections.c{i:04d}]\nprovider = "factuursturen"\nbase_url = "{info["base_url"]}"\n'
            f'username = "{username}"\napi_key_env = "{KEY_ENV}"\nsandbox = true\nstreams = ["invoices"]\n'
            f'pull_interval_seconds = {interval}\njitter_seconds = {interval / 4}\nsweep_cron = ""\n'
            f"audit_interval_seconds = 0\nsafety_lag_seconds = 0\n"
        )
    path.write_text("\n".join(blocks), encoding="utf-8")


def _proc_status(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        key, _, value = line.partition(":")
        if key in ("Threads", "VmRSS"):
            found[key] = int(value.split()[0])
    return found


def _scrape(url: str) -> dict[str, float]:
    samples = {}
    for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def _quantile(samples: dict[str, float], q: float) -> float:
    buckets = sorted((float(k.split('le="')[1].rstrip('"}')), v) for k, v in samples.items()
                     if k.startswith("connector_job_queue_delay_seconds_bucket") and "+Inf" not in k)
    total = samples.get("connector_job_queue_delay_seconds_count", 0.0)
    for bound, count in buckets:
        if total and count >= q * total:
            return bound
    return float("inf")


class Bench:
    """The replicas, the store and the lease timeline."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str], workdir: Path, url: str) -> None:
        self.args, self.env, self.workdir = args, env, workdir
        self.engine = make_engine(url)
        self.replicas: dict[str, DaemonProcess] = {}
        self.t0 = time.monotonic()
        self.last_line = ""

    def start(self, name: str) -> None:
        """Start replica `name`."""
        log = self.workdir / f"{name}-{len(self.replicas)}-{time.monotonic():.0f}.log"
        self.replicas[name] = DaemonProcess.start(log, {**self.env, "CONNECTOR_REPLICA_ID": name})

    def holders(self) -> Counter[str]:
        """Leases per holder now."""
        return Counter(h for h, _ in leases.holders(self.engine, datetime.now(UTC)).values())

    def timeline(self) -> Counter[str]:
        """Print the leases per replica when they changed; return them."""
        counts = self.holders()
        line = " ".join(f"{name}={counts.get(name, 0)}" for name in sorted(self.replicas))
        if line != self.last_line:
            print(f"  t={time.monotonic() - self.t0:7.1f}s  leases {line}", flush=True)
            self.last_line = line
        return counts

    def settle(self, live: list[str], timeout: float = 600) -> float:
        """Seconds until every lease is held and every live replica holds the floor or the ceiling of N / R."""
        started = time.monotonic()
        low, high = self.args.connections // len(live), -(-self.args.connections // len(live))
        while time.monotonic() - started < timeout:
            counts = self.timeline()
            if sum(counts.values()) == self.args.connections and all(
                    low <= counts.get(name, 0) <= high for name in live):
                return time.monotonic() - started
            time.sleep(0.25)
        raise SystemExit(f"no balance within {timeout} s: {dict(self.holders())}")

    def report(self, names: list[str]) -> None:
        """Threads, RSS, held and queue delay of each live replica."""
        print(f"  {'replica':<8} {'held':>5} {'threads':>7} {'RSS MiB':>8} {'runs':>6} {'delay mean':>10} "
              f"{'p50<=':>6} {'p90<=':>6}")
        for name in names:
            daemon = self.replicas[name]
            status = _proc_status(daemon.proc.pid)
            samples = _scrape(daemon.metrics_url())
            count = samples.get("connector_job_queue_delay_seconds_count", 0.0)
            mean = samples.get("connector_job_queue_delay_seconds_sum", 0.0) / count if count else 0.0
            print(f"  {name:<8} {samples.get('connector_connections_held', 0):>5.0f} {status['Threads']:>7} "
                  f"{status['VmRSS'] / 1024:>8.1f} {count:>6.0f} {mean:>9.2f}s {_quantile(samples, 0.5):>5}s "
                  f"{_quantile(samples, 0.9):>5}s", flush=True)


def _idle(counts: list[int], info: dict[str, str], url: str, workdir: Path) -> None:
    """One replica per count, no job due yet: RSS and threads 15 s after its start."""
    print(f"{'connections':>11} {'RSS MiB':>8} {'threads':>7}", flush=True)
    base: tuple[int, float] | None = None
    for count in counts:
        conf = workdir / f"idle-{count}.toml"
        _connections(conf, info, count, 3600.0)
        conf.write_text(conf.read_text(encoding="utf-8").replace("jitter_seconds = 900.0", "jitter_seconds = 3600.0"),
                        encoding="utf-8")
        daemon = DaemonProcess.start(workdir / f"idle-{count}.log", {
            "CONNECTOR_DATABASE_URL": url, "CONNECTOR_CONNECTIONS_FILE": str(conf), KEY_ENV: os.environ[KEY_ENV]})
        try:
            while not any(e.get("event") == "daemon started" for e in daemon.events()):
                daemon.assert_running()
                time.sleep(0.25)
            time.sleep(15)
            status = _proc_status(daemon.proc.pid)
        finally:
            daemon.terminate(timeout=120)
        rss = status["VmRSS"] / 1024
        per = ""
        if base and count > base[0]:
            per = f"  {(rss - base[1]) * 1024 / (count - base[0]):.1f} KiB per connection"
        print(f"{count:>11} {rss:>8.1f} {status['Threads']:>7}{per}", flush=True)
        base = base or (count, rss)


def main() -> None:
    """Run the benchmark and print its numbers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--interval", type=float, default=60.0, help="pull interval of every connection (s)")
    parser.add_argument("--ttl", type=float, default=10.0, help="CONNECTOR_LEASE_TTL_SECONDS")
    parser.add_argument("--observe", type=float, default=60.0, help="seconds of running after the first balance")
    parser.add_argument("--rate-limit", type=int, default=None, help="sandbox requests per hour (default: off)")
    parser.add_argument("--idle", default=None, help="comma-separated connection counts: idle memory only")
    args = parser.parse_args()

    sandbox, info = _sandbox(args.rate_limit)
    os.environ[KEY_ENV] = info["api_key"]
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    bench: Bench | None = None
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
            workdir = Path(tmp)
            if args.idle:
                _idle([int(n) for n in args.idle.split(",")], info, url, workdir)
                return
            conf = workdir / "connections.toml"
            _connections(conf, info, args.connections, args.interval)
            env = {"CONNECTOR_DATABASE_URL": url, "CONNECTOR_CONNECTIONS_FILE": str(conf),
                   "CONNECTOR_LEASE_TTL_SECONDS": str(args.ttl), "CONNECTOR_WORKERS": str(args.workers),
                   KEY_ENV: os.environ[KEY_ENV]}
            bench = Bench(args, env, workdir, url)
            names = [f"r{i}" for i in range(args.replicas)]
            print(f"{args.connections} connections (invoices every {args.interval:g} s), {args.replicas} replicas "
                  f"x {args.workers} workers, lease TTL {args.ttl:g} s, sandbox rate limit "
                  f"{args.rate_limit or 'off'}", flush=True)
            for name in names:
                bench.start(name)
                while not any(e.get("event") == "daemon started" for e in bench.replicas[name].events()):
                    bench.replicas[name].assert_running()
                    bench.timeline()
                    time.sleep(0.25)
            joined = bench.settle(names)
            print(f"join: balanced {joined:.1f} s after the last replica started", flush=True)
            deadline = time.monotonic() + args.observe
            while time.monotonic() < deadline:
                bench.timeline()
                time.sleep(1)
            bench.report(names)

            before = dict(leases.holders(bench.engine, datetime.now(UTC)))
            victim = names[-1]
            bench.replicas[victim].kill()
            print(f"kill: SIGKILL {victim}", flush=True)
            survivors = names[:-1]
            killed = bench.settle(survivors)
            after = dict(leases.holders(bench.engine, datetime.now(UTC)))
            moved = sum(1 for n in after if before.get(n, ("",))[0] != after[n][0])
            print(f"kill: balanced {killed:.1f} s after the kill (TTL {args.ttl:g} s); {moved} leases moved "
                  f"({moved / args.connections:.0%})", flush=True)

            bench.start(victim)
            bench.replicas[victim].metrics_url(timeout=300)
            rejoined = bench.settle(names)
            final = dict(leases.holders(bench.engine, datetime.now(UTC)))
            moved = sum(1 for n in final if after.get(n, ("",))[0] != final[n][0])
            print(f"restart: balanced {rejoined:.1f} s after {victim} served /metrics again; {moved} leases moved "
                  f"({moved / args.connections:.0%})", flush=True)
            time.sleep(min(args.observe, args.interval))
            bench.report(names)
            for daemon in bench.replicas.values():
                if daemon.proc.poll() is None:
                    daemon.terminate(timeout=120)
    finally:
        if bench is not None:
            for daemon in bench.replicas.values():
                daemon.ensure_stopped()
            bench.engine.dispose()
        sandbox.terminate()
        sandbox.wait(timeout=30)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
