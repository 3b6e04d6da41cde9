"""Chaos campaigns: many seeded pull (or push) trials judged by the oracle of tests/chaos, with a summary table.

    python bench/chaos.py                                   # every readable provider x every storm kind
    python bench/chaos.py --provider hydra --trials 30 --seed 100 --backend postgres
    python bench/chaos.py --push --provider facturalia --trials 20
    python bench/chaos.py --provider factuursturen --seed 2 --storm none --trials 1   # replay one trial

Pull trials: `--trials` per provider and storm kind (seeds `--seed`, `--seed`+1, ...). Push trials: `--trials`
per target. Every failing trial prints its report (findings, replay command, steps). The table counts, per
provider and storm: trials, killed runs, lost, extra, wrong, undeleted, wrongly deleted (records, after the
promised rerun), ok-but-wrong (trials whose rerun exited 0 with the store wrong), needs --full, broken,
rerun failed, wrong in between (a run that completed, exit 0, had soft-deleted records the service holds).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chaos.pull import READABLE, STORMS, pull_trial
from tests.chaos.push import WRITABLE, push_trial
from tests.chaos.services import Service, start_service

POSTGRES_URL = os.environ.get("CONNECTOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A fresh store: a SQLite file, or a private PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'store.db'}"
        return
    import psycopg

    schema = f"chaos_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


COLUMNS = ("trials", "killed", "lost", "extra", "wrong", "undeleted", "wrongly_deleted", "ok_but_wrong",
           "needs_full", "broken", "rerun_failed", "wrong_in_between")
PUSH_COLUMNS = ("trials", "killed", "drops", "duplicates", "missing", "failed_trials")


Table = dict[tuple[str, str], dict[str, int]]


def pull_campaign(args: argparse.Namespace, root: Path, table: Table) -> None:
    """Run the pull trials, counting into `table` (rows keyed by provider and storm)."""
    providers = [args.provider] if args.provider else list(READABLE)
    storms = [args.storm] if args.storm else list(STORMS)
    for provider in providers:
        service = start_service(provider)
        try:
            for storm in storms:
                for seed in range(args.seed, args.seed + args.trials):
                    workdir = root / f"{provider}-{storm}-{seed}"
                    with database(args.backend, workdir.parent) as url:
                        workdir.mkdir(parents=True, exist_ok=True)
                        result = pull_trial(service, seed, storm, url.replace("store.db", f"{workdir.name}.db"),
                                            workdir, backend=args.backend)
                    row = table[(provider, storm)]
                    row["trials"] += 1
                    row["killed"] += result.killed
                    for name, count in result.findings.counts().items():
                        row[name] += count
                    row["ok_but_wrong"] += int(bool(result.findings) and result.rerun_exit == 0)
                    if result.verdict != "ok":
                        row[result.verdict] += 1
                        print(result.report(), "\n", flush=True)
                    else:
                        print(f"ok   {provider} seed={seed} storm={storm} killed={result.killed}", flush=True)
        finally:
            service.stop()


def push_campaign(args: argparse.Namespace, root: Path, table: Table) -> None:
    """Run the push trials, counting into `table` (rows keyed by target and "drop+kill")."""
    source = start_service("factuursturen")
    try:
        for target_name in [args.provider] if args.provider else list(WRITABLE):
            target: Service = start_service(target_name)
            try:
                for seed in range(args.seed, args.seed + args.trials):
                    workdir = root / f"push-{target_name}-{seed}"
                    with database(args.backend, root) as url:
                        result = push_trial(source, target, seed, url.replace("store.db", f"{workdir.name}.db"),
                                            workdir, backend=args.backend)
                    row = table[(target_name, "drop+kill")]
                    row["trials"] += 1
                    row["killed"] += result.killed
                    row["drops"] += result.drops
                    row["duplicates"] += len(result.duplicates)
                    row["missing"] += len(result.missing)
                    row["failed_trials"] += int(not result.ok)
                    print(result.report() if not result.ok else f"ok   push {target_name} seed={seed} "
                          f"killed={result.killed} drops={result.drops}", flush=True)
            finally:
                target.stop()
    finally:
        source.stop()


def print_table(table: Table) -> None:
    """The summary: one row per (provider, storm), with a total row."""
    if not table:
        return
    columns = list(next(iter(table.values())))
    print("\n| provider | storm | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    total = dict.fromkeys(columns, 0)
    for (provider, storm), row in table.items():
        print(f"| {provider} | {storm} | " + " | ".join(str(row[c]) for c in columns) + " |")
        for c in columns:
            total[c] += row[c]
    print("| **total** | | " + " | ".join(str(total[c]) for c in columns) + " |")


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the campaign, print the table; exit 1 when any trial failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", help="one provider (pull: factuursturen, fastfaktura, hydra; push: any)")
    parser.add_argument("--trials", type=int, default=30, help="trials per provider and storm kind (push: per target)")
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    parser.add_argument("--storm", choices=STORMS, help="only this storm kind")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--push", action="store_true", help="push trials instead of pull trials")
    args = parser.parse_args(argv)
    started = time.monotonic()
    columns = PUSH_COLUMNS if args.push else COLUMNS
    table: Table = defaultdict(lambda: dict.fromkeys(columns, 0))
    try:
        with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
            (push_campaign if args.push else pull_campaign)(args, Path(tmp), table)
    except KeyboardInterrupt:  # a long campaign stopped early still reports what it ran
        print("\ninterrupted: the table counts the trials finished so far")
    print_table(table)
    last = args.seed + args.trials - 1
    print(f"\n{time.monotonic() - started:.0f} s, backend {args.backend}, seeds {args.seed}..{last}")
    failed = any(row.get(name) for row in table.values()
                 for name in ("failed_trials", "needs_full", "broken", "rerun_failed", "wrong_in_between"))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
