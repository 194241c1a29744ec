"""/docs/runbooks: a live daemon serves the shipped runbooks with every alert's anchor."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from sitroom.config import DaemonConfig
from sitroom.runbooks_page import render_runbooks, runbooks_url
from tests.alerts.rules import RUNBOOKS, load_rules, rule_files
from tests.support import sample_value


class Ids(HTMLParser):
    """Every id="..." in a page (what a #fragment can land on)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)


def alert_names() -> list[str]:
    return [rule.alert for rule in load_rules(rule_files()) if rule.alert]


async def test_a_live_daemon_serves_every_rules_runbook_anchor(write_config, start_daemon):
    running = await start_daemon(write_config(sources=[]))
    status, page = await running.get("/docs/runbooks")
    assert status == 200
    ids = Ids(page).ids
    names = alert_names()
    assert len(names) > 30
    # the rules' runbook_url anchor (lower case) and the alert name as the overview's
    # firing-alerts table links it (${__value.raw})
    assert [n for n in names if n.lower() not in ids] == []
    assert [n for n in names if n not in ids] == []
    async with running.session.get(running.url + "/docs/runbooks.md",
                                   allow_redirects=False) as response:
        assert response.status == 301
        assert response.headers["Location"] == "/docs/runbooks"
    async with running.session.get(running.url + "/docs/runbooks") as response:
        assert response.headers["Content-Type"].startswith("text/html")


async def test_the_daemon_announces_its_runbooks_page(write_config, start_daemon):
    running = await start_daemon(write_config(sources=[]))
    _, metrics = await running.get("/metrics")
    assert sample_value(metrics, "sitroom_docs_info",
                        runbooks=f"{running.url}/docs/runbooks") == 1
    public = write_config(daemon={"public_url": "https://sitroom.semarangkota.example/room/"},
                          name="00-daemon.yaml")
    behind_proxy = await start_daemon(public)
    _, metrics = await behind_proxy.get("/metrics")
    assert sample_value(metrics, "sitroom_docs_info",
                        runbooks="https://sitroom.semarangkota.example/room/docs/runbooks") == 1


@pytest.mark.parametrize("bad", ["sitroom.example", "ftp://x/", "http://a b/", "https://x/?q"])
def test_public_url_must_be_an_http_url(bad: str) -> None:
    with pytest.raises(ValueError, match="public_url"):
        DaemonConfig(public_url=bad)


def test_default_address_follows_the_listen_address() -> None:
    assert runbooks_url(None, [("0.0.0.0", 9750)]) == "http://localhost:9750/docs/runbooks"
    assert runbooks_url(None, [("::1", 9751)]) == "http://[::1]:9751/docs/runbooks"
    assert runbooks_url(None, [("127.0.0.1", 80)]) == "http://127.0.0.1:80/docs/runbooks"


def test_headings_get_githubs_anchors_and_repeats_are_numbered() -> None:
    page = render_runbooks("# Runbooks\n\n## Flood (team bpbd)\n\n### Checks\n\n### Checks\n")
    assert {"runbooks", "flood-team-bpbd", "checks", "checks-1"} <= Ids(page).ids
    assert "<title>sitroom: Runbooks</title>" in page


def test_the_package_ships_the_repositorys_runbooks() -> None:
    from sitroom.runbooks_page import read_runbooks

    assert read_runbooks() == RUNBOOKS.read_text(encoding="utf-8")
