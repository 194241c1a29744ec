"""Topic names are metric label values that alert rules and boards name: the three must agree.

A topic renamed in data/topics.yaml but not in alerts/social.rules.yml would silently stop
paging its team; one missing from the board's agency groups would vanish from the wall.
"""

from __future__ import annotations

import re
import sys

import yaml

from sitroom_social.topics import TOPIC_NAME, default_topics
from tests.support import REPO

sys.path.insert(0, str(REPO / "grafana"))
from dashgen.boards.social import AGENCY_TOPICS

ALERT_TEAMS = {"BPBD": "bpbd", "Dishub": "dishub", "Polisi": "security", "PLN / PDAM": "dpu"}


def alert_topics() -> dict[str, set[str]]:
    """team -> topics its social alert selects (from the rule's topic matcher)."""
    rules = yaml.safe_load((REPO / "alerts" / "social.rules.yml").read_text())["groups"][0]
    out: dict[str, set[str]] = {}
    for rule in rules["rules"]:
        found = re.search(r'topic=~?"([^"]+)"', rule["expr"])
        assert found, rule["alert"]
        out.setdefault(rule["labels"]["team"], set()).update(found.group(1).split("|"))
    return out


def test_board_groups_cover_every_shipped_topic_once() -> None:
    grouped = [t for topics in AGENCY_TOPICS.values() for t in topics.split("|")]
    assert sorted(grouped) == sorted(default_topics())


def test_each_topic_is_in_its_agency_group() -> None:
    for name, spec in default_topics().items():
        assert re.match(TOPIC_NAME, name)
        group = next(g for g, topics in AGENCY_TOPICS.items() if name in topics.split("|"))
        agency = spec.agency.replace("Polrestabes", "Polisi")
        assert any(part in agency for part in group.split(" / ")), name


def test_alert_rules_route_the_board_groups() -> None:
    routed = alert_topics()
    for group, team in ALERT_TEAMS.items():
        assert routed[team] == set(AGENCY_TOPICS[group].split("|")), group
    assert set().union(*routed.values()) <= set(default_topics())


def test_the_sample_config_is_valid_and_its_custom_topic_matches() -> None:
    from sitroom_social.config import RssConfig, WebhookConfig
    from sitroom_social.text import tokens
    from sitroom_social.topics import TopicMatcher

    sample = yaml.safe_load((REPO / "plugins/sitroom_social/sample.yaml").read_text())
    sources = {s["kind"]: s for s in sample["sources"]}  # mastodon's needs its token file
    RssConfig.model_validate(sources["rss"])
    webhook = WebhookConfig.model_validate(sources["social_webhook"])
    matcher = TopicMatcher(webhook.topic_specs())
    assert matcher.match(tokens("Mobil parkir di trotoar Jl. Pemuda lagi")) == ["parkir_liar"]
