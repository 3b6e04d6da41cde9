"""Benchmark (not a test): 600 pushes to FactuurSturen under 250 per 6 s window, in real time.

What tests/push/test_push_pacing.py proves on the sandbox's clock (no 403, every window's budget spent), here
against the wall clock: whether this machine sends fast enough to fill a short window. Prints the requests
counted per window (from the sandbox's request log) and the share of the budget each middle window used, as
JSON. On a loaded machine the share drops: that is the machine, which is why the test does not measure it.

    python bench/push_pacing_factuursturen.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support import FsSandbox, make_app  # noqa: E402

LIMIT, WINDOW, PHASE = 250, 6.0, 2.5
CLIENTS = 630  # seed 3 archives some, which are not pushed


def main() -> None:
    """Push, then print the requests per window and the least share of a middle window's budget used."""
    source, target = FsSandbox.start(), FsSandbox.start()
    try:
        source.reset()
        target.reset()
        source.seed(seed=3, clients=CLIENTS, invoices=0)
        target.post("/ratelimit", {"limit": LIMIT, "window_seconds": WINDOW, "phase_seconds": PHASE})
        dst = target.connection("dst", receives=["client"], rate_limit=LIMIT, rate_window_seconds=WINDOW,
                                rate_reserve=0)
        with tempfile.TemporaryDirectory() as tmp:
            app = make_app(f"sqlite:///{tmp}/bench.db", source.connection("src"), dst)
            app.sync("src")
            target.clear_requests()
            began = time.monotonic()
            [result] = app.push("dst")
            seconds = time.monotonic() - began
        log = target.requests()
        per_window = Counter(int((r["t"] - PHASE) // WINDOW) for r in log)
        used = [per_window[w] for w in range(min(per_window), max(per_window) + 1)]
        middle = used[1:-1]
        print(json.dumps({
            "pushed": result.planned, "seconds": round(seconds, 1), "per_window": used,
            "refused": sum(r["status"] == 403 for r in log),
            "least_middle_share": round(min(middle) / LIMIT, 3) if middle else None,
        }))
    finally:
        source.stop()
        target.stop()


if __name__ == "__main__":
    main()
