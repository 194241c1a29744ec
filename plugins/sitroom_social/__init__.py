"""Social feeds: what the city is talking about, as topic counts, trends and sentiment.

Three kinds share one pipeline (core.py): `rss` (RSS/Atom), `mastodon` (REST timelines and
search) and `social_webhook` (bridges push posts to `POST /api/v1/social/{source}`).
Posts are matched against Indonesian/Javanese topic sets, placed in one of Semarang's 16
kecamatan, scored for sentiment, and turned into burst scores. See README.md.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sitroom.api import Route, SimulatorSpec, SourceKind, hookimpl
from sitroom_social.config import MastodonConfig, RssConfig, WebhookConfig
from sitroom_social.mastodon import MastodonSource
from sitroom_social.metrics import MASTODON_METRICS, RSS_METRICS, WEBHOOK_METRICS
from sitroom_social.rss import RssSource
from sitroom_social.webhook import WebhookSource

if TYPE_CHECKING:
    from sitroom.api import DaemonAPI


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    return [
        SourceKind(
            name="rss",
            config_model=RssConfig,
            factory=RssSource,
            metrics=RSS_METRICS,
            description="RSS/Atom news feeds: topics, districts, sentiment and trends.",
        ),
        SourceKind(
            name="mastodon",
            config_model=MastodonConfig,
            factory=MastodonSource,
            metrics=MASTODON_METRICS,
            description="Mastodon hashtag/public timelines and search: topics and trends.",
        ),
        SourceKind(
            name="social_webhook",
            config_model=WebhookConfig,
            factory=WebhookSource,
            metrics=WEBHOOK_METRICS,
            description="Posts pushed by bridges to POST /api/v1/social/{source}.",
            push=True,
        ),
    ]


@hookimpl
def sitroom_routes(daemon: DaemonAPI) -> list[Route]:
    from sitroom_social.routes import social_routes

    return social_routes(daemon)


@hookimpl
def sitroom_simulators() -> list[SimulatorSpec]:
    from sitroom_social.simulator import SocialSimulatorConfig, run_social_simulator

    return [
        SimulatorSpec(
            name="social",
            config_model=SocialSimulatorConfig,
            run=run_social_simulator,
            description="An RSS feed and a Mastodon-like API on loopback, from real text.",
        )
    ]


@hookimpl
def sitroom_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from sitroom_social.cli import add_parser

    add_parser(subparsers)
