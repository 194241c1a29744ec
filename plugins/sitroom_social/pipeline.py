"""What one post is about: topics, district, sentiment. The one analysis the daemon and the
`sitroom social classify` command share, so a text classified by hand is classified exactly
as the daemon would count it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitroom_social.config import SocialSourceConfig
from sitroom_social.gazetteer import UNKNOWN, Gazetteer
from sitroom_social.sentiment import polarity, shipped_lexicon
from sitroom_social.text import strip_html, tokens
from sitroom_social.topics import TopicMatcher


@dataclass(frozen=True)
class Analysis:
    text: str
    """Plain text (HTML stripped)."""
    tokens: list[str]
    topics: list[str]
    districts: list[str]
    """Every district a place in the text belongs to, in text order; the first is counted."""
    sentiment: float

    @property
    def district(self) -> str:
        return self.districts[0] if self.districts else UNKNOWN

    @property
    def polarity(self) -> str:
        return polarity(self.sentiment)

    def as_json(self) -> dict[str, object]:
        return {"topics": self.topics, "districts": self.districts,
                "sentiment": round(self.sentiment, 3), "polarity": self.polarity}


class TextPipeline:
    """Normalisation, topic matching, district attribution and sentiment for one config."""

    def __init__(self, config: SocialSourceConfig) -> None:
        self.topics = TopicMatcher(config.topic_specs())
        self.gazetteer = Gazetteer(config.extra_places)
        self.lexicon = shipped_lexicon()

    def normalise(self, text: str, html: bool = False) -> tuple[str, list[str]]:
        plain = strip_html(text) if html else text
        return plain, tokens(plain)

    def analyse_tokens(self, text: str, toks: list[str]) -> Analysis:
        return Analysis(
            text=text,
            tokens=toks,
            topics=self.topics.match(toks),
            districts=self.gazetteer.locate_all(toks),
            sentiment=self.lexicon.score(toks),
        )

    def analyse(self, text: str, html: bool = False) -> Analysis:
        plain, toks = self.normalise(text, html)
        return self.analyse_tokens(plain, toks)
