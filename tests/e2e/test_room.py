"""The whole room end to end: demo city -> real Prometheus -> real Alertmanager -> webhook.

One test (slow: about a minute) drives the demo's simulators through their control APIs: a
river to Siaga and a pump fault. Prometheus (Debian package) scrapes the daemon every second
and evaluates the shipped rules; Alertmanager (Debian package) routes with the shipped
example config to a receiver run by the test. Then every panel query of every shipped
dashboard runs against that live Prometheus and must return data.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO, require_tool

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

# Grafana's variables, as "All" / their defaults, for running panel queries directly.
VARIABLES = {"$__rate_interval": "30s", "$__interval": "1s", "$district": ".*",
             "$source": ".*", "$kind": ".*", "$agency": ".*", "$topic": ".*"}


def control_ports(config_dir: Path) -> dict[str, int]:
    sims: dict[str, Any] = {}
    for path in sorted(config_dir.glob("*.yaml")):
        sims.update((yaml.safe_load(path.read_text()) or {}).get("simulators") or {})
    return {name: sims[name]["control_port"] for name in ("flood", "pumps")}


def post(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def firing(note: Any, alertname: str, **labels: str) -> bool:
    return any(a["status"] == "firing" and a["labels"].get("alertname") == alertname
               and all(a["labels"].get(k) == v for k, v in labels.items())
               for a in note.payload.get("alerts", []))


def panel_queries() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted((REPO / "grafana" / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for name, value in VARIABLES.items():
                    expr = expr.replace(name, value)
                assert "$" not in expr, f"unsubstituted variable in {panel['title']}: {expr}"
                out.append((path.stem, panel["title"], expr))
    return out


def test_river_to_siaga_and_pump_fault_reach_their_teams_and_every_panel_has_data() -> None:
    from sitroom.stack import Stack

    require_tool("prometheus")
    require_tool("prometheus-alertmanager")
    require_tool("mosquitto")  # the flood simulator publishes over MQTT when it exists

    # A rate of rise needs readings spanning rate_min_span (2 min by default): shorten it.
    quick_rate = {"rate_min_span": "5s"}
    with Stack(REPO / "conf.d", interval="1s", fast=True,
               overrides={"mqtt_sensors": quick_rate, "http_sensors": quick_rate}) as stack:
        ports = control_ports(stack.effective_config_dir)
        # Pin the river at a normal level first, whatever weather the simulator is playing.
        post(f"http://127.0.0.1:{ports['flood']}/set?sensor=bkb-simongan&level=2.0")
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:  # both series scraped before we cross anything
            if stack.query('sitroom_flood_alert_level{sensor="bkb-simongan"} < 2') and \
                    stack.query('sitroom_pump_fault{station="kali-semarang",pump="P1"} == 0'):
                break
            time.sleep(0.5)
        else:
            pytest.fail("demo series never appeared:\n" +
                        (stack.workdir / "sitroom.log").read_text()[-4000:])

        crossed = time.time()
        post(f"http://127.0.0.1:{ports['flood']}/set?sensor=bkb-simongan&level=4.3")
        post(f"http://127.0.0.1:{ports['pumps']}/fault?station=kali-semarang&pump=P1&code=7")

        flood = stack.receiver.wait_for(
            lambda n: n.path == "/hooks/bpbd" and firing(
                n, "FloodLevelSiaga", team="bpbd", sensor="bkb-simongan"), timeout=90)
        pump = stack.receiver.wait_for(
            lambda n: n.path == "/hooks/dpu" and firing(
                n, "PumpFault", team="dpu", station="kali-semarang", pump="P1"), timeout=60)
        # the daemon pushes the alert itself (demo `alerting:`), so it may arrive before
        # Prometheus' next scrape has seen the level: give the scrape a few seconds
        deadline = time.monotonic() + 15
        while not (seen := stack.query(
                'min(timestamp(sitroom_flood_alert_level{sensor="bkb-simongan"} >= 2)'
                ' and sitroom_flood_alert_level{sensor="bkb-simongan"} >= 2)')):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        print(f"\ntime to alert (pushed by the daemon; rules held back): "
              f"FloodLevelSiaga {flood.received - crossed:.1f} s, "
              f"PumpFault {pump.received - crossed:.1f} s from the control call")
        assert seen, "Prometheus lost the Siaga level"
        siaga = next(a for a in flood.payload["alerts"]
                     if a["labels"]["alertname"] == "FloodLevelSiaga")
        assert siaga["labels"]["district"] == "Semarang Barat"  # joined from the _info metric
        assert "Water level 4.30 m" in siaga["annotations"]["description"]
        # The runbook link is the live daemon's own page (its sitroom_docs_info), and every
        # rule's anchor is on that page.
        runbook = siaga["annotations"]["runbook_url"]
        assert runbook == f"{stack.daemon_url}/docs/runbooks#floodlevelsiaga"
        with urllib.request.urlopen(runbook.partition("#")[0], timeout=10) as response:
            page = response.read().decode()
        missing_anchors = [name for name in alert_names() if f'id="{name.lower()}"' not in page]
        assert missing_anchors == []
        # The wall's routing too: bpbd alerts also reach the situation-room receiver.
        stack.receiver.wait_for(lambda n: n.path == "/hooks/situation-room" and firing(
            n, "FloodLevelSiaga"), timeout=30)

        empty, broken = [], []
        for board, title, expr in panel_queries():
            try:
                if not stack.query(expr):
                    empty.append(f"{board}: {title}: {expr}")
            except Exception as exc:  # a query Prometheus refuses
                broken.append(f"{board}: {title}: {exc}")
        assert broken == []
        assert empty == [], "\n".join(empty)

        missing = [f"{board}: ${name}: {query}" for board, name, query in variable_queries()
                   if not label_values(stack.prometheus_url, query)]
        assert missing == [], "\n".join(missing)


def alert_names() -> list[str]:
    from tests.alerts.rules import load_rules, rule_files

    return [rule.alert for rule in load_rules(rule_files()) if rule.alert]


def variable_queries() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted((REPO / "grafana" / "dashboards").glob("*.json")):
        for var in json.loads(path.read_text())["templating"]["list"]:
            if var["type"] == "query":
                out.append((path.stem, var["name"], var["query"]["query"]))
    return out


def label_values(prometheus: str, query: str) -> list[str]:
    """What Grafana's `label_values(selector, label)` asks Prometheus, "All" for parents."""
    from urllib.parse import urlencode

    match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query)
    assert match, f"unsupported variable query {query}"
    selector = match.group(1)
    for name, value in VARIABLES.items():
        selector = selector.replace(name, value)
    url = f"{prometheus}/api/v1/label/{match.group(2)}/values?" + urlencode(
        {"match[]": selector})
    with urllib.request.urlopen(url, timeout=10) as response:
        return list(json.loads(response.read())["data"])


def test_panel_variables_are_all_substituted() -> None:
    queries = panel_queries()
    assert queries
    assert not [q for q in queries if re.search(r"\$\w", q[2])]
