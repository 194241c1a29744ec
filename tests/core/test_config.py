"""Config errors name the file, the source and the field; secrets resolve from files/env."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from sitroom.config import ConfigModel, parse_duration, read_config_dir
from sitroom.validation import load_config

from .conftest import make_test_plugins


def check_config(config_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "check-config", "--config-dir", str(config_dir)],
        capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(15, 15.0), ("30s", 30.0), ("500ms", 0.5), ("5m", 300.0), ("1.5h", 5400.0), ("2d", 172800)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-5s", "5 parsecs", True, None, [1]])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_check_config_names_file_source_and_field(write_config):
    config_dir = write_config(raw="""
sources:
  - kind: http_probe
    name: portal
    url: not-a-url
    interval: 30s
""", name="10-web.yaml")
    result = check_config(config_dir)
    assert result.returncode == 1
    assert "10-web.yaml" in result.stderr
    assert "name=portal" in result.stderr and "field 'url'" in result.stderr


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sources:\n  - kind: tick\n    name: a\n   bad: [\n", "YAML error"),
        ("- just\n- a list\n", "top level must be a mapping"),
        ("sauces: []\n", "unknown top-level key 'sauces'"),
        ("sources:\n  - kind: warp_drive\n    name: a\n", "unknown kind 'warp_drive'"),
        ("sources:\n  - name: a\n", "field 'kind'"),
        ("sources:\n  - kind: tick\n    name: UPPER case\n", "field 'name'"),
        ("sources:\n  - kind: tick\n    name: a\n    colour: red\n", "field 'colour'"),
        ("sources:\n  - kind: tick\n    name: a\n  - kind: tick\n    name: a\n",
         "duplicate source name"),
        ("daemon:\n  listen: 1\n  limits:\n    max_series_per_source: 0\n",
         "limits.max_series_per_source"),
        ("sources:\n  - kind: tick\n    name: a\n    password_file: /nonexistent/pw\n",
         "cannot read /nonexistent/pw"),
        ("sources:\n  - kind: tick\n    name: a\n    password: ${SITROOM_TEST_UNSET_VAR}\n",
         "SITROOM_TEST_UNSET_VAR is not set"),
    ],
)
def test_every_malformed_config_is_reported(write_config, raw, expected):
    config_dir = write_config(raw=raw, name="50-bad.yaml")
    write_config(sources=[{"kind": "tick", "name": "fine"}], name="10-ok.yaml")
    loaded = load_config(config_dir, make_test_plugins())
    messages = [str(issue) for issue in loaded.issues]
    assert any(expected in m and "50-bad.yaml" in m for m in messages), messages
    assert "fine" in loaded.sources or any("duplicate" in m for m in messages)


def test_secret_from_file_and_env(tmp_path, monkeypatch):
    class Model(ConfigModel):
        password: SecretStr
        user: str = "x"

    secret_file = tmp_path / "pw"
    secret_file.write_text("from-file\n")
    assert Model.model_validate({"password_file": str(secret_file)}).password.get_secret_value(
    ) == "from-file"
    relative = Model.model_validate({"password_file": "pw"}, context={"base_dir": tmp_path})
    assert relative.password.get_secret_value() == "from-file"
    monkeypatch.setenv("SITROOM_TEST_PW", "from-env")
    model = Model.model_validate({"password": "${SITROOM_TEST_PW}"})
    assert model.password.get_secret_value() == "from-env"
    assert "from-env" not in repr(model) and "from-env" not in model.model_dump_json()
    with pytest.raises(ValidationError, match="either password or password_file"):
        Model.model_validate({"password": "a", "password_file": str(secret_file)})


def test_shipped_demo_config_is_valid():
    result = check_config(Path(__file__).resolve().parents[2] / "conf.d")
    assert result.returncode == 0, result.stderr


def test_daemon_section_twice(write_config):
    write_config(daemon={"listen": ":1"}, name="a.yaml")
    config_dir = write_config(daemon={"listen": ":2"}, name="b.yaml")
    raw = read_config_dir(config_dir)
    assert any("second daemon section" in str(i) for i in raw.issues)


def test_check_config_demands_the_files_sources_read(tmp_path):
    """A renamed export or a CA bundle the daemon user cannot read fails check-config, naming
    the file, source and field; the daemon itself still starts such a source (it recovers
    when the file lands), so only check-config is strict."""
    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "conf.d", tmp_path / "conf.d")
    projects = tmp_path / "conf.d" / "60-projects.yaml"
    text = projects.read_text().replace(
        "../plugins/sitroom_projects/demo/semarang-projects.csv", "exports/missing.csv"
    )
    projects.write_text(text)
    (tmp_path / "conf.d" / "flood-tls.yaml").write_text(
        "sources:\n"
        "  - kind: mqtt_sensors\n"
        "    name: tls-gateway\n"
        "    port: 8883\n"
        "    tls: {ca_file: ca-dir}\n"
        "    topics: [{topic: 'x/{sensor}', format: json}]\n"
        "    sensors: {s1: {type: water_level}}\n"
    )
    (tmp_path / "conf.d" / "ca-dir").mkdir()
    result = check_config(tmp_path / "conf.d")
    assert result.returncode == 1
    missing = tmp_path / "conf.d" / "exports" / "missing.csv"
    projects_error = "(name=proyek-kota-semarang, kind=projects): field 'file': file not found"
    assert f"{projects_error}: {missing}" in result.stderr
    assert "(name=tls-gateway, kind=mqtt_sensors): field 'tls.ca_file': not a regular file" in (
        result.stderr
    )
    assert "2 problem(s)" in result.stderr


def test_input_files_are_found_inside_optional_nested_and_listed_fields(tmp_path):
    from pydantic import BaseModel

    from sitroom.config import InputFile
    from sitroom.inputfiles import input_files, unreadable

    class Tls(BaseModel):
        ca_file: InputFile | None = None

    class Source(BaseModel):
        file: InputFile
        optional: InputFile | None = None
        tls: list[Tls] = []
        other: Path | None = None

    model = Source.model_validate(
        {"file": "a.csv", "tls": [{}, {"ca_file": "ca.pem"}], "other": "x"},
        context={"base_dir": tmp_path},
    )
    assert dict(input_files(model)) == {
        "file": tmp_path / "a.csv",
        "tls[1].ca_file": tmp_path / "ca.pem",
    }
    (tmp_path / "a.csv").write_text("x")
    assert unreadable(tmp_path / "a.csv") is None
    assert unreadable(tmp_path / "ca.pem") == f"file not found: {tmp_path / 'ca.pem'}"


@pytest.mark.parametrize("url", ["https://user:secret@room.example/", "https://room.example/?a=1",
                                 "https://room.example/#x", "ftp://room.example/"])
def test_public_url_is_a_plain_public_address(url):
    """It lands in a label (sitroom_docs_info) and in every alert's runbook link."""
    from sitroom.config import DaemonConfig

    with pytest.raises(ValidationError, match="public_url"):
        DaemonConfig.model_validate({"public_url": url})
    assert DaemonConfig.model_validate({"public_url": "https://room.example/sitroom"})
