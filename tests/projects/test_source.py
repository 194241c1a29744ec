"""The projects source from a file and over HTTP (a real aiohttp server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from pydantic import ValidationError

import sitroom_projects
from sitroom.api import SourceError
from sitroom.testing import SourceHarness
from sitroom_projects.config import ProjectsConfig
from sitroom_projects.records import FIELDS

NOW = datetime(2026, 7, 1, 12, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp()
HEADER = ",".join(FIELDS) + "\n"
ROWS = [
    # id,name,agency,district,category,value,start,end,curve,planned,actual,absorbed
    "DPU-1,Jalan Kaligawe,DPU,Gayamsari,jalan,1.000.000.000,2026-01-01,2026-12-31,,,30,"
    "250.000.000",
    "DISDAG-1,Pasar Johar,Dinas Perdagangan,Semarang Tengah,pasar,,2026-01-01,2026-12-31,,"
    "45,40,",
    "DPU-2,Polder,DPU,Semarang Utara,polder,500000000,2026-01-01,2026-12-31,,,oops,",
]


def harness(**config: Any) -> SourceHarness:
    h = SourceHarness.from_plugin(sitroom_projects, {"kind": "projects", "name": "p", **config})
    h.source.clock = lambda: NOW  # type: ignore[attr-defined]
    return h


async def test_file_source_writes_projects_and_reports_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "proyek.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n")
    async with harness(file=str(path)) as h:
        await h.collect()
        planned = h.value("sitroom_project_planned_progress_ratio", project="DPU-1")
        assert planned == pytest.approx(0.4972, abs=1e-3)  # 181.5 of 365 days
        assert h.value("sitroom_project_actual_progress_ratio", project="DPU-1") == 0.3
        assert h.value("sitroom_project_progress_deviation_ratio", project="DPU-1") == \
            pytest.approx(0.3 - planned)
        assert h.value("sitroom_project_critical", project="DPU-1") == 1
        assert h.value("sitroom_project_critical", project="DISDAG-1") == 0  # -5 vs plan 45
        assert h.value("sitroom_project_critical_threshold_ratio", project="DPU-1") == -0.1
        assert h.value("sitroom_project_budget_absorption_ratio", project="DPU-1") == 0.25
        assert h.value("sitroom_project_budget_absorption_ratio", project="DISDAG-1") is None
        assert h.value("sitroom_project_deadline_timestamp_seconds", project="DPU-1") == \
            datetime(2027, 1, 1, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp()
        assert h.value("sitroom_project_info", project="DISDAG-1", name="Pasar Johar",
                       agency="Dinas Perdagangan", district="Semarang Tengah",
                       category="pasar") == 1
        assert h.value("sitroom_project_actual_progress_ratio", project="DPU-2") is None
        assert h.value("sitroom_projects_invalid_records") == 1
        assert h.ctx.status.details["invalid_records"] == [
            "row 4 (id=DPU-2), field 'actual_percent': expected a percentage 0..100, got 'oops'"
        ]

        # DPU-1 leaves the list; DISDAG-1 is renamed; the broken file keeps the last values
        path.write_text(HEADER + ROWS[1].replace("Pasar Johar", "Pasar Johar Baru") + "\n")
        await h.collect()
        assert h.value("sitroom_project_actual_progress_ratio", project="DPU-1") is None
        assert not any(k[0] == "DPU-1" for k in h.samples("sitroom_project_info"))
        assert [k[1] for k in h.samples("sitroom_project_info")] == ["Pasar Johar Baru"]
        assert h.value("sitroom_projects_invalid_records") == 0
        path.write_text("nama;nilai\n")
        with pytest.raises(SourceError) as failure:
            await h.collect()
        assert failure.value.reason == "decode" and "actual_percent" in str(failure.value)
        assert h.value("sitroom_project_actual_progress_ratio", project="DISDAG-1") == 0.4


async def test_missing_and_oversized_files(tmp_path: Path) -> None:
    async with harness(file=str(tmp_path / "absent.csv")) as h:
        with pytest.raises(SourceError) as failure:
            await h.collect()
        assert failure.value.reason == "read"
    big = tmp_path / "big.json"
    big.write_text(json.dumps([{"id": "x" * 50}] * 100))
    async with harness(file=str(big), max_bytes=1000) as h:
        with pytest.raises(SourceError) as failure:
            await h.collect()
        assert failure.value.reason == "too_large"


def test_config_checks(tmp_path: Path) -> None:
    base = {"kind": "projects", "name": "p"}
    for bad, message in [
        ({}, "exactly one of file or url"),
        ({"file": "a.csv", "url": "http://127.0.0.1/x"}, "exactly one"),
        ({"file": "a.csv", "headers": [{"name": "X-Key", "value": "k"}]}, "url sources only"),
        ({"file": "a.csv", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"file": "a.csv", "columns": {"nama": "x"}}, "unknown field"),
        ({"file": "a.csv", "critical_deviation_points": 5}, "less than or equal to 0"),
    ]:
        with pytest.raises(ValidationError, match=message):
            ProjectsConfig.model_validate({**base, **bad})
    parsed = ProjectsConfig.model_validate({**base, "file": "p.csv"},
                                           context={"base_dir": tmp_path})
    assert parsed.file == tmp_path / "p.csv" and parsed.interval == 300


# -- over HTTP ---------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, dict[str, Handler]]]:
    routes: dict[str, Handler] = {}

    async def dispatch(request: web.Request) -> web.StreamResponse:
        handler = routes.get(request.path)
        return await handler(request) if handler else web.Response(status=404)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", dispatch)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", routes
    finally:
        await runner.cleanup()


async def test_json_api_with_secret_header_and_own_field_names(
    server: tuple[str, dict[str, Handler]], tmp_path: Path
) -> None:
    base, routes = server
    (tmp_path / "key").write_text("sipd-k3y\n")
    payload = {"data": {"paket": [
        {"kode_paket": "SIPD-1", "nama_paket": "Drainase Genuk", "opd": "DPU",
         "kecamatan": "Genuk", "tanggal_mulai": "01/01/2026", "tanggal_selesai": "31/12/2026",
         "fisik": 70, "rencana": [{"date": "2026-06-01", "percent": 80}]},
        {"kode_paket": "SIPD-2", "nama_paket": "Pasar", "opd": "Dinas Perdagangan",
         "tanggal_mulai": "2026-01-01", "tanggal_selesai": "2026-12-31", "fisik": "x"},
    ]}}

    async def paket(request: web.Request) -> web.Response:
        if request.headers.get("X-API-Key") != "sipd-k3y":
            return web.Response(status=403)
        return web.json_response(payload)

    routes["/api/paket"] = paket
    config = {
        "url": f"{base}/api/paket", "items_key": "data.paket",
        "headers": [{"name": "X-API-Key", "value_file": str(tmp_path / "key")}],
        "columns": {"id": "kode_paket", "name": "nama_paket", "agency": "opd",
                    "district": "kecamatan", "start_date": "tanggal_mulai",
                    "end_date": "tanggal_selesai", "actual_percent": "fisik",
                    "planned_curve": "rencana"},
    }
    async with harness(**config) as h:
        await h.collect()
        # past the curve's last point (80 % on 1 June) the plan heads for 100 % at the end
        planned = h.value("sitroom_project_planned_progress_ratio", project="SIPD-1")
        assert planned is not None and 0.8 < planned < 0.9
        assert h.value("sitroom_project_critical", project="SIPD-1") == 1
        assert h.value("sitroom_projects_invalid_records") == 1
        assert "field 'fisik'" in h.ctx.status.details["invalid_records"][0]
    config["headers"] = [{"name": "X-API-Key", "value": "wrong-k3y"}]
    async with harness(**config) as h:
        with pytest.raises(SourceError) as failure:
            await h.collect()
        assert failure.value.reason == "status" and "wrong-k3y" not in str(failure.value)


async def test_csv_over_http_and_http_failures(server: tuple[str, dict[str, Handler]]) -> None:
    base, routes = server
    text = HEADER + ROWS[0] + "\n"

    async def export(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="text/csv")

    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(HEADER.encode())
        await release.wait()
        return response

    routes["/export.csv"] = export
    routes["/slow"] = slow
    async with harness(url=f"{base}/export.csv") as h:
        await h.collect()
        assert h.value("sitroom_project_actual_progress_ratio", project="DPU-1") == 0.3
    async with harness(url=f"{base}/export.csv", max_bytes=50) as h:
        with pytest.raises(SourceError) as failure:
            await h.collect()
        assert failure.value.reason == "too_large"
    try:
        async with harness(url=f"{base}/slow", timeout=0.5) as h:
            with pytest.raises(SourceError) as failure:
                await h.source.collect()
            assert failure.value.reason == "timeout"
    finally:
        release.set()
    async with harness(url=f"{base}/gone") as h:
        with pytest.raises(SourceError) as failure:
            await h.collect()
        assert failure.value.reason == "status"


def test_demo_projects_file_is_clean_and_semarang() -> None:
    from tests.support import REPO

    kecamatan = {
        "Banyumanik", "Candisari", "Gajahmungkur", "Gayamsari", "Genuk", "Gunungpati", "Mijen",
        "Ngaliyan", "Pedurungan", "Semarang Barat", "Semarang Selatan", "Semarang Tengah",
        "Semarang Timur", "Semarang Utara", "Tembalang", "Tugu",
    }
    path = REPO / "plugins/sitroom_projects/demo/semarang-projects.csv"
    from sitroom_projects.records import parse_csv

    result = parse_csv(path.read_text(encoding="utf-8"), {}, 1000)
    assert result.errors == [] and len(result.projects) >= 12
    assert {p.district for p in result.projects} <= kecamatan
    assert len(list(csv.DictReader(path.open()))) == len(result.projects)
