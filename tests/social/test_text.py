"""Normalisation, topic matching, district attribution and config validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sitroom_social.config import RssConfig
from sitroom_social.gazetteer import UNKNOWN, Gazetteer, shipped_gazetteer
from sitroom_social.text import strip_html, tokens
from sitroom_social.topics import TopicMatcher, TopicSpec, default_topics
from tests.social.conftest import sentences


@pytest.fixture(scope="module")
def matcher() -> TopicMatcher:
    return TopicMatcher(default_topics())


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


def test_strip_html_keeps_words_drops_markup_and_scripts() -> None:
    html = ('<p><a href="https://x/tags/banjir" class="hashtag">#<span>banjir</span></a> di '
            "Kaligawe<br>air &amp; lumpur</p><script>alert(1)</script>")
    assert strip_html(html) == "#banjir di Kaligawe air & lumpur"


def test_tokens_undo_chat_spelling() -> None:
    assert tokens("BANJIIIR di jln Kaligawe, gk bs lewat!!") == [
        "banjir", "di", "jalan", "kaligawe", "tidak", "bisa", "lewat"]
    assert tokens("hati2 @warga_smg https://t.co/x") == ["hati", "hati"]
    assert tokens("sampah-sampah") == ["sampah", "sampah"]


def test_javanese_variants_reach_the_same_topic(matcher: TopicMatcher) -> None:
    assert matcher.match(tokens("wit gedhe ambruk nang dalan")) == ["pohon_tumbang"]
    assert matcher.match(tokens("omahe kobong, geni gedhe banget")) == ["kebakaran"]
    assert matcher.match(tokens("motorku dicolong wong")) == ["kriminalitas"]


@pytest.mark.parametrize(("text", "topics"), [
    ("Banjiiiir setinggi lutut di Kaligawe", ["banjir"]),
    ("BANJIR DISKON akhir tahun!!", []),
    ("Toko ini banjir pembeli", []),
    ("Kredit macet bank naik", []),
    ("Macet total di Simpang Lima", ["macet"]),
    ("Rumah di Bandarharjo dilalap si jago merah", ["kebakaran"]),
    ("Dia kebakaran jenggot", []),
    ("Petugas pemadam kebakaran menangkap ular", []),
    ("pohon besar di depan SD Tlogosari tumbang", ["pohon_tumbang"]),
    ("Instagram tumbang lagi", []),
    ("Truk menabrak motor di Kaligawe", ["kecelakaan"]),
    ("Kebijakan ini menabrak aturan", []),
    ("Aktris itu mencuri perhatian", []),
    ("hati2 ada begal di Mangkang", ["kriminalitas"]),
    ("rob masuk rumah warga Tambak Lorok", ["rob"]),
])
def test_topics_with_exclusions(matcher: TopicMatcher, text: str, topics: list[str]) -> None:
    assert matcher.match(tokens(text)) == topics


def test_a_post_can_be_about_two_topics(matcher: TopicMatcher) -> None:
    text = "Kecelakaan bus di tol bikin macet panjang"
    assert sorted(matcher.match(tokens(text))) == ["kecelakaan", "macet"]


def test_labelled_real_sentences_mostly_agree(matcher: TopicMatcher) -> None:
    """Not the evaluation (bench/social_eval.py is): a guard that a topic edit that breaks
    matching on real text is noticed. Real news sentences, hand labels."""
    rows = sentences()
    agree = sum(set(matcher.match(tokens(s.text))) == set(s.topics) for s in rows)
    assert len(rows) >= 300
    assert agree / len(rows) >= 0.9


def test_gazetteer_has_the_16_kecamatan(gazetteer: Gazetteer) -> None:
    assert len(shipped_gazetteer()) == 16
    assert "Semarang Utara" in gazetteer.names.values()


@pytest.mark.parametrize(("text", "district"), [
    ("Banjir di jln Kaligawe", "gayamsari"),
    ("rob di Tambak Lorok", "semarang-utara"),
    ("macet di Simpang Lima", "semarang-selatan"),
    ("pohon tumbang di Semarang Barat", "semarang-barat"),
    ("kecelakaan di Tembalang dan Banyumanik", "tembalang"),  # first place named wins
    ("dekat tugu pahlawan", UNKNOWN),  # bare "tugu" is a monument, not the kecamatan
    ("banjir di Jakarta", UNKNOWN),
])
def test_district_attribution(gazetteer: Gazetteer, text: str, district: str) -> None:
    assert gazetteer.locate(tokens(text)) == district


def test_extra_places_extend_the_gazetteer() -> None:
    gazetteer = Gazetteer({"Perumahan Graha Padma": "semarang-barat"})
    assert gazetteer.locate(tokens("banjir di perumahan graha padma")) == "semarang-barat"
    with pytest.raises(ValueError, match="unknown district"):
        Gazetteer({"Somewhere": "atlantis"})


def base(**extra: object) -> dict[str, object]:
    return {"kind": "rss", "name": "f", "url": "http://127.0.0.1:1/feed.xml", **extra}


def test_config_defaults_watch_every_shipped_topic() -> None:
    config = RssConfig.model_validate(base())
    assert list(config.topic_specs()) == list(default_topics())


def test_config_custom_topic_and_subset() -> None:
    config = RssConfig.model_validate(base(
        topics=["banjir"], custom_topics={"pln": {"keywords": ["mati listrik", "pemadaman"]}}))
    assert list(config.topic_specs()) == ["banjir", "pln"]
    specs = config.topic_specs()
    assert TopicMatcher(specs).match(tokens("mati listrik lagi di Genuk")) == ["pln"]


@pytest.mark.parametrize(("extra", "message"), [
    ({"topics": ["banjr"]}, "unknown topic 'banjr'"),
    ({"custom_topics": {"Bad Name": {"keywords": ["x"]}}}, "must match"),
    ({"extra_places": {"Pasar X": "atlantis"}}, "unknown district 'atlantis'"),
    ({"trend": {"bucket": "5m", "window": "1m"}}, "at least one bucket"),
    ({"custom_topics": {"x": {"keywords": ["ok"], "typo_field": 1}}}, "typo_field"),
    ({"max_bytes": 10}, "max_bytes"),
])
def test_config_errors_are_clear(extra: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RssConfig.model_validate(base(**extra))


def test_empty_phrase_is_refused() -> None:
    with pytest.raises(ValueError, match="no words"):
        TopicMatcher({"x": TopicSpec(keywords=["!!!"])})
