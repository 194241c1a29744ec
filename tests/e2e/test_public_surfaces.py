"""The full demo city's public surfaces hold no secret (issue 16).

`sitroom run` on a copy of the shipped conf.d (as `make run` does, simulators on free
ports), plus a citizen camera registered and approved through the public form with a
password and contacts, and a probe whose URL carries credentials and session ids. Then
`/metrics` and `/api/v1/sources` are read without the token: no secret, credential, contact
detail, registration id or URL may appear.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from sitroom.stack import demo_config_copy
from tests.support import REPO, DaemonProcess, http_get, http_post, wait_for_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

CAMERA_PASSWORD = "Kamera-Rahasia-4417"
CAMERA_USER = "pemilik-kamera-77"
PROBE_USER = "probe-login-31"
PHONE = "+6281299887766"
EMAIL = "pemilik.toko@contoh.id"
OWNER = "Toko Roti Sumber Makmur"
ADDRESS = "Jl. Gajahmada No. 88"
PROBE_SECRETS = ("Pr0be-Passw0rd", "S3ss10nSecretValue", "JSess-0a1b2c3d", "AmzSig-99ffee")
URL_LIKE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")


def write_extras(config_dir: Path, ports: dict[int, int]) -> int:
    camera_port = ports[18501]
    registry_file = config_dir / "25-registry.yaml"
    doc = yaml.safe_load(registry_file.read_text())
    doc["sources"][0]["allowed_ports"].append(camera_port)
    registry_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    web_port = ports[18080]
    probe_url = (f"http://{PROBE_USER}:{PROBE_SECRETS[0]}@127.0.0.1:{web_port}/"
                 f";jsessionid={PROBE_SECRETS[2]}?sessionid={PROBE_SECRETS[1]}"
                 f"&X-Amz-Signature={PROBE_SECRETS[3]}")
    extra = {"sources": [{"kind": "http_probe", "name": "portal-session", "url": probe_url,
                          "interval": "2s", "expect_status": [200, 404]}]}
    (config_dir / "70-extra-probe.yaml").write_text(yaml.safe_dump(extra))
    return camera_port


def test_demo_metrics_and_public_sources_carry_no_secret(tmp_path: Path) -> None:
    config_dir = tmp_path / "conf.d"
    ports = demo_config_copy(REPO / "conf.d", config_dir, fast=True)
    camera_port = write_extras(config_dir, ports)
    with DaemonProcess(config_dir) as daemon:
        daemon.wait_ready(timeout=90)
        wait_for_port(camera_port, timeout=90)  # the camera simulator cuts its clip first
        token = (tmp_path / ".state" / "api-token").read_text().strip()
        auth = {"Authorization": f"Bearer {token}"}
        form = {
            "owner_name": OWNER, "contact_phone": PHONE, "contact_email": EMAIL,
            "owner_type": "business", "address": ADDRESS, "district": "Semarang Tengah",
            "latitude": -6.98, "longitude": 110.41, "consent": True,
            "stream": {"protocol": "http", "host": "127.0.0.1", "port": camera_port,
                       "path": "/snapshot.jpg", "username": CAMERA_USER,
                       "password": CAMERA_PASSWORD},
        }
        answers: list[tuple[int, str]] = []

        def registered() -> bool:  # 503 while the registry opens its database
            answers.append(http_post(f"{daemon.url}/api/v1/registrations", form))
            return answers[-1][0] != 503

        wait_until(registered, timeout=30, step=0.5, what="registry open")
        status, text = answers[-1]
        assert status == 201, text
        reg_id = json.loads(text)["id"]

        rows: list[str] = []

        def probed() -> bool:
            code, body = http_get(f"{daemon.url}/api/v1/cameras/{reg_id}", auth)
            rows.append(body)
            return code == 200 and json.loads(body)["status"] == "awaiting_approval"

        try:
            wait_until(probed, timeout=60, what="registration probed")
        except AssertionError:
            raise AssertionError(rows[-1:]) from None
        status, text = http_post(f"{daemon.url}/api/v1/cameras/{reg_id}/approve", b"",
                                 headers=auth)
        assert status == 200, text
        wait_until(lambda: any(s["published_by"] for s in daemon.sources().values()),
                   timeout=30, what="camera published")
        time.sleep(4)  # a few polls of every source, the probe with its secret URL included

        metrics = daemon.metrics()
        status, public = http_get(f"{daemon.url}/api/v1/sources")
        assert status == 200 and json.loads(public)["detail"] == "public"
        sources = daemon.sources()
        assert "portal-session" in sources and sources["portal-session"]["last_success"]

    forbidden = [CAMERA_PASSWORD, PHONE, EMAIL, OWNER, ADDRESS, reg_id, token, CAMERA_USER,
                 PROBE_USER,
                 *PROBE_SECRETS]
    # The one URL a label may hold: the daemon's own runbook page, for alert and board links.
    (docs_line,) = [line for line in metrics.splitlines()
                    if line.startswith("sitroom_docs_info{")]
    assert f'runbooks="{daemon.url}/docs/runbooks"' in docs_line, docs_line
    metrics = metrics.replace(docs_line, "")
    for name, text in (("/metrics", metrics), ("/api/v1/sources", public)):
        leaked = [secret for secret in forbidden if secret in text]
        assert not leaked, f"{name} shows {leaked}"
        urls = sorted(set(URL_LIKE.findall(text)))
        assert not urls, f"{name} shows URLs or addresses: {urls[:10]}"
