"""deploy/kubernetes: rendered by kustomize and checked against Kubernetes' own schemas.

No cluster is reachable here. What runs: `kubectl kustomize` renders each overlay exactly
as `kubectl apply -k` would; every object is validated strictly (unknown fields are errors)
with kubernetes-validate against the 1.32 schemas; the pod's contract with sitroom is
checked (shard from the pod name, probes, the config it reads passes check-config); the
plain scrape config goes through promtool. What does not run: scheduling, the Prometheus
Operator's admission of the PodMonitor (its CRD schema is not in kubernetes-validate), and
image pulls.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from sitroom.sharding import parse_shard
from tests.support import REPO, require_tool

pytestmark = pytest.mark.integration
KUBE = REPO / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.32.0"
OVERLAYS = ["demo", "production"]


def render(path: Path) -> list[dict[str, Any]]:
    kubectl = require_tool("kubectl")
    result = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (sitroom,) = one(docs, "StatefulSet")["spec"]["template"]["spec"]["containers"]
    return sitroom


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_kubernetes(overlay: str) -> None:
    docs = render(KUBE / "overlays" / overlay)
    assert {d["kind"] for d in docs} >= {"StatefulSet", "Service", "PodDisruptionBudget",
                                         "NetworkPolicy", "ServiceAccount", "ConfigMap"}
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_strict_validation_catches_a_misspelt_field() -> None:
    docs = render(KUBE / "overlays" / "production")
    statefulset = one(docs, "StatefulSet")
    statefulset["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(statefulset, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_pod_serves_the_shard_of_its_ordinal(overlay: str) -> None:
    """`--shard $(POD_NAME)/$(SITROOM_SHARDS)`: the count the pods pass is the replica count,
    and every pod name of the StatefulSet parses to its own ordinal."""
    docs = render(KUBE / "overlays" / overlay)
    statefulset = one(docs, "StatefulSet")
    replicas = statefulset["spec"]["replicas"]
    sitroom = container(docs)
    env = {e["name"]: e["valueFrom"] for e in sitroom["env"] if "valueFrom" in e}
    assert env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    shards_ref = env["SITROOM_SHARDS"]["configMapKeyRef"]
    shards = one(docs, "ConfigMap", shards_ref["name"])["data"][shards_ref["key"]]
    assert int(shards) == replicas
    args = sitroom["args"]
    assert args[args.index("--shard") + 1] == "$(POD_NAME)/$(SITROOM_SHARDS)"
    name = statefulset["metadata"]["name"]
    assert [parse_shard(f"{name}-{i}/{shards}") for i in range(replicas)] == [
        (i, replicas) for i in range(replicas)
    ]


def test_pods_are_probed_locked_down_and_keep_state() -> None:
    docs = render(KUBE / "overlays" / "production")
    statefulset = one(docs, "StatefulSet")
    pod = statefulset["spec"]["template"]["spec"]
    sitroom = container(docs)
    assert sitroom["livenessProbe"]["httpGet"]["path"] == "/-/healthy"
    assert sitroom["readinessProbe"]["httpGet"]["path"] == "/-/ready"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert sitroom["securityContext"]["readOnlyRootFilesystem"] is True
    assert sitroom["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert pod["automountServiceAccountToken"] is False
    mounts = {m["mountPath"]: m["name"] for m in sitroom["volumeMounts"]}
    claims = {c["metadata"]["name"] for c in statefulset["spec"]["volumeClaimTemplates"]}
    assert mounts["/var/lib/sitroom"] in claims
    assert sitroom["resources"]["requests"]["cpu"] and sitroom["resources"]["limits"]["memory"]
    service = one(docs, "Service")
    assert service["spec"]["clusterIP"] == "None"
    assert statefulset["spec"]["serviceName"] == service["metadata"]["name"]
    assert one(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    egress = one(docs, "NetworkPolicy")["spec"]["egress"]
    assert any("169.254.169.254/32" in peer.get("ipBlock", {}).get("except", [])
               for rule in egress for peer in rule["to"])


def test_production_config_map_passes_check_config(tmp_path: Path) -> None:
    """The files the pods mount as /etc/sitroom/conf.d are a valid sitroom config, with the
    environment the StatefulSet gives them; state goes to the pod's volume."""
    docs = render(KUBE / "overlays" / "production")
    sitroom = container(docs)
    config_volume = next(v for v in one(docs, "StatefulSet")["spec"]["template"]["spec"][
        "volumes"] if v["name"] == "config")
    config_map = one(docs, "ConfigMap", config_volume["configMap"]["name"])
    mounts = {m["name"]: m["mountPath"] for m in sitroom["volumeMounts"]}
    args = sitroom["args"]
    assert args[args.index("--config-dir") + 1] == mounts["config"]
    # the Secret's keys (made out of band) as the pod sees them, under tmp_path
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for key in ("api-token", "mqtt-password", "registry-db-password"):
        (secrets / key).write_text("test-only\n")
    config_dir = tmp_path / "conf.d"
    config_dir.mkdir()
    for name, text in config_map["data"].items():
        (config_dir / name).write_text(text.replace(mounts["secrets"], str(secrets)))
    result = subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "check-config", "--config-dir", str(config_dir)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    daemon = yaml.safe_load(config_map["data"]["00-daemon.yaml"])["daemon"]
    assert daemon["state_dir"] == next(
        m["mountPath"] for m in sitroom["volumeMounts"] if m["name"] == "state")
    # the registry is shared by every pod: PostgreSQL, password from the Secret
    registry = yaml.safe_load(config_map["data"]["30-registry.yaml"])["sources"][0]
    assert registry["postgresql"]["password_file"].startswith(mounts["secrets"])


def test_pod_monitor_selects_the_pods_and_their_port() -> None:
    docs = render(KUBE / "prometheus-operator")
    monitor = one(docs, "PodMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    pods = render(KUBE / "overlays" / "production")
    labels = one(pods, "StatefulSet")["spec"]["template"]["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
    ports = {p["name"] for p in container(pods)["ports"]}
    for endpoint in monitor["spec"]["podMetricsEndpoints"]:
        assert endpoint["port"] in ports and endpoint["path"] == "/metrics"


def test_plain_scrape_config_is_valid_and_finds_the_headless_service() -> None:
    promtool = require_tool("promtool")
    scrape = KUBE / "prometheus-scrape.yml"
    result = subprocess.run([promtool, "check", "config", str(scrape)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    docs = render(KUBE / "overlays" / "production")
    service = one(docs, "Service")
    (job,) = yaml.safe_load(scrape.read_text())["scrape_configs"]
    (sd,) = job["dns_sd_configs"]
    namespace = service["metadata"]["namespace"]
    assert sd["names"] == [f"{service['metadata']['name']}.{namespace}.svc.cluster.local"]
    assert sd["port"] == service["spec"]["ports"][0]["port"]
