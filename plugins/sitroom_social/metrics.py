"""The metric families every social kind emits, declared once.

Label values are bounded by config: `topic` from configured topics, `district` from the
gazetteer (plus `unknown`), `sentiment`, `reason` and `result` from fixed sets below. No
label ever carries a handle, a name, a URL or post text.
"""

from __future__ import annotations

from sitroom.api import MetricSpec

SENTIMENTS = ("positive", "neutral", "negative")
REJECT_REASONS = ("too_large", "hostile_xml", "malformed", "invalid")
FETCH_RESULTS = ("ok", "not_modified", "ratelimited")

POSTS_SEEN = MetricSpec(
    "sitroom_social_posts_seen_total",
    "counter",
    "Posts received from the source, duplicates included.",
)
POSTS_DUPLICATE = MetricSpec(
    "sitroom_social_posts_duplicate_total",
    "counter",
    "Posts dropped as already seen (same GUID/id or same normalised text).",
)
POSTS_MATCHED = MetricSpec(
    "sitroom_social_posts_matched_total", "counter", "New posts that matched a topic.", ("topic",)
)
MENTIONS = MetricSpec(
    "sitroom_social_mentions_total",
    "counter",
    "Topic mentions by the district named in the post (`unknown` if none).",
    ("topic", "district"),
)
SENTIMENT_POSTS = MetricSpec(
    "sitroom_social_sentiment_posts_total",
    "counter",
    "Matched posts by lexicon sentiment.",
    ("topic", "sentiment"),
)
SENTIMENT_SCORE = MetricSpec(
    "sitroom_social_sentiment_score",
    "gauge",
    "Exponentially weighted mean sentiment of recent matched posts, -1..1.",
    ("topic",),
    keep_when_stale=True,
)
TOPIC_TREND_SCORE = MetricSpec(
    "sitroom_social_topic_trend_score",
    "gauge",
    "Burst score of a topic: -log10 Poisson probability of the recent window's "
    "mentions given the learnt baseline (2 = 1 in 100).",
    ("topic",),
)
TREND_SCORE = MetricSpec(
    "sitroom_social_trend_score",
    "gauge",
    "Burst score of a topic in one district (same scale as the topic score).",
    ("topic", "district"),
)
TOPIC_EXPECTED_MENTIONS = MetricSpec(
    "sitroom_social_topic_expected_mentions",
    "gauge",
    "Mentions the baseline expects in one trend window.",
    ("topic",),
)
LAST_POST = MetricSpec(
    "sitroom_social_last_post_timestamp_seconds",
    "gauge",
    "Unix time the last new post was processed.",
    unit="seconds",
    keep_when_stale=True,
)
REJECTED = MetricSpec(
    "sitroom_social_rejected_total",
    "counter",
    "Documents or payloads refused: too_large, hostile_xml, malformed, invalid.",
    ("reason",),
)
DISTRICT_INFO = MetricSpec(
    "sitroom_social_district_info",
    "info",
    "Districts (kecamatan) the gazetteer knows; join on `district`.",
    ("district", "kecamatan"),
)
COMMON = (
    POSTS_SEEN,
    POSTS_DUPLICATE,
    POSTS_MATCHED,
    MENTIONS,
    SENTIMENT_POSTS,
    SENTIMENT_SCORE,
    TOPIC_TREND_SCORE,
    TREND_SCORE,
    TOPIC_EXPECTED_MENTIONS,
    LAST_POST,
    REJECTED,
    DISTRICT_INFO,
)

FETCHES = MetricSpec(
    "sitroom_social_fetches_total",
    "counter",
    "HTTP fetches by result: ok, not_modified (304), ratelimited.",
    ("result",),
)
FETCH = (FETCHES,)

RATELIMIT_REMAINING = MetricSpec(
    "sitroom_social_ratelimit_remaining",
    "gauge",
    "Requests left in the Mastodon rate-limit window (X-RateLimit-Remaining).",
)
MASTODON = (RATELIMIT_REMAINING,)

RSS_METRICS = COMMON + FETCH
MASTODON_METRICS = COMMON + FETCH + MASTODON
WEBHOOK_METRICS = COMMON
