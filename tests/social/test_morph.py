"""Indonesian word forms: roots meet their derived forms, clitics and pasca- are peeled, and the
contexts that make a topic word mean something else (adverts, reviews, fiction, sport) hold."""

from __future__ import annotations

import pytest

from sitroom_social import morph
from sitroom_social.text import tokens
from sitroom_social.topics import TopicMatcher, TopicSpec, default_topics


@pytest.fixture(scope="module")
def matcher() -> TopicMatcher:
    return TopicMatcher(default_topics())


@pytest.mark.parametrize(("word", "light", "stem"), [
    ("robohnya", "roboh", "roboh"),
    ("pascakebakaran", "kebakaran", "bakar"),
    ("kebanjiran", "kebanjiran", "banjir"),
    ("penganiayaan", "penganiayaan", "aniaya"),
    ("dibegal", "dibegal", "begal"),
    ("tanya", "tanya", "tanya"),  # too short to peel "-nya" from
    ("sekolah", "sekolah", "sekolah"),
    ("2019", "2019", "2019"),
    ("banjire", "banjir", "banjir"),  # Javanese -e after a consonant
    ("lampune", "lampu", "lampu"),    # and -ne after a vowel
    ("tempe", "tempe", "tempe"),      # a root that ends in -e stays
    ("rame", "rame", "rame"),         # too short to peel
])
def test_light_form_and_stem(word: str, light: str, stem: str) -> None:
    assert morph.light(word) == light
    assert morph.stem(word) == stem


def test_stems_are_cached() -> None:
    morph.stem("kemacetan")
    before = morph.stem.cache_info().hits
    morph.stem("kemacetan")
    assert morph.stem.cache_info().hits == before + 1


@pytest.mark.parametrize(("text", "topics"), [
    # word forms the exact matcher missed (the examples)
    ("Robohnya atap pasar melukai dua pedagang", ["pohon_tumbang"]),
    ("Pemulihan hutan pascakebakaran butuh bertahun-tahun", ["kebakaran"]),
    ("Rumah warga Genuk kebanjiran lagi", ["banjir"]),
    ("Jalan Kaligawe dibanjiri air setinggi lutut", ["banjir"]),
    ("Permukiman diterjang banjir bandang", ["banjir"]),
    ("Kemacetannya sampai Jatingaleh", ["macet"]),
    ("Kepadatan lalu lintas terjadi di tol Krapyak", ["macet"]),
    ("Dua pendaki tewas tersambar petir", ["petir"]),
    ("Korban penganiayaan melapor ke Polsek", ["kriminalitas"]),
    ("Pelaku menerobos pagar lalu mengambil dua motor", ["kriminalitas"]),
    ("Sempat terjadi baku tembak dengan polisi", ["kriminalitas"]),
    ("Longsoran tebing menutup jalan di Gunungpati", ["longsor"]),
    ("Puting beliung merusak 20 rumah di Tugu", ["angin_kencang"]),
    ("Gempa bumi terasa sampai Semarang", ["gempa"]),
    ("Listrik padam sejak pagi di Tlogosari", ["listrik_padam"]),
    ("Air PDAM mati tiga hari, warga beli air galon", ["air_bersih"]),
    ("Jalan berlubang di Jalan Majapahit bikin pemotor jatuh", ["jalan_rusak"]),
    # a city event is not an advert, a review, a film plot or a match report
    ("Helm full face ini melindungi kepala saat kecelakaan", []),
    ("Film ini bercerita tentang perampok bank yang dikejar polisi", []),
    ("Fitur keselamatan mobil ini mencegah kecelakaan", []),
    ("Madrid ditumbangkan PSG dengan skor 0-3", []),
    ("Toko ini dibanjiri pembeli", []),
    ("Mesin pembakaran internal 1.8 liter", []),
    ("Sabun ini membunuh bakteri", []),
    ("Gol bunuh diri di menit 17", []),
    ("Badai cedera bikin pelatih pusing", []),
    ("Tiketnya hangus kalau tidak dipakai", []),
])
def test_topics_in_any_word_form(matcher: TopicMatcher, text: str, topics: list[str]) -> None:
    assert matcher.match(tokens(text)) == topics


def test_exact_mark_keeps_a_word_from_matching_its_derivations() -> None:
    root = TopicMatcher({"t": TopicSpec(keywords=["tembak"])}, contexts={})
    exact = TopicMatcher({"t": TopicSpec(keywords=["=tembak"])}, contexts={})
    assert root.match(tokens("dia melepas tembakan keras")) == ["t"]
    assert exact.match(tokens("dia melepas tembakan keras")) == []
    assert exact.match(tokens("tembak di tempat")) == ["t"]


def test_without_morphology_the_matcher_is_exact() -> None:
    spec = {"banjir": TopicSpec(keywords=["banjir"], unless=["film"])}
    exact = TopicMatcher(spec, morphology=False, contexts={})
    assert exact.match(tokens("rumah kebanjiran")) == []
    assert exact.match(tokens("film tentang banjir")) == ["banjir"]  # unless ignored too
    assert TopicMatcher(spec, contexts={}).match(tokens("film tentang banjir")) == []


def test_unknown_context_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown context '@iklan'"):
        TopicMatcher({"t": TopicSpec(keywords=["x"], unless=["@iklan"])})


def test_shipped_topics_name_an_agency_and_stay_few() -> None:
    topics = default_topics()
    assert 8 < len(topics) <= 20  # label values: bounded, and named in alerts and boards
    assert all(spec.agency and spec.description for spec in topics.values())


@pytest.mark.parametrize("text", [
    "mulut lu ky sampah",                      # an insult, not litter
    "acara ini kyk sampah bgt",
    "dasar artis murahan, sampah",
    "pejabat itu maling semua, merampok uang rakyat",  # officials, not street crime
    "operator merampok pulsa kita tiap bulan",
    "alhamdulillah banjir orderan hari ini",   # praise and orders, not water
    "postingannya dibanjiri pujian netizen",
    "PSIS tumbang di tangan Persib",           # a team, not a tree
    "jangan menggunakan kekerasan ya pak",     # advice, no event
    "ketika hujan disertai petir, sebaiknya jangan berteduh di bawah pohon",
    "kaget kayak disambar petir dengernya",
    "obat ini membunuh sel kanker",            # a health explainer
    "simulasi kebakaran di gedung balai kota pagi ini",  # a drill, no fire
    "video banjir di Kaligawe itu hoaks, kejadian tahun lalu",
    "ribuan penonton membanjiri alun alun",    # a crowd, not water
    "saat terjadi tabrakan payung klep dengan piston, mesin mati",  # an engine part
    "kapal karam itu berasal dari abad ke-4 sebelum masehi",  # archaeology
    "pelaku usaha mengancam menaikkan harga",  # business, not a criminal
    "jangan sok teraniaya deh",                # playing the victim
    "hepatitis mudah meluas di daerah yang kekurangan air bersih, perhatikan kebersihan",
    "pembalap itu terjatuh di gravel setelah tersenggol motor lawan",  # MotoGP
    "lagu berjudul pembunuh di album barunya",  # a song
])
def test_figurative_uses_and_advice_are_not_incidents(matcher: TopicMatcher, text: str) -> None:
    assert matcher.match(tokens(text)) == []


@pytest.mark.parametrize(("text", "topic"), [
    ("warga buang sampah sembarangan di kali Banjir Kanal", "sampah"),
    ("motor saya dicuri di depan rumah semalam", "kriminalitas"),
    ("dua petani tewas tersambar petir di sawah", "petir"),
    ("tim SAR mencari korban longsor di Gunungpati", "longsor"),
    ("pohon tumbang menimpa mobil di jalan Pahlawan", "pohon_tumbang"),
    ("seorang pemuda ditikam orang tak dikenal di Tlogosari", "kriminalitas"),
    ("dua remaja dibacok saat tawuran dini hari", "kriminalitas"),
    ("rumah kosong dijarah saat banjir", "kriminalitas"),
    ("kawanan pelaku menyekap penjaga toko lalu menggasak perhiasan", "kriminalitas"),
    ("kapal terbalik, tiga penumpang hilang", "kecelakaan"),
    ("kereta anjlok di dekat stasiun Poncol", "kecelakaan"),
    ("motor bertabrakan dengan truk di Kaligawe", "kecelakaan"),
    ("talud ambrol di Gajahmungkur setelah hujan deras", "longsor"),
    ("kali Beringin meluap sore ini", "banjir"),
    ("mati lampu lagi di Pedurungan", "listrik_padam"),
    ("uwuh numpuk neng pinggir dalan", "sampah"),  # Javanese: garbage piling up by the road
    ("persimpangan Kalibanteng padat merayap", "macet"),
    ("memasuki musim penghujan, waspada petir", "petir"),
    ("galian kabel di jalan Pandanaran bikin susah lewat", "jalan_rusak"),
])
def test_plain_reports_still_match(matcher: TopicMatcher, text: str, topic: str) -> None:
    assert topic in matcher.match(tokens(text))


def test_fire_fighting_is_a_fire_not_a_power_cut(matcher: TopicMatcher) -> None:
    assert matcher.match(tokens("kabel listrik korsleting, petugas memadamkan api")) == [
        "kebakaran"]


@pytest.mark.parametrize(("text", "topic"), [
    ("banjire nganti sedengkul neng Kaligawe", "banjir"),
    ("kaline meluap maneh", "banjir"),
    ("pohone tumbang nang dalan", "pohon_tumbang"),
    ("wong kesamber petir neng sawah", "petir"),
    ("bocah kelindes truk neng Kaligawe", "kecelakaan"),
    ("sampahe numpuk neng kali", "sampah"),
])
def test_javanese_suffix_and_colloquial_passives(matcher: TopicMatcher, text: str,
                                                 topic: str) -> None:
    """Semarang writes Indonesian mixed with Javanese: "banjire" is "the flood", "kesamber"
    is "tersambar"."""
    assert topic in matcher.match(tokens(text))
