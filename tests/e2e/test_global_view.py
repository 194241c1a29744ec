"""Every shard seen as one city: three sitroom replicas -> vmagent -> VictoriaMetrics, the
shipped rules evaluated once, centrally, by vmalert -> Alertmanager -> a webhook.

All five are real (Debian's victoria-metrics and prometheus-alertmanager packages) on loopback
ports. The sources are HTTP-ingest flood gateways: each lands on one shard by the rendezvous
hash of its name, the test posts to the replica that owns it (`sitroom shard-of`), and the
global view must hold every source exactly once, and the one river over Siaga must page once.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from sitroom.sharding import shard_of
from sitroom.stack import Receiver
from tests.support import (
    REPO,
    DaemonProcess,
    ManagedProcess,
    alertmanager,
    free_port,
    http_get,
    http_post,
    require_tool,
    wait_for_port,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
SHARDS = 3
GATEWAYS = [f"gateway-{i}" for i in range(9)]
TOKEN = "global-view-test-token"


def city_config(tmp_path: Path) -> Path:
    config_dir = tmp_path / "conf.d"
    config_dir.mkdir()
    (tmp_path / "token").write_text(TOKEN + "\n")
    sources = [
        {"kind": "http_sensors", "name": name, "stale_after": "10m", "sensors": {
            f"river-{name}": {"type": "water_level", "district": "Semarang Barat",
                              "thresholds": {"waspada": 3.0, "siaga": 4.0, "awas": 5.0}}}}
        for name in GATEWAYS
    ]
    doc = {"daemon": {"state_dir": str(tmp_path / "state"),
                      "auth": {"token_file": str(tmp_path / "token")}},
           "sources": sources}
    (config_dir / "city.yaml").write_text(yaml.safe_dump(doc))
    return config_dir


def vm_query(vm: str, query: str) -> list[dict[str, Any]]:
    status, body = http_get(f"{vm}/api/v1/query?{urllib.parse.urlencode({'query': query})}")
    assert status == 200, body
    return list(json.loads(body)["data"]["result"])


def test_three_shards_one_city_one_page(tmp_path: Path) -> None:
    for tool in ("victoria-metrics", "vmagent", "vmalert"):
        require_tool(tool)
    config_dir = city_config(tmp_path)
    replicas = [DaemonProcess(config_dir, ["--shard", f"sitroom-{i}/{SHARDS}"])
                for i in range(SHARDS)]
    receiver = Receiver()
    vm_port, agent_port, alert_port = free_port(), free_port(), free_port()
    vm = f"http://127.0.0.1:{vm_port}"
    scrape = tmp_path / "scrape.yml"
    shipped = yaml.safe_load((REPO / "deploy" / "global-view" / "vmagent-scrape.yml").read_text())
    shipped["global"]["scrape_interval"] = "1s"
    shipped["scrape_configs"][0]["static_configs"] = [
        {"targets": [f"127.0.0.1:{r.port}" for r in replicas]}]
    scrape.write_text(yaml.safe_dump(shipped))
    try:
        for replica in replicas:
            replica.wait_ready()
        with (
            alertmanager(f"{receiver.url}/hook") as am,
            ManagedProcess([require_tool("victoria-metrics"),
                            f"-httpListenAddr=127.0.0.1:{vm_port}",
                            f"-storageDataPath={tmp_path / 'vm'}", "-search.latencyOffset=0s",
                            "-retentionPeriod=1d"]),
            ManagedProcess([require_tool("vmagent"), f"-httpListenAddr=127.0.0.1:{agent_port}",
                            f"-promscrape.config={scrape}", f"-remoteWrite.url={vm}/api/v1/write",
                            f"-remoteWrite.tmpDataPath={tmp_path / 'vmagent'}",
                            "-remoteWrite.flushInterval=1s"]),
            ManagedProcess([require_tool("vmalert"), f"-httpListenAddr=127.0.0.1:{alert_port}",
                            f"-rule={REPO / 'alerts'}/*.rules.yml", f"-datasource.url={vm}",
                            f"-notifier.url={am}", f"-remoteWrite.url={vm}",
                            f"-remoteRead.url={vm}", "-evaluationInterval=1s"]) as vmalert,
        ):
            wait_for_port(vm_port)
            # Each gateway's reading goes to the replica that owns it; the others refuse it.
            owner = {name: replicas[shard_of(name, SHARDS)] for name in GATEWAYS}
            auth = {"Authorization": f"Bearer {TOKEN}"}
            for name in GATEWAYS:
                level = 4.4 if name == "gateway-4" else 1.0
                body = {"sensor": f"river-{name}", "level": level, "ts": time.time()}
                status, text = http_post(f"{owner[name].url}/api/v1/ingest/{name}", body, auth)
                assert status == 200, text
                stranger = next(r for r in replicas if r is not owner[name])
                assert http_post(f"{stranger.url}/api/v1/ingest/{name}", body, auth)[0] == 404

            def whole_city() -> bool:
                return len(vm_query(vm, 'sitroom_source_up{kind="http_sensors"}')) == len(
                    GATEWAYS) and len(vm_query(vm, "sitroom_shard_ordinal")) == SHARDS

            wait_until(whole_city, timeout=60, what="every shard in VictoriaMetrics")
            per_source = vm_query(vm, 'count by (source) (sitroom_source_up{kind="http_sensors"})')
            assert {r["metric"]["source"]: r["value"][1] for r in per_source} == {
                name: "1" for name in GATEWAYS}
            ordinals = vm_query(vm, 'count_values("ordinal", sitroom_shard_ordinal)')
            assert sorted(r["metric"]["ordinal"] for r in ordinals) == ["0", "1", "2"]
            assert {r["value"][1] for r in ordinals} == {"1"}

            note = receiver.wait_for(lambda n: any(
                a["labels"].get("alertname") == "FloodLevelSiaga" and a["status"] == "firing"
                for a in n.payload.get("alerts", [])), timeout=120)
            siaga = [a for a in note.payload["alerts"]
                     if a["labels"]["alertname"] == "FloodLevelSiaga"]
            assert [a["labels"]["sensor"] for a in siaga] == ["river-gateway-4"]
            assert siaga[0]["labels"]["source"] == "gateway-4"
            assert siaga[0]["labels"]["team"] == "bpbd"
            # vmalert evaluated the shipped rules once: no shard alerts on a healthy city
            alerts = json.loads(http_get(f"http://127.0.0.1:{alert_port}/api/v1/alerts")[1])
            names = {a["name"] for a in alerts["data"]["alerts"]}
            assert "FloodLevelSiaga" in names, vmalert.output()[-2000:]
            assert not names & {"SitroomShardMissing", "SitroomShardTotalMismatch",
                                "SitroomShardDuplicated"}
    finally:
        for replica in replicas:
            replica.__exit__(None, None, None)
        receiver.close()
