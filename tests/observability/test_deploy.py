"""Deployment files that work as written (issue 15 item 8): deploy/compose.yaml follows the compose spec and gives
every connection of config/connections.example.toml its key, Grafana comes provisioned with Prometheus and the
dashboard, every dashboard panel has data from a fresh start, and promtool accepts the alert rules and a real
scrape (where promtool is installed)."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from connector.app import App
from connector.daemon import Daemon
from connector.daemon.metered import start_metrics
from connector.settings import Settings, load_connections
from connector.stopping import StopToken
from connector.store.db import make_engine, upgrade
from tests.hydra.harness import HydraHarness
from tests.support import REPO, FsSandbox, run_cli

DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
EXAMPLE = REPO / "config" / "connections.example.toml"
ALERTS = REPO / "config" / "prometheus-alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboard.json"
SCHEMA = REPO / "tests" / "data" / "compose-spec" / "compose-spec.json"
SECRETS_DIR = "/run/secrets/"

AFTER_FIRST_EVENT = {
    "connector_rate_limit_remaining": "0 would fire ConnectorRateBudgetExhausted: set from the first answer's headers",
    "connector_stream_last_success_timestamp_seconds": "a stream that never succeeded has no time (0 reads 1970)",
    "connector_stream_last_run_duration_seconds": "no run yet on a fresh database (after a restart: restored)",
}


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))  # merge keys (<<) resolved


# -- compose ---------------------------------------------------------------------------------------------


def test_compose_file_follows_the_compose_spec() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    compose = _compose()
    assert [e.message for e in validator.iter_errors(compose)] == []

    broken = copy.deepcopy(compose)  # the check can fail: a misspelt key and a bad restart policy
    broken["services"]["connector"]["restrat"] = "always"
    broken["services"]["grafana"]["ports"] = {"3000": 3000}
    assert len(list(validator.iter_errors(broken))) >= 2


def _docker_compose() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.mark.skipif(_docker_compose() is None, reason="docker compose is not installed (the schema check runs)")
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    done = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True, text=True, check=False, env={**os.environ, "POSTGRES_PASSWORD": "x"},
    )
    assert done.returncode == 0, done.stderr


def test_every_connection_of_the_example_gets_its_key_from_compose(tmp_path: Path) -> None:
    compose = _compose()
    connector = compose["services"]["connector"]
    environment: dict[str, str] = connector["environment"]
    declared = set(compose["secrets"])
    mounted = set(connector["secrets"])
    assert mounted <= declared

    def secret_of(path: str) -> str:
        assert path.startswith(SECRETS_DIR), path
        name = path.removeprefix(SECRETS_DIR)
        assert name in mounted, f"{name} is not given to the connector service"
        return name

    files: dict[str, str] = {}  # variable -> secret, for the run below
    for conn in load_connections(EXAMPLE):
        if conn.api_key_env:
            file_variable = f"{conn.api_key_env}_FILE"
            assert conn.api_key_env in environment or file_variable in environment, conn.name
            if file_variable in environment:
                files[file_variable] = secret_of(environment[file_variable])
        else:
            assert conn.api_key_file is not None, f"{conn.name} has no key reference"
            secret_of(str(conn.api_key_file))

    # What the container does with it: every connection's key found, the file validated (no request is made).
    env = {k: v for k, v in environment.items() if not k.startswith("CONNECTOR_") and k not in files}
    for variable, secret in files.items():
        (tmp_path / secret).write_text(f"key-of-{secret}\n")
        env[variable] = str(tmp_path / secret)
    env |= {"CONNECTOR_CONNECTIONS_FILE": str(EXAMPLE), "FACTUURSTUREN_API_KEY": "", "FACTURALIA_API_KEY": ""}
    checked = run_cli("config", "check", env=env)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count("ok  ") == len(load_connections(EXAMPLE))


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard() -> None:
    services = _compose()["services"]
    grafana = services["grafana"]
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in grafana["volumes"] if v.startswith("."))
    for source in mounts:
        assert (DEPLOY / source).exists(), source
    provisioning = {target: DEPLOY / source for source, target in mounts.items()}

    [source] = yaml.safe_load(
        (provisioning["/etc/grafana/provisioning/datasources"] / "prometheus.yaml").read_text())["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    host, port = re.fullmatch(r"http://([a-z]+):(\d+)", source["url"]).groups()  # type: ignore[union-attr]
    assert host in services and any(p.endswith(f":{port}") for p in services[host]["ports"])

    [provider] = yaml.safe_load(
        (provisioning["/etc/grafana/provisioning/dashboards"] / "connector.yaml").read_text())["providers"]
    folder = provider["options"]["path"]
    dashboards = [target for target in provisioning if target.startswith(folder + "/")]
    assert [provisioning[t].resolve() for t in dashboards] == [DASHBOARD.resolve()]
    assert grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] in dashboards
    variables = {v["name"]: v for v in json.loads(DASHBOARD.read_text())["templating"]["list"]}
    assert variables["datasource"]["query"] == source["type"]  # picks the provisioned default
    assert all(p.startswith("127.0.0.1:") for p in grafana["ports"]), "Grafana listens on loopback only"


# -- the dashboard from a fresh start ----------------------------------------------------------------------


def _fresh_scrape(tmp_path: Path, fs: FsSandbox, hy: HydraHarness) -> str:
    """/metrics of a daemon over a fresh database as it starts (before any job ran)."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = Settings(database_url=url, metrics_port=0)
    stop = StopToken()
    connections = [fs.connection("fs"), hy.connection("hy", receives=["client", "invoice"])]
    daemon = Daemon(settings, stop, app=App(settings, stop=stop, connections=connections))
    start_metrics(daemon.metrics, daemon.engine, daemon.app.connections, daemon.jobs)  # what start() does first
    return generate_latest(daemon.metrics.registry).decode()


def test_every_dashboard_panel_has_data_from_a_fresh_start(tmp_path: Path, fs: FsSandbox, hy: HydraHarness) -> None:
    text = _fresh_scrape(tmp_path, fs, hy)
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    present = {s.name for s in samples}
    assert {s.labels["connection"] for s in samples if s.name == "connector_stream_runs_total"} == {"fs", "hy"}
    assert {s.labels["kind"] for s in samples if s.name == "connector_conflicts"} == {"client", "invoice", "payment"}

    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    empty = {}
    for panel in dashboard["panels"]:
        exprs = [t["expr"] for t in panel.get("targets", [])]
        if not exprs:
            continue  # a row
        needed = [set(re.findall(r"\bconnector_[a-z_]+\b", e)) for e in exprs if "or on() vector(0)" not in e]
        if len(needed) == len(exprs) and not any(names <= present for names in needed):
            empty[panel["title"]] = set().union(*needed) - present
    # only what cannot honestly be 0 waits for its first event, which a fresh start brings within its jitter
    assert empty == {
        "Time since last successful run": {"connector_stream_last_success_timestamp_seconds"},
        "Rate-limit budget remaining": {"connector_rate_limit_remaining"},
    }, "panels with no data on a fresh start"
    assert set().union(*empty.values()) <= set(AFTER_FIRST_EVENT)


# -- promtool ---------------------------------------------------------------------------------------------

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not on PATH (Prometheus not installed)")


@needs_promtool
def test_promtool_check_rules_accepts_the_alerts() -> None:
    done = subprocess.run([str(PROMTOOL), "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@needs_promtool
def test_promtool_check_metrics_accepts_a_real_scrape(tmp_path: Path, fs: FsSandbox, hy: HydraHarness) -> None:
    text = _fresh_scrape(tmp_path, fs, hy)
    done = subprocess.run([str(PROMTOOL), "check", "metrics"], input=text, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr
    broken = text.replace("connector_records_read_total", "connector_records_read")  # a counter without _total
    linted = subprocess.run([str(PROMTOOL), "check", "metrics"], input=broken, capture_output=True, text=True,
                            check=False)
    assert linted.returncode != 0, "promtool lints what it is given"
