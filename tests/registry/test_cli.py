"""`sitroom cameras`: CSV import (all or nothing), export without secrets, admin actions."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest

from sitroom.cli import main
from sitroom_registry.store import RegistryStore
from tests.registry.conftest import registry_source, write_config

HEADER = (
    "owner_name,contact_phone,owner_type,address,district,latitude,longitude,"
    "url,protocol,host,port,path,username,password,consent\n"
)
GOOD = [
    "Dishub Semarang,0243547,government,Jl. Pemuda 148,Semarang Tengah,-6.98,110.41,"
    "rtsp://127.0.0.1:554/cam1,,,,,operator,kata-sandi-rahasia,ya\n",
    "Pos Polisi Tugu Muda,,government,Bundaran Tugu Muda,semarang tengah,-6.984,110.409,"
    ",http,127.0.0.1,80,/snapshot.jpg,,,true\n",
]


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["cameras", *args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return write_config(tmp_path / "conf", [registry_source(8080)])


def test_import_list_export(config_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "cameras.csv"
    sheet.write_text(HEADER + "".join(GOOD))
    code, out, err = run("import", "--csv", str(sheet), "--config-dir", str(config_dir))
    assert code == 0, err
    assert "imported 2" in out
    code, out, _ = run("list", "--json", "--config-dir", str(config_dir))
    rows = json.loads(out)
    assert [(r["status"], r["source"], r["district"]) for r in rows] == [
        ("pending", "import", "Semarang Tengah")
    ] * 2
    assert {(r["protocol"], r["port"], r["path"]) for r in rows} == {
        ("rtsp", 554, "/cam1"),
        ("http", 80, "/snapshot.jpg"),
    }
    assert "kata-sandi-rahasia" not in out

    code, out, _ = run("export", "--config-dir", str(config_dir))
    exported = list(csv.DictReader(io.StringIO(out)))
    assert len(exported) == 2 and "owner_name" not in exported[0]
    assert "kata-sandi-rahasia" not in out and "0243547" not in out
    code, out, _ = run("export", "--include-personal", "--config-dir", str(config_dir))
    assert "0243547" in out and "kata-sandi-rahasia" not in out


def test_import_is_all_or_nothing(config_dir: Path, tmp_path: Path) -> None:
    bad = [
        GOOD[0],
        GOOD[1].replace("semarang tengah", "Bandung"),
        GOOD[0].replace("127.0.0.1", "10.0.0.1"),
        GOOD[0].replace(",ya\n", ",tidak\n"),
        GOOD[1].replace(",80,", ",22,"),
    ]
    sheet = tmp_path / "bad.csv"
    sheet.write_text(HEADER + "".join(bad))
    code, out, err = run("import", "--csv", str(sheet), "--config-dir", str(config_dir))
    assert code == 1
    assert "line 3: district:" in err
    assert "line 4: stream.url:" in err
    assert "line 5: consent:" in err
    assert "line 6: stream.port:" in err
    assert "line 2" not in err and "nothing imported" in err
    db = next((config_dir / "state").rglob("*.sqlite3"))
    store = RegistryStore(db).open()
    assert store.list() == []
    store.close()


def test_actions_and_errors(config_dir: Path, tmp_path: Path) -> None:
    code, _, err = run("approve", "0123456789abcdef", "--config-dir", str(config_dir))
    assert code == 2 and "no registry database" in err
    sheet = tmp_path / "one.csv"
    sheet.write_text(HEADER + GOOD[0])
    assert run("import", "--csv", str(sheet), "--config-dir", str(config_dir))[0] == 0
    code, out, _ = run("list", "--json", "--config-dir", str(config_dir))
    reg_id = json.loads(out)[0]["id"]
    code, _, err = run("approve", reg_id, "--config-dir", str(config_dir))
    assert code == 1 and "cannot approve a registration that is pending" in err
    code, _, err = run("suspend", "0123456789abcdef", "--config-dir", str(config_dir))
    assert code == 1 and "no registration" in err
    code, out, _ = run("retire", reg_id, "--config-dir", str(config_dir), "--actor", "ops")
    assert code == 0 and "retired" in out


def test_database_discovery_needs_one_registry(tmp_path: Path) -> None:
    two = write_config(
        tmp_path / "two",
        [registry_source(80), registry_source(80, name="registry-b", camera_prefix="b-")],
    )
    code, _, err = run("list", "--config-dir", str(two))
    assert code == 2 and "registry, registry-b" in err
    code, _, err = run("list", "--config-dir", str(two), "--registry", "registry-b")
    assert code == 2 and "registry-b.registry.sqlite3" in err  # found, not created yet
    code, _, err = run("list", "--db", str(tmp_path / "missing.sqlite3"))
    assert code == 2


def test_shipped_configs_validate() -> None:
    """sample.yaml and the demo's conf.d entry are valid registry configs."""
    import yaml

    from sitroom_registry.config import RegistryConfig
    from tests.support import REPO

    for path in (REPO / "plugins/sitroom_registry/sample.yaml", REPO / "conf.d/25-registry.yaml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            config = RegistryConfig.model_validate(source, context={"base_dir": path.parent})
            assert config.allowed_ports and config.bbox.lat_min < config.bbox.lat_max
