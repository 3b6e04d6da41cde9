"""The Kubernetes manifests (deploy/kubernetes/) pass a schema check and agree with each other and with the code;
the Prometheus configuration passes `promtool check config` where promtool is installed.

The schema check is `kubernetes-validate` (a dev dependency shipping the Kubernetes JSON schemas): every document
is validated strictly (an unknown or misspelt field fails) against Kubernetes 1.29.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from connector.settings import Settings, load_connections
from tests.support import REPO

MANIFESTS = REPO / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.29"
FILES = sorted([*MANIFESTS.glob("*.yaml"), MANIFESTS / "secret.yaml.example"])


def _documents() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in FILES:
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                found[document["kind"]] = document
    return found


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_manifest_passes_the_kubernetes_schema_strictly(path: Path) -> None:
    documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_can_fail() -> None:
    deployment = _documents()["Deployment"]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_manifests_agree_with_each_other_and_with_the_code(tmp_path: Path) -> None:
    docs = _documents()
    assert {"ConfigMap", "Deployment", "Job", "PodDisruptionBudget", "Secret", "Service"} <= set(docs)
    deployment, pdb, service = docs["Deployment"], docs["PodDisruptionBudget"], docs["Service"]
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    port = next(p for p in container["ports"] if p["name"] == "metrics")["containerPort"]

    assert deployment["spec"]["replicas"] >= 2
    assert container["args"] == ["run"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert env["CONNECTOR_METRICS_PORT"]["value"] == str(port) and env["CONNECTOR_METRICS_HOST"]["value"] == "0.0.0.0"
    assert env["CONNECTOR_REPLICA_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", "unique per pod"
    for where in (pod["metadata"]["annotations"], service["metadata"]["annotations"]):
        assert where == {"prometheus.io/scrape": "true", "prometheus.io/port": str(port),
                         "prometheus.io/path": "/metrics"}
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    assert pod["spec"]["terminationGracePeriodSeconds"] > float(env["CONNECTOR_SHUTDOWN_GRACE_SECONDS"]["value"])
    settings = Settings(**{name.removeprefix("CONNECTOR_").lower(): e["value"] for name, e in env.items()
                           if "value" in e})
    assert settings.workers == 8

    # Secrets as files: the connections file names key files under the Secret's mount, and the Secret has them.
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    secret_mount = next(mounts[n] for n, v in volumes.items() if "secret" in v)
    config_mount = next(mounts[n] for n, v in volumes.items() if "configMap" in v)
    assert env["CONNECTOR_CONNECTIONS_FILE"]["value"] == f"{config_mount}/connections.toml"
    secret_keys = set(docs["Secret"]["stringData"])
    assert env["CONNECTOR_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] in secret_keys
    toml = tmp_path / "connections.toml"
    toml.write_text(docs["ConfigMap"]["data"]["connections.toml"], encoding="utf-8")
    connections = load_connections(toml)
    assert connections
    for conn in connections:
        assert conn.api_key_file is not None and conn.api_key_env is None, conn.name
        assert conn.api_key_file.parent.as_posix() == secret_mount and conn.api_key_file.name in secret_keys
    job = docs["Job"]["spec"]["template"]["spec"]["containers"][0]
    assert job["args"] == ["db", "upgrade"] and job["image"] == container["image"]


def test_promtool_checks_the_prometheus_config() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not on PATH (CI installs it from the system's prometheus package when it can)")
    result = subprocess.run([promtool, "check", "config", str(REPO / "config" / "prometheus.yml")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr
