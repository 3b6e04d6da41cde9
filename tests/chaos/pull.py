"""Seeded pull trials: kill `connector sync` at random moments and on events, storm it, change the service
meanwhile, then rerun to completion and ask the oracle.

A trial is determined by (provider, seed, storm) up to the timing of its kills (the seed picks every
act, fault and kill rule; a kill by time or a few ms after a request lands where the process happens to
be): `python bench/chaos.py --provider P --seed S --storm K --trials 1` replays it. The rerun protocol is
what the product promises: an incremental `connector sync` run twice (nothing changes in between: a
resumed run may only finish the window the killed run had cut, catching up is the next run's job), then
`--stream sweep` where deletions are only found by a sweep (FactuurSturen, hydra); anything still wrong is
a finding. `--full` runs only afterwards, to tell "converges only after --full" (`needs_full`) from "never
converges" (`broken`).

Each round of a trial: a person's changes, a storm's fault rules, then one `connector sync` ended by one of
* time: SIGKILL after a random 0.8-3 s (the process starts in about 1 s);
* requests: SIGKILL once the sandbox's request log holds n more requests (sometimes a few ms later, while
  the page just answered is being mapped and written);
* paging: an invoice list request is held for 1 s (a `slow` rule); meanwhile the person deletes a burst
  of invoices and creates one; then SIGKILL as the held page lands (0-50 ms after), or the run finishes.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.chaos.oracle import Findings, compare, store_snapshot, truth_snapshot
from tests.chaos.person import Person
from tests.chaos.runner import Cli
from tests.chaos.services import Service

__all__ = ["READABLE", "STORMS", "PullResult", "pull_trial", "storm_rules"]

READABLE = ("factuursturen", "fastfaktura", "hydra")
STORMS = ("none", "status", "timeout", "slow", "storm429", "storm403", "drop_after_commit", "html",
          "truncated_json", "page_shift")
SWEPT = {"factuursturen", "hydra"}  # deletions there are found by the sweep stream (or --full)
CONNECTION = "src"

# Seeded account size and page size per provider: several pages of each listing, small enough to be quick.
_SIZE = {"factuursturen": ({"clients": 25, "invoices": 160}, 20),
         "fastfaktura": ({"clients": 20, "invoices": 75}, 25),
         "hydra": ({"customers": 20, "invoices": 90}, 15)}
_LIST_PATH = {"factuursturen": "/api/v1/invoices", "fastfaktura": "/api/v1/invoices", "hydra": "/api/invoices"}


@dataclass
class PullResult:
    """One trial's outcome: the findings after the promised rerun, and what --full made of them."""

    provider: str
    seed: int
    storm: str
    backend: str
    findings: Findings
    verdict: str  # ok | needs_full | broken | rerun_failed | wrong_in_between
    rerun_exit: int
    killed: int
    steps: list[str] = field(default_factory=list)
    after_full: Findings | None = None

    @property
    def ok(self) -> bool:
        """Did the store match the truth after the promised rerun?"""
        return self.verdict == "ok"

    def repro(self) -> str:
        """The command replaying this trial."""
        return (f"python bench/chaos.py --provider {self.provider} --seed {self.seed} --storm {self.storm} "
                f"--trials 1 --backend {self.backend}")

    def report(self) -> str:
        """A failure report: verdict, findings, the replay command and every step taken."""
        full = f"\nafter --full: {self.after_full.describe()}" if self.after_full is not None else ""
        return (f"{self.provider} seed={self.seed} storm={self.storm}: {self.verdict} (rerun exit {self.rerun_exit}) "
                f"{self.findings.describe()}{full}\nreproduce: {self.repro()}\nsteps:\n  " + "\n  ".join(self.steps))


def storm_rules(storm: str, rng: random.Random, service: Service) -> list[dict[str, Any]]:
    """Fault rules of one storm kind on the service's GET requests (none for "none")."""
    if storm == "none":
        return []
    base: dict[str, Any] = {"method": "GET", "path_prefix": service.api_prefix, "times": rng.randint(1, 4),
                            "every": rng.randint(1, 3), "after": rng.randint(0, 8)}
    kinds: dict[str, dict[str, Any]] = {
        "status": {"kind": "status", "status": rng.choice([500, 502, 503, 504])},
        "timeout": {"kind": "timeout", "seconds": 3.5, "times": rng.randint(1, 2)},
        "slow": {"kind": "slow", "seconds": round(rng.uniform(0.2, 1.5), 2)},
        "storm429": {"kind": "storm", "status": 429, "retry_after": 1},
        "storm403": {"kind": "storm", "status": 403},
        "drop_after_commit": {"kind": "drop_after_commit"},
        "html": {"kind": "html"},
        "truncated_json": {"kind": "truncated_json"},
        "page_shift": {"kind": "page_shift", "after": rng.randint(0, 3)},
    }
    return [{**base, **kinds[storm]}]


def _fresh_account(service: Service, rng: random.Random, seed: int) -> None:
    service.reset()
    sizes, _ = _SIZE[service.name]
    today = service.today()
    from datetime import date, timedelta

    end = date.fromisoformat(today) - timedelta(days=1)
    service.seed(seed=seed, start_date=(end - timedelta(days=rng.randint(40, 400))).isoformat(),
                 end_date=end.isoformat(), **sizes)


def connections_file(path: Path, service: Service, **settings: Any) -> Path:
    """A connections file with the one pulled connection."""
    _, page_size = _SIZE[service.name]
    values: dict[str, Any] = {"page_size": page_size, "rate_limit": 1_000_000, "timeout_seconds": 3.0}
    values.update(settings)
    path.write_text(service.toml(CONNECTION, **values), encoding="utf-8")
    return path


def judge(service: Service, cli: Cli) -> Findings:
    """The oracle's findings for the store of this trial now."""
    return compare(truth_snapshot(service.name, service.state()),
                   store_snapshot(service.name, cli.database_url, CONNECTION))


def rerun_and_judge(service: Service, cli: Cli) -> tuple[Findings, str, int, Findings | None]:
    """The promised rerun (incremental, then the sweep where deletions need one), judged; then --full if wrong."""
    service.faults()
    done = cli.run("sync", "--connection", CONNECTION)
    if done.returncode != 0:  # one more try: a rerun is allowed to find a killed run's lease still lapsing
        done = cli.run("sync", "--connection", CONNECTION, "--wait", "30")
    if done.returncode == 0:  # a resumed run may finish the killed run's window only; the next one catches up
        done = cli.run("sync", "--connection", CONNECTION)
    if service.name in SWEPT and done.returncode == 0:
        done = cli.run("sync", "--connection", CONNECTION, "--stream", "sweep")
    findings = judge(service, cli)
    if done.returncode != 0:
        cli.note(f"rerun failed: {(done.stderr or done.stdout)[-400:]}")
    if not findings and done.returncode == 0:
        return findings, "ok", done.returncode, None
    full = cli.run("sync", "--connection", CONNECTION, "--full")
    after = judge(service, cli)
    if done.returncode != 0 and not findings:
        return findings, "rerun_failed", done.returncode, after
    return findings, ("needs_full" if not after and full.returncode == 0 else "broken"), done.returncode, after


def pull_trial(service: Service, seed: int, storm: str, database_url: str, workdir: Path,
               backend: str = "sqlite") -> PullResult:
    """One seeded pull trial against `service` (an empty store at `database_url`)."""
    rng = random.Random(f"{service.name}:{seed}:{storm}")
    workdir.mkdir(parents=True, exist_ok=True)
    conf = connections_file(workdir / "connections.toml", service)
    cli = Cli(database_url, conf, {service.key_env: service.secret})
    person = Person(service, rng, cli.note)
    _fresh_account(service, rng, seed)
    cli.note(f"{service.name} reset and seeded (seed {seed})")
    upgraded = cli.run("db", "upgrade")
    if upgraded.returncode != 0:
        raise RuntimeError(f"db upgrade failed: {upgraded.stderr[-500:]}")
    killed = 0
    interim: list[str] = []
    for _ in range(rng.randint(1, 3)):
        person.work(rng.randint(0, 5))
        rules = storm_rules(storm, rng, service)
        service.faults(*rules)
        if rules:
            cli.note(f"faults {rules}")
        killed += _kill_or_hold(service, cli, person, rng, interim)
        service.faults()
    person.work(rng.randint(0, 4))
    findings, verdict, code, after = rerun_and_judge(service, cli)
    if interim:  # a completed run deleted live records, whatever later runs made of it
        findings.wrongly_deleted.extend(interim)
        verdict = verdict if verdict != "ok" else "wrong_in_between"
    return PullResult(service.name, seed, storm, backend, findings, verdict, code, killed, cli.steps, after)


def _kill_or_hold(service: Service, cli: Cli, person: Person, rng: random.Random, interim: list[str]) -> int:
    """One killed (or held and changed-under) run; 1 if it was killed.

    A held run left to finish (exit 0) may miss what changed under it, but must not have deleted a live
    record: those go to `interim`.
    """
    mode = rng.choice(["time", "requests", "requests", "paging"])
    base = service.request_count()
    if mode == "time":
        return int(cli.kill_after(cli.start("sync", "--connection", CONNECTION), rng.uniform(0.8, 3.0)).killed)
    if mode == "requests":
        n = rng.randint(1, 25)
        proc = cli.start("sync", "--connection", CONNECTION)
        return int(cli.kill_when(proc, lambda: service.request_count() - base >= n, f"after request {n}",
                                 delay=rng.choice([0.0, 0.0, rng.uniform(0.0, 0.05)])).killed)
    if service.name == "fastfaktura" and rng.random() < 0.5:
        person.fill_to_page_boundary(_SIZE[service.name][1])
    after = rng.randint(1, 4)
    hold = {"kind": "slow", "seconds": 1.0, "method": "GET", "path_prefix": _LIST_PATH[service.name],
            "after": after, "times": 1}
    service.faults(hold, *service.fault_specs())
    cli.note(f"hold invoice list request {after + 1} for 1 s; meanwhile a burst of deletions and a create")
    proc = cli.start("sync", "--connection", CONNECTION)
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline and not service.fault_rules()[0]["fired"]:
        time.sleep(0.005)
    if proc.poll() is None:
        person.burst_of_deletions(rng.randint(1, 6))
    landed = service.request_count()
    if rng.random() < 0.5:
        return int(cli.kill_when(proc, lambda: service.request_count() > landed, "as the held page lands",
                                 delay=rng.uniform(0.0, 0.05)).killed)
    outcome = cli.kill_when(proc, lambda: False, "no kill: let it finish", timeout=60)
    if not outcome.killed and outcome.returncode == 0:
        wrongly = judge(service, cli).wrongly_deleted
        interim.extend(f"{item} (by the completed run, step {len(cli.steps)})" for item in wrongly)
    return int(outcome.killed)
