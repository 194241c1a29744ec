"""Sosial: what people say about the city (topics, trends by district, sentiment)."""

from __future__ import annotations

from typing import Any

from dashgen.builders import (
    GREEN,
    ORANGE,
    RED,
    UID_SOCIAL,
    YELLOW,
    Panel,
    Query,
    dashboard,
    query_var,
    source_var,
)

S = 'source=~"$source", topic=~"$topic"'
AGENCY_TOPICS = {
    "BPBD": "banjir|rob|longsor|pohon_tumbang|angin_kencang|petir|gempa|kebakaran",
    "Dishub": "macet|kecelakaan|jalan_rusak",
    "Polisi": "kriminalitas",
    "DLH": "sampah",
    "PLN / PDAM": "listrik_padam|air_bersih",
}
"""The shipped topics by the agency that acts on them (data/topics.yaml `agency`; the alert
rules route the same groups; tests/social/test_topic_labels.py keeps the three in step)."""


def build() -> dict[str, Any]:
    agencies = [
        Panel("stat", f"{agency}: highest burst", [Query(
            f'max(sitroom_social_topic_trend_score{{source=~"$source", topic=~"{topics}"}})',
            instant=True)], w=8 if agency == "BPBD" else 4, h=4,
              description=f"Highest topic burst score among {topics.replace('|', ', ')}.",
              decimals=1, thresholds=[(None, GREEN), (2, YELLOW), (3, RED)])
        for agency, topics in AGENCY_TOPICS.items()
    ]
    items = [
        *agencies,
        Panel("bargauge", "Trending topics (burst score)", [Query(
            f"max by (topic) (sitroom_social_topic_trend_score{{{S}}})", "{{topic}}",
            instant=True)], w=12, h=8,
              description="-log10 of the chance of this many mentions under the learnt "
                          "baseline: 2 = 1 in 100, 3 = 1 in 1000.",
              thresholds=[(None, GREEN), (2, YELLOW), (3, RED)],
              options={"orientation": "horizontal", "displayMode": "lcd"}),
        Panel("table", "Where: trend by district", [Query(
            f"topk(15, max by (topic, district) (sitroom_social_trend_score{{{S}}}))",
            instant=True, table=True)], w=12, h=8,
              thresholds=[(None, GREEN), (2, YELLOW), (3, RED)],
              transformations=[{"id": "organize", "options": {
                  "excludeByName": {"Time": True},
                  "renameByName": {"Value": "burst score"}}}]),
        Panel("timeseries", "Mentions per hour by topic", [Query(
            f"sum by (topic) (increase(sitroom_social_mentions_total{{{S}}}[1h]))",
            "{{topic}}")], w=12, unit="short"),
        Panel("timeseries", "Sentiment by topic", [Query(
            f"avg by (topic) (sitroom_social_sentiment_score{{{S}}})", "{{topic}}")], w=12,
              min=-1, max=1, thresholds=[(None, RED), (-0.2, ORANGE), (0.2, GREEN)],
              custom={"thresholdsStyle": {"mode": "line"}}),
        Panel("timeseries", "Posts seen and matched", [
            Query('sum by (source) (rate(sitroom_social_posts_seen_total{source=~"$source"}'
                  "[$__rate_interval]))", "seen {{source}}"),
            Query(f"sum by (source) (rate(sitroom_social_posts_matched_total{{{S}}}"
                  "[$__rate_interval]))", "matched {{source}}")], w=12, unit="ops"),
        Panel("bargauge", "Minutes since the last post", [Query(
            '(time() - sitroom_social_last_post_timestamp_seconds{source=~"$source"}) / 60',
            "{{source}}", instant=True)], w=12, unit="m",
              thresholds=[(None, GREEN), (30, YELLOW), (120, RED)],
              options={"orientation": "horizontal", "displayMode": "basic"}),
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
