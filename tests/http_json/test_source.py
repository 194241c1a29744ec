"""The http_json source against a real aiohttp API on 127.0.0.1: mapping, limits, failures."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import sitroom_http_json
from sitroom.api import SourceError
from sitroom.testing import SourceHarness
from tests.http_json.conftest import JsonApi
from tests.support import require_tool

SPEED = "sitroom_traffic_speed_meters_per_second"
INFO = "sitroom_traffic_segment_info"
ERRORS = "sitroom_http_json_field_errors_total"


def traffic_config(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "http_json",
        "name": "traffic-test",
        "url": url,
        "timeout": 2,
        "metrics": [
            {"name": SPEED, "help": "Speed.", "unit": "meters_per_second",
             "path": "$.segments[*]", "value": "speed_kmh", "scale": 1 / 3.6,
             "labels": {"segment": "id"}},
            {"name": INFO, "type": "info", "help": "Segment.", "path": "$.segments[*]",
             "labels": {"segment": "id", "name": "name", "district": "district"}},
        ],
        **extra,
    }


def segments(*items: dict[str, Any]) -> dict[str, Any]:
    return {"segments": list(items)}


def seg(sid: str, speed: Any, district: str = "Gayamsari") -> dict[str, Any]:
    return {"id": sid, "name": f"Jl. {sid}", "district": district, "speed_kmh": speed}


async def test_maps_items_and_forgets_vanished_ones(api: JsonApi) -> None:
    url = api.json("/segments", segments(seg("kaligawe", 18), seg("pemuda", 36, "Semarang Tengah")))
    async with SourceHarness.from_plugin(sitroom_http_json, traffic_config(url)) as h:
        await h.collect()
        assert h.value(SPEED, segment="kaligawe") == pytest.approx(5.0)
        assert h.value(INFO, segment="pemuda", name="Jl. pemuda", district="Semarang Tengah") == 1
        assert h.value("sitroom_http_json_mapped_series", metric=SPEED) == 2
        # next poll: pemuda is gone and kaligawe lost its speed -> both series go, nothing stale
        api.json("/segments", segments(seg("kaligawe", None), seg("tugu", 54, "Tugu")))
        await h.collect()
        assert h.value(SPEED, segment="pemuda") is None
        assert h.value(SPEED, segment="kaligawe") is None
        assert h.value(SPEED, segment="tugu") == pytest.approx(15.0)
        assert h.value(INFO, segment="kaligawe", name="Jl. kaligawe", district="Gayamsari") == 1
        assert h.value(ERRORS, metric=SPEED, reason="missing") == 1
        assert h.value(ERRORS, metric=SPEED, reason="type") == 0
        assert h.ctx.status.details["field_problems"] == [f"{SPEED}:missing"]


async def test_wrong_types_are_counted_not_fatal(api: JsonApi) -> None:
    url = api.json("/s", segments(seg("a", "cepat"), seg("b", [1]), seg("c", 10)))
    async with SourceHarness.from_plugin(sitroom_http_json, traffic_config(url)) as h:
        await h.collect()
        assert h.value(ERRORS, metric=SPEED, reason="type") == 2
        assert set(h.samples(SPEED)) == {("c",)}


async def test_exposition_passes_promtool(api: JsonApi) -> None:
    promtool = require_tool("promtool")
    url = api.json("/s", segments(seg("a", 10), seg("b", 20)))
    async with SourceHarness.from_plugin(sitroom_http_json, traffic_config(url)) as h:
        await h.collect()
        text = h.render()
    assert f'{SPEED}{{source="traffic-test",segment="a"}}' in text
    check = await asyncio.to_thread(
        subprocess.run, [promtool, "check", "metrics"], input=text, capture_output=True,
        text=True, timeout=30,
    )
    assert check.returncode == 0 and not (check.stdout + check.stderr).strip(), check.stdout


async def test_secret_header_is_sent_and_never_shown(api: JsonApi, tmp_path: Path) -> None:
    (tmp_path / "auth").write_text("Bearer tok-9f8e7d\n")

    async def guarded(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer tok-9f8e7d":
            return web.Response(status=401)
        return web.json_response(segments(seg("a", 10)))

    api.routes["/guarded"] = guarded
    header = {"name": "Authorization", "value_file": str(tmp_path / "auth")}
    config = traffic_config(api.url("/guarded"), headers=[header])
    async with SourceHarness.from_plugin(sitroom_http_json, config) as h:
        await h.collect()
        assert h.value(SPEED, segment="a") is not None
        assert api.seen_headers[-1]["Authorization"] == "Bearer tok-9f8e7d"
        assert "tok-9f8e7d" not in h.render()
    config["headers"] = [{"name": "Authorization", "value": "Bearer wrong-tok"}]
    async with SourceHarness.from_plugin(sitroom_http_json, config) as h:
        with pytest.raises(SourceError) as failure:
            await h.collect()
        assert failure.value.reason == "status" and "401" in str(failure.value)
        assert "wrong-tok" not in str(failure.value)


async def test_oversized_responses_are_refused(api: JsonApi) -> None:
    big = segments(*(seg(f"s{i}", i) for i in range(2000)))
    url = api.json("/big", big)

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length to trust
        await response.prepare(request)
        await response.write(b'{"segments": [' + b'{"id": "x", "speed_kmh": 1},' * 5000)
        await response.write(b'{"id": "y", "speed_kmh": 2}]}')
        await response.write_eof()
        return response

    api.routes["/streamed"] = streamed
    for target in (url, api.url("/streamed")):
        config = traffic_config(target, max_response_bytes=4096)
        async with SourceHarness.from_plugin(sitroom_http_json, config) as h:
            with pytest.raises(SourceError) as failure:
                await h.collect()
            assert failure.value.reason == "too_large"
            assert h.samples(SPEED) == {}


async def test_slow_response_times_out(api: JsonApi) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b'{"segments": [')
        await release.wait()  # the body never completes within the source's timeout
        return response

    api.routes["/slow"] = slow
    config = traffic_config(api.url("/slow"), timeout=0.5)
    try:
        async with SourceHarness.from_plugin(sitroom_http_json, config) as h:
            with pytest.raises(SourceError) as failure:
                await h.source.collect()
            assert failure.value.reason == "timeout"
    finally:
        release.set()


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"<html>maintenance</html>", "decode"), (b"\xff\xfe{", "decode")],
)
async def test_non_json_bodies_fail_the_poll(api: JsonApi, body: bytes, reason: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    api.routes["/bad"] = handler
    async with SourceHarness.from_plugin(sitroom_http_json, traffic_config(api.url("/bad"))) as h:
        with pytest.raises(SourceError) as failure:
            await h.collect()
        assert failure.value.reason == reason


async def test_connection_refused_and_http_errors(api: JsonApi) -> None:
    async with SourceHarness.from_plugin(
        sitroom_http_json, traffic_config(api.url("/nowhere"))
    ) as h:
        with pytest.raises(SourceError) as failure:
            await h.collect()
        assert failure.value.reason == "status" and "404" in str(failure.value)
    from tests.support import free_port

    closed = f"http://127.0.0.1:{free_port()}/x"
    async with SourceHarness.from_plugin(sitroom_http_json, traffic_config(closed)) as h:
        with pytest.raises(SourceError) as failure:
            await h.collect()
        assert failure.value.reason == "connect"
