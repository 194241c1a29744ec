"""`sitroom social classify`: the daemon's analysis of each input line, as JSON lines.

Run as a real process (the installed `sitroom` entry point), and checked against what the
daemon's own pipeline (SocialCore fed through a webhook source) records for the same posts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sitroom_social
from sitroom.testing import SourceHarness
from sitroom_social.core import Post
from tests.social.conftest import sentences

SITROOM = [sys.executable, "-m", "sitroom.cli"]


def classify(stdin: str, *args: str) -> tuple[int, list[dict[str, object]], str]:
    done = subprocess.run([*SITROOM, "social", "classify", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def test_plain_and_json_lines() -> None:
    rc, out, _ = classify(
        "Banjir setinggi lutut di jln Kaligawe, gk bs lewat\n"
        '{"text": "<p>Robohnya pohon di Simpang Lima</p>", "html": true}\n'
        "\n"
        "Film ini bercerita tentang perampok bank\n")
    assert rc == 0
    assert len(out) == 3  # the blank line is no text
    assert out[0]["topics"] == ["banjir"] and out[0]["districts"] == ["gayamsari"]
    assert out[0]["polarity"] == "negative" and -1 <= out[0]["sentiment"] < 0  # type: ignore[operator]
    assert out[1]["topics"] == ["pohon_tumbang"]
    assert out[1]["districts"] == ["semarang-selatan"]
    assert out[2]["topics"] == []


def test_bad_lines_are_reported_and_the_rest_still_classified() -> None:
    rc, out, err = classify('{"text": 5}\n{not json\nMacet total di Kaligawe\n')
    assert rc == 1
    assert out[0] == {"line": 1, "error": 'a JSON line needs a string field "text"'}
    assert out[1]["line"] == 2 and "not valid JSON" in str(out[1]["error"])
    assert out[2]["topics"] == ["macet"]
    assert "2 line(s) not understood" in err


def test_a_source_of_a_config_dir_brings_its_custom_topics(tmp_path: Path) -> None:
    (tmp_path / "social.yaml").write_text(
        "sources:\n"
        "  - kind: social_webhook\n"
        "    name: bridge\n"
        "    topics: [banjir]\n"
        "    custom_topics: {pln: {keywords: [byarpet]}}\n"
        "    extra_places: {Perumahan Graha Padma: semarang-barat}\n")
    rc, out, err = classify("byarpet lagi di Perumahan Graha Padma\nbanjir\nmacet\n",
                            "--config-dir", str(tmp_path), "--source", "bridge")
    assert rc == 0, err
    assert [o["topics"] for o in out] == [["pln"], ["banjir"], []]
    assert out[0]["districts"] == ["semarang-barat"]
    rc, _out, err = classify("x\n", "--config-dir", str(tmp_path), "--source", "nope")
    assert rc == 2 and "no social source named 'nope'" in err and "bridge" in err


def test_same_answer_as_the_daemon(tmp_path: Path) -> None:
    """Every tuning sentence the daemon counts, classify counts with the same topics and
    district; every sentence the daemon ignores, classify gives no topic."""
    rows = sentences()
    h = SourceHarness.from_plugin(
        sitroom_social, {"kind": "social_webhook", "name": "bridge", "recent_posts": 5000},
        state_dir=tmp_path)
    core = h.source.core  # type: ignore[attr-defined]
    core.process([Post(uid=str(s.index), text=s.text) for s in rows])
    daemon = {p.text: (list(p.topics), p.district) for p in core.recent}
    rc, out, _ = classify("".join(s.text + "\n" for s in rows))
    assert rc == 0 and len(out) == len(rows)
    assert len(daemon) >= 50
    for s, result in zip(rows, out, strict=True):
        districts = result["districts"]
        assert isinstance(districts, list)
        if s.text in daemon:
            assert (result["topics"], districts[0] if districts else "unknown") == daemon[s.text]
        else:
            assert result["topics"] == []
