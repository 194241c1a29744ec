"""The registry's HTTP API against the daemon run in-process, with a real loopback camera."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sitroom.sharding import shard_of
from tests.registry.conftest import (
    DNS,
    SECRET_EMAIL,
    SECRET_PASSWORD,
    SECRET_PHONE,
    Api,
    CameraServer,
    form,
    registry_source,
    start_daemon,
    write_config,
)
from tests.registry.fakecam import FakeCamera
from tests.support import sample_value


async def register(api: Api, data: dict[str, Any], **kwargs: Any) -> str:
    code, body, headers = await api.request(
        "POST", "/api/v1/registrations", data, token=False, **kwargs
    )
    assert code == 201, body
    assert body["status_url"] == f"/api/v1/registrations/{body['id']}" == headers["Location"]
    return str(body["id"])


async def test_lifecycle_register_probe_approve_publish_suspend_retire(
    api: Api, camera_server: CameraServer
) -> None:
    camera_server.auth = ("admin", SECRET_PASSWORD)
    reg_id = await register(api, form(camera_server.port))

    code, public, _ = await api.request("GET", f"/api/v1/registrations/{reg_id}", token=False)
    assert code == 200 and public["id"] == reg_id
    assert set(public) == {"id", "status", "created_at", "updated_at", "probe_result", "probed_at"}

    row = await api.wait_status(reg_id, "awaiting_approval")
    assert (row["probe_result"], row["width"], row["height"], row["codec"]) == (
        "ok",
        320,
        240,
        "jpeg",
    )
    assert row["pinned_address"] == "127.0.0.1" and row["has_credentials"] is True
    assert "/snap.jpg" in camera_server.hits

    code, row, _ = await api.request(
        "POST", f"/api/v1/cameras/{reg_id}/approve", headers={"X-Sitroom-Actor": "alice@dinas"}
    )
    assert code == 200 and row["status"] == "active"
    camera = row["camera_name"]
    # the id is the citizen's status-URL secret; the public camera name must not carry it
    assert camera.startswith("reg-") and reg_id not in camera

    async def camera_up() -> str:
        for _ in range(200):
            text = await api.metrics()
            if sample_value(text, "sitroom_source_up", kind="camera", source=camera) == 1:
                return text
            await asyncio.sleep(0.05)
        raise AssertionError("published camera never came up")

    text = await camera_up()
    assert reg_id not in text  # /metrics is unauthenticated
    code, sources, _ = await api.request("GET", "/api/v1/sources", token=False)
    assert camera in json.dumps(sources) and reg_id not in json.dumps(sources)
    assert (
        sample_value(
            text,
            "sitroom_fakecam_info",
            camera=camera,
            district="Semarang Tengah",
            owner_type="business",
            location="Simpang Lima selatan",
        )
        == 1
    )
    assert (
        sample_value(
            text, "sitroom_registry_registrations", status="active", district="Semarang Tengah"
        )
        == 1
    )
    assert sample_value(text, "sitroom_registry_probes_total", result="ok") == 1
    started = [c for c in FakeCamera.started if c.name == camera][-1]
    assert started.url == f"http://127.0.0.1:{camera_server.port}/snap.jpg"
    assert started.pin_address == "127.0.0.1" and started.follow_redirects is False
    assert started.transport == "snapshot"
    assert started.password is not None and started.password.get_secret_value() == SECRET_PASSWORD
    assert (started.latitude, started.longitude) == (-6.99, 110.42)

    code, groups, _ = await api.request("GET", "/api/v1/sd/cameras")
    assert code == 200
    assert groups == [
        {
            "targets": [f"127.0.0.1:{camera_server.port}"],
            "labels": {
                "__meta_sitroom_registry": "registry",
                "__meta_sitroom_camera": camera,
                "__meta_sitroom_protocol": "http",
                "__meta_sitroom_district": "Semarang Tengah",
                "__meta_sitroom_owner_type": "business",
                "__meta_sitroom_latitude": "-6.99",
                "__meta_sitroom_longitude": "110.42",
            },
        }
    ]

    code, row, _ = await api.request("POST", f"/api/v1/cameras/{reg_id}/suspend")
    assert code == 200 and row["status"] == "suspended"
    for _ in range(200):
        if camera not in api.daemon.runners:
            break
        await asyncio.sleep(0.02)
    assert camera not in api.daemon.runners
    code, groups, _ = await api.request("GET", "/api/v1/sd/cameras")
    assert groups == []

    code, row, _ = await api.request("POST", f"/api/v1/cameras/{reg_id}/approve")
    assert row["status"] == "active"
    code, row, _ = await api.request("POST", f"/api/v1/cameras/{reg_id}/retire")
    assert row["status"] == "retired"
    code, body, _ = await api.request("POST", f"/api/v1/cameras/{reg_id}/approve")
    assert code == 409 and "retired" in body["error"]

    code, body, _ = await api.request("GET", f"/api/v1/cameras/{reg_id}/audit")
    trail = [(e["action"], e["from_status"], e["to_status"], e["actor"]) for e in body["audit"]]
    assert trail == [
        ("register", None, "pending", "api"),
        ("probe_start", "pending", "probing", "system"),
        ("probe_ok", "probing", "awaiting_approval", "system"),
        ("approve", "awaiting_approval", "active", "alice@dinas"),
        ("suspend", "active", "suspended", "api"),
        ("approve", "suspended", "active", "api"),
        ("retire", "active", "retired", "api"),
    ]
    assert all(e["at"] > 0 for e in body["audit"])


async def test_secrets_stay_out_of_metrics_sd_and_logs(
    api: Api, camera_server: CameraServer, capfd: pytest.CaptureFixture[str]
) -> None:
    reg_id = await register(api, form(camera_server.port))
    await api.wait_status(reg_id, "awaiting_approval")
    await api.request("POST", f"/api/v1/cameras/{reg_id}/approve")
    await asyncio.sleep(0.3)
    texts = [await api.metrics()]
    texts.append(json.dumps((await api.request("GET", "/api/v1/sd/cameras"))[1]))
    texts.append(json.dumps((await api.request("GET", "/api/v1/cameras"))[1]))
    texts.append(json.dumps((await api.request("GET", f"/api/v1/cameras/{reg_id}/audit"))[1]))
    texts.append(json.dumps((await api.request("GET", "/api/v1/sources", token=False))[1]))
    out, err = capfd.readouterr()
    for text in texts:
        assert SECRET_PASSWORD not in text
    for text in (texts[0], texts[1], out, err):  # metrics, SD, logs
        assert SECRET_PHONE not in text and SECRET_EMAIL not in text
        assert "/snap.jpg" not in text and "Pandanaran" not in text


async def test_admin_endpoints_need_the_token(api: Api) -> None:
    for method, path in [
        ("GET", "/api/v1/cameras"),
        ("GET", "/api/v1/cameras/0123456789abcdef"),
        ("POST", "/api/v1/cameras/0123456789abcdef/approve"),
        ("PATCH", "/api/v1/cameras/0123456789abcdef"),
        ("GET", "/api/v1/sd/cameras"),
    ]:
        code, _, _ = await api.request(method, path, token=False)
        assert code == 401, (method, path)
    code, body, _ = await api.request("POST", "/api/v1/cameras/0123456789abcdef/approve")
    assert code == 404, body
    code, body, _ = await api.request("POST", "/api/v1/cameras/0123456789abcdef/delete")
    assert code == 404 and "approve" in body["error"]


BAD_FIELDS: list[tuple[str, dict[str, Any], str]] = [
    ("owner_name missing", {"owner_name": None}, "owner_name"),
    ("owner_name short", {"owner_name": "A"}, "owner_name"),
    ("owner_name control", {"owner_name": "Budi\x00Santoso"}, "owner_name"),
    ("phone", {"contact_phone": "call me"}, "contact_phone"),
    ("email", {"contact_email": "not-an-email"}, "contact_email"),
    ("owner_type", {"owner_type": "alien"}, "owner_type"),
    ("address", {"address": "x"}, "address"),
    ("district", {"district": "Jakarta Pusat"}, "district"),
    ("district type", {"district": 7}, "district"),
    ("location_name", {"location_name": "x" * 121}, "location_name"),
    ("latitude outside", {"latitude": -6.2}, "latitude"),
    ("longitude outside", {"longitude": 106.8}, "longitude"),
    ("latitude text", {"latitude": "south"}, "latitude"),
    ("stream missing", {"stream": None}, "stream"),
    ("protocol", {"stream": {"protocol": "ftp", "host": "127.0.0.1"}}, "stream.protocol"),
    ("host missing", {"stream": {"protocol": "http"}}, "stream.host"),
    ("port zero", {"stream": {"protocol": "http", "host": "127.0.0.1", "port": 0}}, "stream.port"),
    (
        "port big",
        {"stream": {"protocol": "http", "host": "127.0.0.1", "port": 70000}},
        "stream.port",
    ),
    (
        "port policy",
        {"stream": {"protocol": "http", "host": "127.0.0.1", "port": 22}},
        "stream.port",
    ),
    (
        "path",
        {"stream": {"protocol": "http", "host": "127.0.0.1", "path": "snap.jpg"}},
        "stream.path",
    ),
    (
        "username colon",
        {"stream": {"protocol": "http", "host": "127.0.0.1", "username": "a:b"}},
        "stream.username",
    ),
    (
        "password long",
        {"stream": {"protocol": "http", "host": "127.0.0.1", "password": SECRET_PASSWORD * 10}},
        "stream.password",
    ),
    ("url scheme", {"stream": {"url": "ftp://127.0.0.1/x"}}, "stream.url"),
    ("url and host", {"stream": {"url": "http://127.0.0.1/", "host": "127.0.0.1"}}, "stream"),
    (
        "url creds twice",
        {"stream": {"url": f"http://a:{SECRET_PASSWORD}@127.0.0.1/", "username": "b"}},
        "stream.url",
    ),
    (
        "url query secret",
        {"stream": {"url": f"http://127.0.0.1/snap?pwd={SECRET_PASSWORD}"}},
        "stream.url",
    ),
    ("stream extra", {"stream": {"protocol": "http", "host": "127.0.0.1", "x": 1}}, "stream.x"),
    ("consent false", {"consent": False}, "consent"),
    ("consent missing", {"consent": None}, "consent"),
    ("unknown field", {"favourite_colour": "blue"}, "favourite_colour"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_FIELDS, ids=[c[0] for c in BAD_FIELDS])
async def test_field_level_validation(
    api: Api, camera_server: CameraServer, case: str, change: dict[str, Any], field: str
) -> None:
    data = form(camera_server.port)
    for key, value in change.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    code, body, _ = await api.request("POST", "/api/v1/registrations", data, token=False)
    assert code == 422, body
    assert body["error"] == "validation failed"
    assert field in [e["field"] for e in body["errors"]], body
    assert all(e["message"] for e in body["errors"])
    assert SECRET_PASSWORD not in json.dumps(body)


async def test_nan_and_malformed_bodies(api: Api, camera_server: CameraServer) -> None:
    raw = json.dumps(form(camera_server.port)).replace("-6.99", "NaN").encode()
    code, body, _ = await api.request("POST", "/api/v1/registrations", raw=raw, token=False)
    assert code == 422 and [e["field"] for e in body["errors"]] == ["latitude"]
    code, body, _ = await api.request(
        "POST", "/api/v1/registrations", raw=b"{not json", token=False
    )
    assert code == 400 and body["errors"][0]["field"] == "(body)"
    code, body, _ = await api.request("POST", "/api/v1/registrations", raw=b"[1, 2]", token=False)
    assert code == 422 and body["errors"][0]["field"] == "(body)"
    code, body, _ = await api.request(
        "POST", "/api/v1/registrations", raw=b'{"a": "' + b"x" * 20000 + b'"}', token=False
    )
    assert code == 413


SSRF_HOSTS = [
    "127.0.0.2",
    "0x7f000002",
    "2130706434",
    "017700000002",
    "127.2",
    "::ffff:127.0.0.2",
    "[::1]",
    "::1",
    "169.254.169.254",
    "0xa9fea9fe",
    "10.0.0.1",
    "192.168.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "localhost.invalid",
    "1.2.3.999",
]


@pytest.mark.parametrize("host", SSRF_HOSTS)
async def test_ssrf_hosts_are_refused_at_registration(
    api: Api, camera_server: CameraServer, host: str
) -> None:
    DNS.table.update({"loopback.test": [["127.0.0.2"]], "metadata.test": [["169.254.169.254"]]})
    data = form(camera_server.port)
    data["stream"]["host"] = host
    code, body, _ = await api.request("POST", "/api/v1/registrations", data, token=False)
    assert code == 422, body
    assert [e["field"] for e in body["errors"]] == ["stream.host"]
    assert camera_server.hits == []


async def test_odd_spellings_of_an_allowed_address_are_canonicalised(
    api: Api, camera_server: CameraServer
) -> None:
    data = form(camera_server.port)
    data["stream"] = {"url": f"http://0x7f000001:{camera_server.port}/snap.jpg?channel=1"}
    reg_id = await register(api, data)
    row = await api.wait_status(reg_id, "awaiting_approval")
    assert (row["host"], row["pinned_address"], row["path"]) == (
        "127.0.0.1",
        "127.0.0.1",
        "/snap.jpg?channel=1",
    )
    assert row["has_credentials"] is False


@pytest.mark.parametrize(
    ("path", "redirect_to", "result"),
    [
        ("/index.html", "", "not_image"),
        ("/missing.jpg", "", "http_status"),
        ("/redirect", "http://127.0.0.2:{port}/snap.jpg", "redirect"),
        ("/redirect", "http://[::1]:{port}/snap.jpg", "redirect"),
        ("/redirect", "http://169.254.169.254/latest/meta-data/", "redirect"),
        # even a redirect to the same camera fails: the live feed never follows redirects
        ("/redirect", "/snap.jpg", "redirect"),
        ("/video.mjpg", "", "ok"),
    ],
)
async def test_probe_outcomes(
    api: Api, camera_server: CameraServer, path: str, redirect_to: str, result: str
) -> None:
    camera_server.redirect_to = redirect_to.format(port=camera_server.port)
    data = form(camera_server.port)
    data["stream"]["path"] = path
    reg_id = await register(api, data)
    status = "awaiting_approval" if result == "ok" else "probe_failed"
    row = await api.wait_status(reg_id, status)
    assert row["probe_result"] == result
    if path == "/video.mjpg":
        assert row["codec"] == "mjpeg"
    if result == "redirect":
        # the target was never contacted: the only hit is the redirect itself
        assert camera_server.hits == ["/redirect"]
        assert row["probe_detail"].startswith("camera redirects to http://")
        assert row["probe_detail"].endswith("register the final URL")
        assert "/snap.jpg" not in row["probe_detail"] and "meta-data" not in row["probe_detail"]
    text = await api.metrics()
    assert sample_value(text, "sitroom_registry_probes_total", result=result) == 1


async def test_wrong_credentials_fail_the_probe_then_an_edit_fixes_them(
    api: Api, camera_server: CameraServer
) -> None:
    camera_server.auth = ("admin", "the-right-one")
    reg_id = await register(api, form(camera_server.port))
    row = await api.wait_status(reg_id, "probe_failed")
    assert row["probe_result"] == "auth"
    stream = {**form(camera_server.port)["stream"], "password": "the-right-one"}
    code, row, _ = await api.request(
        "PATCH", f"/api/v1/cameras/{reg_id}", {"stream": stream, "location_name": "Gerbang"}
    )
    assert code == 200, row
    assert row["location_name"] == "Gerbang"
    await api.wait_status(reg_id, "awaiting_approval")
    code, body, _ = await api.request("GET", f"/api/v1/cameras/{reg_id}/audit")
    edit = next(e for e in body["audit"] if e["action"] == "edit")
    assert edit["detail"]["fields"] == [
        "credentials",
        "host",
        "location_name",
        "path",
        "pinned_address",
        "port",
        "protocol",
    ]
    assert "the-right-one" not in json.dumps(body)


async def test_editing_details_of_an_active_camera_republishes_it(
    api: Api, camera_server: CameraServer
) -> None:
    reg_id = await register(api, form(camera_server.port))
    await api.wait_status(reg_id, "awaiting_approval")
    await api.request("POST", f"/api/v1/cameras/{reg_id}/approve")
    code, row, _ = await api.request(
        "PATCH", f"/api/v1/cameras/{reg_id}", {"district": "tugu", "latitude": -6.97}
    )
    assert code == 200 and row["status"] == "active" and row["district"] == "Tugu"
    for _ in range(200):
        started = [c for c in FakeCamera.started if c.name == row["camera_name"]]
        if started and started[-1].district == "Tugu":
            break
        await asyncio.sleep(0.02)
    assert started[-1].district == "Tugu" and started[-1].latitude == -6.97
    code, body, _ = await api.request("PATCH", f"/api/v1/cameras/{reg_id}", {"latitude": 0})
    assert code == 422 and body["errors"][0]["field"] == "latitude"
    code, body, _ = await api.request("PATCH", f"/api/v1/cameras/{reg_id}", {"status": "active"})
    assert code == 422 and body["errors"][0]["field"] == "status"


async def test_registration_rate_limit(tmp_path: Path, camera_server: CameraServer) -> None:
    source = registry_source(
        camera_server.port,
        registration_limit={"per_minute": 1, "burst": 2},
        status_limit={"per_minute": 1, "burst": 3},
    )
    daemon = await start_daemon(write_config(tmp_path / "conf", [source]))
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(daemon, session)
            codes = []
            for _ in range(3):
                code, body, headers = await api.request(
                    "POST",
                    "/api/v1/registrations",
                    form(camera_server.port),
                    token=False,
                    headers={"X-Forwarded-For": f"203.0.113.{len(codes)}"},  # not trusted
                )
                codes.append(code)
            assert codes == [201, 201, 429]
            assert body["error"].startswith("too many")
            assert 1 <= int(headers["Retry-After"]) <= 60
            # the limit applies before the body is even read: junk floods cost nothing
            code, _, _ = await api.request("POST", "/api/v1/registrations", {}, token=False)
            assert code == 429
            codes = []
            for path in ("0123456789abcdef", "not-an-id", "0123456789abcdef", "x"):
                code, _, headers = await api.request(
                    "GET", f"/api/v1/registrations/{path}", token=False
                )
                codes.append(code)
            assert codes == [404, 404, 404, 429] and int(headers["Retry-After"]) >= 1
            text = await api.metrics()
            assert (
                sample_value(
                    text,
                    "sitroom_registry_requests_total",
                    endpoint="status",
                    result="rate_limited",
                )
                == 1
            )
            assert (
                sample_value(
                    text,
                    "sitroom_registry_requests_total",
                    endpoint="register",
                    result="rate_limited",
                )
                == 2
            )
            assert (
                sample_value(
                    text, "sitroom_registry_requests_total", endpoint="register", result="accepted"
                )
                == 2
            )
    finally:
        await daemon.stop()


async def test_two_registries_need_a_name(tmp_path: Path, camera_server: CameraServer) -> None:
    sources = [
        registry_source(camera_server.port),
        registry_source(camera_server.port, name="registry-b", camera_prefix="b-"),
    ]
    daemon = await start_daemon(write_config(tmp_path / "conf", sources))
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(daemon, session)
            code, body, _ = await api.request("GET", "/api/v1/cameras")
            assert code == 400 and "registry=" in body["error"]
            code, body, _ = await api.request("GET", "/api/v1/cameras?registry=nope")
            assert code == 404
            for _ in range(100):
                code, body, _ = await api.request("GET", "/api/v1/cameras?registry=registry-b")
                if code == 200:
                    break
                await asyncio.sleep(0.05)
            assert code == 200 and body == {"cameras": []}
    finally:
        await daemon.stop()


async def test_cameras_are_sharded_across_replicas(
    tmp_path: Path, camera_server: CameraServer
) -> None:
    """Two `--shard` replicas share one registry: each active camera runs on exactly one."""
    source = registry_source(camera_server.port, registration_limit={"per_minute": 60, "burst": 10})
    config_dir = write_config(tmp_path / "conf", [source])
    replicas = []
    for index in range(2):
        daemon = await start_daemon(config_dir, shard=(index, 2))
        replicas.append(daemon)
    try:
        async with aiohttp.ClientSession() as session:
            first, second = (Api(d, session) for d in replicas)
            ids = [await register(first, form(camera_server.port)) for _ in range(6)]
            for reg_id in ids:
                await first.wait_status(reg_id, "awaiting_approval")
                code, _, _ = await second.request("POST", f"/api/v1/cameras/{reg_id}/approve")
                assert code == 200
            wanted = {(await first.wait_status(i, "active"))["camera_name"] for i in ids}

            def running(daemon: Any) -> set[str]:
                return {n for n, r in daemon.runners.items() if r.kind.name == "camera"}

            for _ in range(200):
                if running(replicas[0]) | running(replicas[1]) == wanted:
                    break
                await asyncio.sleep(0.05)
            assert running(replicas[0]) | running(replicas[1]) == wanted
            assert not running(replicas[0]) & running(replicas[1])
            # camera names are random: check each replica runs exactly its rendezvous share
            for index, daemon in enumerate(replicas):
                assert running(daemon) == {n for n in wanted if shard_of(n, 2) == index}
    finally:
        for daemon in replicas:
            await daemon.stop()


async def test_host_names_are_pinned_and_rechecked_at_probe_time(
    api: Api, camera_server: CameraServer
) -> None:
    """A name is judged at registration and again by the probe, which then connects to the
    address it checked. A name that turns into the metadata service between registration
    and probe is refused without a connection."""
    DNS.table["cam.toko.test"] = [["127.0.0.1"]]
    data = form(camera_server.port)
    data["stream"]["host"] = "CAM.toko.test."
    reg_id = await register(api, data)
    row = await api.wait_status(reg_id, "awaiting_approval")
    assert (row["host"], row["pinned_address"]) == ("cam.toko.test", "127.0.0.1")
    assert camera_server.hits == ["/snap.jpg"]
    await api.request("POST", f"/api/v1/cameras/{reg_id}/approve")
    for _ in range(200):
        started = [c for c in FakeCamera.started if c.name == row["camera_name"]]
        if started:
            break
        await asyncio.sleep(0.02)
    assert started[0].url == f"http://cam.toko.test:{camera_server.port}/snap.jpg"
    assert started[0].pin_address == "127.0.0.1"

    DNS.table["rebind.test"] = [["127.0.0.1"], ["169.254.169.254"]]
    data["stream"]["host"] = "rebind.test"
    reg_id = await register(api, data)
    row = await api.wait_status(reg_id, "probe_failed")
    assert row["probe_result"] == "refused"
    assert camera_server.hits == ["/snap.jpg"]  # nothing new: the rebound name was not dialled
    assert DNS.calls.count("rebind.test") == 2  # registration + probe, nothing after


async def test_ipv6_clients_are_limited_per_64(tmp_path: Path, camera_server: CameraServer) -> None:
    """A client rotating addresses inside its /64 (behind our trusted proxy) is one client."""
    source = registry_source(
        camera_server.port,
        trusted_proxies=["127.0.0.1/32"],
        registration_limit={"per_minute": 1, "burst": 2},
    )
    daemon = await start_daemon(write_config(tmp_path / "conf", [source]))
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(daemon, session)
            codes = []
            for client in ("2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6:a:b:c:d",
                           "2001:db8:5:7::1"):
                code, _, _ = await api.request(
                    "POST", "/api/v1/registrations", form(camera_server.port), token=False,
                    headers={"X-Forwarded-For": client},
                )
                codes.append(code)
            assert codes == [201, 201, 429, 201]
    finally:
        await daemon.stop()


async def test_the_probe_queue_is_capped_for_everyone(tmp_path: Path) -> None:
    """Registrations from many addresses cannot fill the queue: beyond `max_pending` the
    form answers 503 with Retry-After, and nothing is stored."""
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accept, never answer: the probe stays `probing`
        writer.close()

    camera = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = camera.sockets[0].getsockname()[1]
    source = registry_source(port, max_pending=2, probe_timeout="20s")
    daemon = await start_daemon(write_config(tmp_path / "conf", [source]))
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(daemon, session)
            results = []
            for n in range(4):
                code, body, headers = await api.request(
                    "POST", "/api/v1/registrations", form(port), token=False,
                    headers={"X-Forwarded-For": f"198.51.100.{n}"},  # not trusted: ignored
                )
                results.append((code, headers.get("Retry-After")))
            assert [r[0] for r in results] == [201, 201, 503, 503]
            assert int(results[2][1] or 0) >= 1 and "waiting" in body["error"]
            code, rows, _ = await api.request("GET", "/api/v1/cameras")
            assert code == 200 and len(rows["cameras"]) == 2
            text = await api.metrics()
            busy = sample_value(
                text, "sitroom_registry_requests_total", endpoint="register", result="busy"
            )
            assert busy == 2
    finally:
        await daemon.stop()
        camera.close()
