"""What the pull benchmarks share: the sandbox in a subprocess, one measured pull + rerun, child processes.

Imported by the scripts beside it (``python bench/pull_<name>.py`` puts ``bench/`` on ``sys.path``); it
puts the repository root there too, so ``connector`` imports without installing anything.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

__all__ = ["REPO", "measured_pull", "run_child", "start_sandbox"]


def start_sandbox(service: str, invoices: int, clients: int,
                  *options: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start ``python -m sandboxes.<service>`` (any port, seed 1) and read its JSON line.

    Args:
        service: the sandbox package name.
        invoices: seeded invoices.
        clients: seeded clients (customers).
        options: further command-line options of that sandbox (rate limit, flavour, ...).

    Returns:
        The process (the caller terminates it) and the printed line (base_url, credentials, ...).
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", f"sandboxes.{service}", "--port", "0", "--clients", str(clients),
         "--invoices", str(invoices), "--seed", "1", *options],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def measured_pull(service: str, invoices: int, sandbox_options: Sequence[str], key_env: str,
                  connection: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """One measured run in this process: seed a sandbox, full sync into a fresh SQLite file, no-change rerun.

    Args:
        service: the sandbox package name.
        invoices: seeded invoices (clients: a tenth of them, at least one).
        sandbox_options: further options of the sandbox process.
        key_env: the environment variable the connection reads the sandbox's ``api_key`` from.
        connection: builds the ``Connection`` named ``bench`` from the sandbox's JSON line.

    Returns:
        Sizes, seconds, CPU seconds, requests, records and peak RSS (MB) of this process.
    """
    from connector.app import App
    from connector.settings import Settings
    from connector.store.db import upgrade

    clients = max(invoices // 10, 1)
    proc, info = start_sandbox(service, invoices, clients, *sandbox_options)
    try:
        os.environ[key_env] = info["api_key"]
        conn = connection(info)
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
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(script: str, *args: str) -> dict[str, Any]:
    """Run ``script --only *args`` in a fresh interpreter (its own peak RSS) and parse its last JSON line."""
    out = subprocess.run([sys.executable, script, "--only", *args], capture_output=True, text=True, check=True,
                         cwd=REPO)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result
