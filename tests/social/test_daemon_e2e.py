"""End to end (slow-ish, one daemon): the demo simulator feeds RSS and Mastodon sources, a
bridge pushes to the webhook, operators read recent posts; metrics pass promtool and hold
no post text. Marked integration: it runs `sitroom run` and promtool."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import (
    DaemonProcess,
    free_port,
    http_get,
    http_post,
    require_tool,
    sample_value,
    wait_until,
)

pytestmark = pytest.mark.integration
TOKEN = "social-e2e-token-0123456789"


def write_config(tmp_path: Path, sim_port: int) -> Path:
    conf = tmp_path / "conf.d"
    conf.mkdir()
    (tmp_path / "token").write_text(TOKEN + "\n")
    sim = f"http://127.0.0.1:{sim_port}"
    doc = {
        "daemon": {"state_dir": str(tmp_path / "state"),
                   "auth": {"token_file": str(tmp_path / "token")}},
        "sources": [
            {"kind": "rss", "name": "berita", "url": f"{sim}/feed.xml", "interval": "500ms"},
            {"kind": "mastodon", "name": "masto", "base_url": sim, "interval": "500ms",
             "page_limit": 10, "timelines": [{"type": "hashtag", "tag": "semarang"}]},
            {"kind": "social_webhook", "name": "bridge", "max_posts_per_request": 5},
        ],
        "simulators": {"social": {"port": sim_port, "post_every": "200ms",
                                  "burst_every": "2s", "burst_size": 8}},
    }
    (conf / "00-all.yaml").write_text(yaml.safe_dump(doc))
    return conf


def test_demo_pipeline_webhook_and_recent(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    conf = write_config(tmp_path, free_port())
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with DaemonProcess(conf) as daemon:
        daemon.wait_ready()
        # the simulator's flood bursts from Kaligawe reach both kinds and raise the trend
        text = wait_until(
            lambda: (t := daemon.metrics()) and all(
                (sample_value(t, "sitroom_social_trend_score", source=s, topic="banjir",
                              district="gayamsari") or 0) > 4 for s in ("berita", "masto")
            ) and t,
            timeout=30, what="flood burst scored in gayamsari")
        assert (sample_value(text, "sitroom_social_posts_matched_total", source="masto",
                             topic="banjir") or 0) >= 8

        url = f"{daemon.url}/api/v1/social/bridge"
        post = {"posts": [{"id": "b-1", "text": "Banjiiir di jln Kaligawe, gk bs lewat",
                           "url": "https://bridge.example/p/1", "author": "@someone"}]}
        assert http_post(url, post)[0] == 401
        status, body = http_post(url, post, headers=auth)
        assert status == 200 and json.loads(body) == {"accepted": 1, "duplicates": 0,
                                                      "matched": 1}
        assert json.loads(http_post(url, post, headers=auth)[1])["duplicates"] == 1
        status, body = http_post(url, {"posts": [{"id": "x", "text": ""}]}, headers=auth)
        assert status == 400 and "posts.0.text" in body
        assert http_post(url, b"{not json", headers=auth)[0] == 400
        too_many = {"posts": [{"id": str(i), "text": "macet"} for i in range(6)]}
        assert http_post(url, too_many, headers=auth)[0] == 413
        assert http_post(f"{daemon.url}/api/v1/social/nope", post, headers=auth)[0] == 404

        recent = f"{daemon.url}/api/v1/social/recent?topic=banjir&limit=100"
        assert http_get(recent)[0] == 401
        status, body = http_get(recent, headers=auth)
        posts = json.loads(body)["posts"]
        assert status == 200 and posts
        assert all("banjir" in p["topics"] for p in posts)
        bridged = [p for p in posts if p["source"] == "bridge"]
        assert bridged[0]["district"] == "gayamsari"
        assert bridged[0]["url"] == "https://bridge.example/p/1"
        assert "author" not in bridged[0] and "@someone" not in body
        assert http_get(f"{daemon.url}/api/v1/social/recent?topic=DROP%20TABLE",
                        headers=auth)[0] == 400

        text = daemon.metrics()
        assert sample_value(text, "sitroom_social_rejected_total", source="bridge",
                            reason="invalid") == 1
        assert sample_value(text, "sitroom_social_mentions_total", source="bridge",
                            topic="banjir", district="gayamsari") == 1
        check = subprocess.run([promtool, "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and check.stdout + check.stderr == ""
        for p in posts[:5]:
            assert p["text"][:25] not in text
        assert "Kaligawe gk" not in text
    log = daemon.output()
    assert "Banjiiir" not in log and "Tanggul" not in log and "@someone" not in log
    assert TOKEN not in log
