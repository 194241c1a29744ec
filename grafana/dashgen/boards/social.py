"""Sosial: what people say about the city (topics, trends by district, sentiment)."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import bargauge, common, stat, table, timeseries
from grafana_foundation_sdk.models.common import (
    BarGaugeDisplayMode,
    GraphThresholdsStyleMode,
    VizOrientation,
)

from dashgen.builders import (
    GREEN,
    ORANGE,
    RED,
    UID_SOCIAL,
    YELLOW,
    Item,
    dashboard,
    organize,
    prom,
    query_var,
    source_var,
    steps,
)

S = 'source=~"$source", topic=~"$topic"'
BURST = ((None, GREEN), (2, YELLOW), (3, RED))
AGENCY_TOPICS = {
    "BPBD": "banjir|rob|longsor|pohon_tumbang|angin_kencang|petir|gempa|kebakaran",
    "Dishub": "macet|kecelakaan|jalan_rusak",
    "Polisi": "kriminalitas",
    "DLH": "sampah",
    "PLN / PDAM": "listrik_padam|air_bersih",
}
"""The shipped topics by the agency that acts on them (data/topics.yaml `agency`; the alert
rules route the same groups; tests/social/test_topic_labels.py keeps the three in step)."""


def agency_burst(agency: str, topics: str) -> stat.Panel:
    return (stat.Panel().title(f"{agency}: highest burst").span(8 if agency == "BPBD" else 4)
            .height(4)
            .with_target(prom(f'max(sitroom_social_topic_trend_score{{source=~"$source", '
                              f'topic=~"{topics}"}})', instant=True))
            .description(f"Highest topic burst score among {topics.replace('|', ', ')}.")
            .decimals(1).thresholds(steps(*BURST)))


def build() -> dict[str, Any]:
    items: list[Item] = [
        *(agency_burst(agency, topics) for agency, topics in AGENCY_TOPICS.items()),
        bargauge.Panel().title("Trending topics (burst score)").span(12).height(8)
        .with_target(prom(f"max by (topic) (sitroom_social_topic_trend_score{{{S}}})",
                          "{{topic}}", instant=True))
        .description("-log10 of the chance of this many mentions under the learnt "
                     "baseline: 2 = 1 in 100, 3 = 1 in 1000.")
        .thresholds(steps(*BURST))
        .orientation(VizOrientation.HORIZONTAL).display_mode(BarGaugeDisplayMode.LCD),
        table.Panel().title("Where: trend by district").span(12).height(8)
        .with_target(prom(f"topk(15, max by (topic, district) "
                          f"(sitroom_social_trend_score{{{S}}}))", instant=True, table=True))
        .thresholds(steps(*BURST))
        .with_transformation(organize(exclude=("Time",), rename={"Value": "burst score"})),
        timeseries.Panel().title("Mentions per hour by topic").span(12).height(8)
        .unit("short")
        .with_target(prom(f"sum by (topic) (increase(sitroom_social_mentions_total{{{S}}}"
                          "[1h]))", "{{topic}}")),
        timeseries.Panel().title("Sentiment by topic").span(12).height(8).min(-1).max(1)
        .with_target(prom(f"avg by (topic) (sitroom_social_sentiment_score{{{S}}})",
                          "{{topic}}"))
        .thresholds(steps((None, RED), (-0.2, ORANGE), (0.2, GREEN)))
        .thresholds_style(common.GraphThresholdsStyleConfig()
                          .mode(GraphThresholdsStyleMode.LINE)),
        timeseries.Panel().title("Posts seen and matched").span(12).height(8).unit("ops")
        .with_target(prom('sum by (source) (rate(sitroom_social_posts_seen_total'
                          '{source=~"$source"}[$__rate_interval]))', "seen {{source}}"))
        .with_target(prom(f"sum by (source) (rate(sitroom_social_posts_matched_total{{{S}}}"
                          "[$__rate_interval]))", "matched {{source}}")),
        bargauge.Panel().title("Minutes since the last post").span(12).height(8).unit("m")
        .with_target(prom('(time() - sitroom_social_last_post_timestamp_seconds'
                          '{source=~"$source"}) / 60', "{{source}}", instant=True))
        .thresholds(steps((None, GREEN), (30, YELLOW), (120, RED)))
        .orientation(VizOrientation.HORIZONTAL).display_mode(BarGaugeDisplayMode.BASIC),
    ]
    return dashboard(
        UID_SOCIAL, "sitroom: Sosial (social media)",
        "Topics people post about (banjir, macet, kriminalitas, listrik_padam, ...), grouped "
        "by the agency that acts on them, where, and how they feel.",
        items, tags=["social"],
        variables=[source_var("rss|mastodon|social_webhook"),
                   query_var("topic", "Topic",
                             "label_values(sitroom_social_posts_matched_total, topic)")],
    )
