"""Malformed register maps are refused before the first poll, naming the file and field."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from sitroom_pumps.config import PumpStationConfig
from sitroom_pumps.registermap import load_profile

from .conftest import PROFILES, REPO

BROKEN_PROFILES = {
    "wrong-type.yaml": {"station": [{"role": "sump_level", "function": "coil",
                                     "address": 0, "type": "f32"}]},
    "typo.yaml": {"pump": {"points": [{"role": "current", "adress": 3}]}},
    "bad-bit.yaml": {"pump": {"points": [{"role": "running", "address": 0, "type": "bit",
                                          "bit": 16}]}},
    "bad-unit.yaml": {"station": [{"role": "sump_level", "address": 0, "unit": "l/s"}]},
    "too-far.yaml": {"station": [{"role": "sump_level", "address": 65535, "type": "u32"}]},
    "unknown-role.yaml": {"station": [{"role": "water", "address": 0}]},
    "nan-scale.yaml": {"station": [{"role": "sump_level", "address": 0, "scale": ".nan"}]},
}
EXPECTED = {
    "wrong-type.yaml": "field 'station.0': Value error, type 'f32' does not fit function 'coil'",
    "typo.yaml": "field 'pump.points.0.adress': Extra inputs are not permitted",
    "bad-bit.yaml": "field 'pump.points.0.bit'",
    "bad-unit.yaml": "unit 'l/s' does not fit role 'sump_level'",
    "too-far.yaml": "passes 65535",
    "unknown-role.yaml": "unknown role 'water'",
    "nan-scale.yaml": "field 'station.0.scale'",
}


def write_profile(directory: Path, name: str, content: object) -> Path:
    path = directory / name
    text = yaml.safe_dump(content).replace("'.nan'", ".nan")
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", sorted(BROKEN_PROFILES))
def test_broken_profile_names_file_and_field(tmp_path, name):
    path = write_profile(tmp_path, name, BROKEN_PROFILES[name])
    with pytest.raises(ValueError) as info:
        load_profile(path)
    message = str(info.value)
    assert str(path) in message
    assert EXPECTED[name] in message


def test_invalid_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("station:\n  - {role: sump_level, address: [\n")
    with pytest.raises(ValueError, match=r"bad\.yaml line \d+: invalid YAML"):
        load_profile(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_profile(tmp_path / "absent.yaml")


def source(**device: object) -> dict[str, object]:
    return {"kind": "modbus_pump_station", "name": "rp-test", "host": "127.0.0.1",
            "devices": [device]}


def validate(data: dict[str, object], base_dir: Path = PROFILES.parent) -> PumpStationConfig:
    return PumpStationConfig.model_validate(data, context={"base_dir": base_dir})


def test_shipped_profiles_are_valid_and_relative_to_config_dir():
    config = validate(source(profile="profiles/generic-pump-station-plc.yaml", pumps=["P1"]))
    register_map = config.devices[0].register_map
    assert register_map.pump is not None and register_map.pump.stride == 10
    assert config.devices[0].profile == PROFILES / "generic-pump-station-plc.yaml"
    assert validate(source(profile="profiles/variable-speed-drive.yaml", pumps=["P1"]))


@pytest.mark.parametrize(("data", "message"), [
    (source(profile="profiles/generic-pump-station-plc.yaml"), "list the pumps"),
    (source(map={"station": [{"role": "sump_level", "address": 0}]}, pumps=["P1"]),
     "'pumps' must be empty"),
    (source(), "exactly one of 'profile'"),
    (source(map={"pump": {"points": [{"role": "current", "address": 0}]}},
            pumps=["P1", "P1"]), "pump names repeat"),
    (source(map={"pump": {"points": [{"role": "current", "address": 0}]}},
            pumps=['bad"name']), "pump name"),
    (source(map={"pump": {"stride": 40000, "points": [{"role": "current", "address": 0}]}},
            pumps=["P1", "P2", "P3"]), "past 65535"),
    (source(map={"station": [{"role": "sump_level", "address": 0},
                             {"role": "sump_level", "address": 1}]}), "mapped twice"),
    (source(map={"station": [{"role": "current", "address": 0}]}), "is a pump role"),
    (source(map={"station": [{"role": "running", "address": 0}]}), "is a pump role"),
    (source(map={"station": [{"role": "sump_level", "address": 0, "invert": True}]}),
     "only for boolean roles"),
    (source(map={"station": [{"role": "device_model", "address": 0, "type": "u16"}]}),
     "needs type string"),
    (source(map={"station": [{"role": "sump_level", "address": 0, "type": "string",
                              "length": 2}]}), "other than string"),
    (source(map={"station": [{"role": "sump_level", "address": 0, "type": "bit"}]}),
     "needs 'bit'"),
    (source(map={"station": [{"role": "sump_level", "address": 0, "valid_min": 5,
                              "valid_max": 1}]}), "valid_min is above valid_max"),
])
def test_bad_source_config(data, message):
    with pytest.raises(ValidationError, match=message):
        validate(data)


def test_host_and_double_feed_are_checked():
    ok = {"map": {"station": [{"role": "sump_level", "address": 0}]}}
    with pytest.raises(ValidationError, match="host name or IP"):
        validate({**source(**ok), "host": "tcp://10.0.0.1:502"})
    twice = {**source(**ok), "devices": [{**ok, "unit": 1}, {**ok, "unit": 2}]}
    with pytest.raises(ValidationError, match="already fed by devices"):
        validate(twice)


def test_check_config_reports_every_broken_profile(tmp_path):
    """The real CLI on a config dir: non-zero exit, one line per problem, file and field."""
    (tmp_path / "profiles").mkdir()
    shutil.copy(PROFILES / "generic-pump-station-plc.yaml", tmp_path / "profiles")
    sources = [{"kind": "modbus_pump_station", "name": "rp-good", "host": "127.0.0.1",
                "devices": [{"profile": "profiles/generic-pump-station-plc.yaml",
                             "pumps": ["P1"]}]}]
    for index, (name, content) in enumerate(sorted(BROKEN_PROFILES.items())):
        write_profile(tmp_path / "profiles", name, content)
        sources.append({"kind": "modbus_pump_station", "name": f"rp-bad-{index}",
                        "host": "127.0.0.1",
                        "devices": [{"profile": f"profiles/{name}", "pumps": ["P1"]}]})
    (tmp_path / "30-pumps.yaml").write_text(yaml.safe_dump({"sources": sources}))
    result = subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "check-config", "--config-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    mine = [line for line in result.stderr.splitlines() if str(tmp_path) in line]
    assert not any("rp-good" in line for line in mine)
    for index, name in enumerate(sorted(BROKEN_PROFILES)):
        line = next(line for line in mine if f"name=rp-bad-{index}," in line)
        assert "30-pumps.yaml" in line and f"profiles/{name}" in line
        assert EXPECTED[name] in line


def test_profiles_are_shared_until_the_file_changes(tmp_path):
    path = write_profile(tmp_path, "p.yaml", {"station": [{"role": "sump_level",
                                                           "address": 0}]})
    first = load_profile(path)
    assert load_profile(path) is first  # stations sharing a profile share one parsed map
    write_profile(tmp_path, "p.yaml", {"station": [{"role": "sump_level", "address": 17}]})
    assert load_profile(path).station[0].address == 17


def test_sample_config_is_valid():
    sample = Path(REPO / "plugins" / "sitroom_pumps" / "sample.yaml")
    for entry in yaml.safe_load(sample.read_text())["sources"]:
        assert validate(entry).station_id


def test_readme_examples_are_valid():
    import re

    from sitroom_pumps.registermap import RegisterMap

    readme = (REPO / "plugins" / "sitroom_pumps" / "README.md").read_text()
    source_example, profile_example = re.findall(r"```yaml\n(.*?)```", readme, re.S)[:2]
    assert RegisterMap.model_validate(yaml.safe_load(profile_example)).pump is not None
    assert validate(yaml.safe_load(source_example)["sources"][0]).station_id == "kali-semarang"
