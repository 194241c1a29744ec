"""Camera sources against real streams: an H.264 file, HTTP MJPEG, JPEG snapshots, RTSP.

Streams are made with ffmpeg and served by real servers on loopback (the plugin's own HTTP
camera simulator, an aiohttp snapshot server, GStreamer's RTSP server).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from aiohttp import web

import sitroom_cameras as plugin
from sitroom.api import SourceError
from sitroom.testing import SourceHarness
from sitroom_cameras.simulator import CameraSimulatorConfig, run_camera_simulator
from tests.cameras.conftest import wait_value
from tests.support import free_port

pytestmark = pytest.mark.integration


def camera(name: str, **fields: object) -> dict[str, object]:
    return {"kind": "camera", "name": name, "analysis_interval": 0.7,
            "analysis": {"people_width": 640}, **fields}


async def test_file_camera_decodes_keyframes_only_and_serves_a_snapshot(street_clip: Path
                                                                        ) -> None:
    zone = {"name": "walkway", "polygon": [[0, 60], [320, 60], [320, 140], [0, 140]]}
    async with SourceHarness.from_plugin(plugin, camera("street", path=str(street_clip),
                                                        zones=[zone])) as h:
        h.start()
        cam = {"camera": "street"}
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 4, **cam)
        assert h.value("sitroom_camera_up", **cam) == 1
        assert h.value("sitroom_camera_gop_frames", **cam) == 10
        assert h.value("sitroom_camera_width_pixels", **cam) == 320
        assert h.value("sitroom_camera_height_pixels", **cam) == 240
        assert h.source.feed.mode == "keyframes"
        received = h.value("sitroom_camera_frames_received_total", **cam) or 0
        decoded = h.value("sitroom_camera_frames_decoded_total", **cam) or 0
        # 10 fps with one keyframe a second (fits 1.5 x 0.7 s): ~1 in 10 frames decoded
        assert 0 < decoded <= received / 5, (decoded, received)
        assert 8 <= (h.value("sitroom_camera_stream_frames_per_second", **cam) or 0) <= 12
        colour = await h.source.snapshot_jpeg()
        plain = await h.source.snapshot_jpeg(colour=False)
        drawn = await h.source.snapshot_jpeg(zones=True, colour=False)
        assert colour is not None and plain is not None and drawn is not None
        image = cv2.imdecode(np.frombuffer(drawn, np.uint8), cv2.IMREAD_COLOR)
        grey = cv2.imdecode(np.frombuffer(plain, np.uint8), cv2.IMREAD_UNCHANGED)
        assert image.shape[1] == 320 and grey.ndim == 2
        # the zone outline is drawn in colour on the grey analysed frame
        assert (np.abs(image[..., 1].astype(int) - image[..., 0]) > 80).any()
        # the default snapshot is the camera's picture in colour, at its full width
        full = cv2.imdecode(np.frombuffer(colour, np.uint8), cv2.IMREAD_UNCHANGED)
        assert full.shape == (240, 320, 3)
        assert np.abs(full[..., 2].astype(int) - full[..., 0]).mean() > 5  # not grey


async def _simulator(clip: Path, port: int) -> asyncio.Task[None]:
    cfg = CameraSimulatorConfig(port=port, footage=clip, fps=8)
    task = asyncio.create_task(run_camera_simulator(cfg))
    for _ in range(200):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return task
        await asyncio.sleep(0.05)
    raise AssertionError("camera simulator did not start")


async def test_mjpeg_camera_goes_down_when_the_server_dies(street_clip: Path) -> None:
    port = free_port()
    server = await _simulator(street_clip, port)
    try:
        async with SourceHarness.from_plugin(
            plugin, camera("mjpeg", url=f"http://127.0.0.1:{port}/mjpeg", stall_timeout=2)
        ) as h:
            task = h.start()
            cam = {"camera": "mjpeg"}
            await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 4, **cam)
            assert h.value("sitroom_camera_up", **cam) == 1
            assert h.value("sitroom_camera_gop_frames", **cam) == 1
            assert h.value("sitroom_camera_width_pixels", **cam) == 320
            assert 4 <= (h.value("sitroom_camera_stream_frames_per_second", **cam) or 0) <= 10
            server.cancel()
            await asyncio.gather(server, return_exceptions=True)
            await wait_value(h, "sitroom_camera_up", lambda v: v == 0, **cam)
            with pytest.raises(SourceError):
                await asyncio.wait_for(task, 10)
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)


@pytest.fixture
async def snapshot_server(street_clip: Path):  # type: ignore[no-untyped-def]
    """A JPEG snapshot camera with basic auth, one redirect and one non-image endpoint."""
    capture = cv2.VideoCapture(str(street_clip))
    ok, frame = capture.read()
    capture.release()
    assert ok
    jpeg = cv2.imencode(".jpg", frame)[1].tobytes()
    seen: list[dict[str, str]] = []

    async def snap(request: web.Request) -> web.Response:
        seen.append({"host": request.host, "auth": request.headers.get("Authorization", "")})
        if request.headers.get("Authorization") != "Basic dmlld2VyOnMzY3JldC1wdw==":
            return web.Response(status=401)
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://127.0.0.1:1/elsewhere.jpg")

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/snap.jpg", snap)
    app.router.add_get("/moved.jpg", moved)
    app.router.add_get("/page.jpg", html)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port, seen
    await runner.cleanup()


async def test_snapshot_camera_uses_credentials_and_the_pinned_address(
        snapshot_server, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    port, seen = snapshot_server
    caplog.set_level(logging.DEBUG)
    cfg = camera("snap", url=f"http://cam.invalid:{port}/snap.jpg", pin_address="127.0.0.1",
                 username="viewer", password="s3cret-pw")
    async with SourceHarness.from_plugin(plugin, cfg) as h:
        h.start()
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 2,
                         camera="snap")
        assert h.value("sitroom_camera_up", camera="snap") == 1
        assert h.value("sitroom_camera_width_pixels", camera="snap") == 320
        assert seen[0]["host"] == f"cam.invalid:{port}"  # Host kept, connection to the pin
        text = h.render()
        assert "s3cret" not in text and "viewer" not in text
        assert "s3cret" not in str(h.ctx.status.details)
    assert "s3cret" not in caplog.text


@pytest.mark.parametrize(
    ("path", "password", "reason"),
    [("snap.jpg", "wrong-pw", "auth"), ("moved.jpg", None, "redirect"),
     ("page.jpg", None, "decode")],
)
async def test_snapshot_camera_failures_are_named(snapshot_server, path: str,  # type: ignore[no-untyped-def]
                                                  password: str | None, reason: str) -> None:
    port, _ = snapshot_server
    cfg = camera("bad", url=f"http://127.0.0.1:{port}/{path}", username="viewer",
                 password=password or "x-pw-x")
    async with SourceHarness.from_plugin(plugin, cfg) as h:
        task = h.start()
        with pytest.raises(SourceError) as info:
            await asyncio.wait_for(task, 10)
        assert info.value.reason == reason
        assert "wrong-pw" not in str(info.value)
        assert h.value("sitroom_camera_up", camera="bad") == 0


@pytest.mark.parametrize("transport", ["rtsp_tcp", "rtsp_udp"])
async def test_rtsp_camera(rtsp_server, transport: str) -> None:  # type: ignore[no-untyped-def]
    cfg = camera("rtsp", url=rtsp_server.url, transport=transport, stall_timeout=3)
    async with SourceHarness.from_plugin(plugin, cfg) as h:
        task = h.start()
        cam = {"camera": "rtsp"}
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 3,
                         within=20, **cam)
        assert h.value("sitroom_camera_up", **cam) == 1
        assert h.value("sitroom_camera_width_pixels", **cam) == 320
        assert h.value("sitroom_camera_gop_frames", **cam) == 10
        assert h.source.feed.mode == "keyframes"
        # the people detector ran on the analysed frames (the gauge is written per analysis)
        people = h.value("sitroom_camera_people", **cam)
        assert people is not None and people == int(people) and people >= 0
        assert h.value("sitroom_camera_decode_errors_total", **cam) == 0
        fps = h.value("sitroom_camera_stream_frames_per_second", **cam)
        assert fps is not None and 8 <= fps <= 12, fps  # the clip's 10 fps, from its clock
        # a TCP reader rests between bursts; the camera must not flap down meanwhile
        for _ in range(25):
            await asyncio.sleep(0.12)
            assert h.value("sitroom_camera_up", **cam) == 1
        rtsp_server.kill()
        await wait_value(h, "sitroom_camera_up", lambda v: v == 0, **cam)
        with pytest.raises(SourceError):
            await asyncio.wait_for(task, 15)


async def test_long_gop_falls_back_to_decoding_every_frame(tmp_path: Path) -> None:
    """GOP 5 s with analysis every 0.7 s: keyframes alone would starve the analysis."""
    from tests.cameras.conftest import make_clip

    clip = make_clip(tmp_path / "long-gop.mp4", seconds=12, gop=50)
    async with SourceHarness.from_plugin(plugin, camera("longgop", path=str(clip),
                                                        analysis={"people": False})) as h:
        h.start()
        cam = {"camera": "longgop"}
        await h.wait_for(lambda: h.source.feed is not None and h.source.feed.mode == "all",
                         within=10)
        start = h.value("sitroom_camera_frames_analysed_total", **cam) or 0
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= start + 4,
                         **cam)
        decoded = h.value("sitroom_camera_frames_decoded_total", **cam) or 0
        received = h.value("sitroom_camera_frames_received_total", **cam) or 0
        assert decoded >= received / 2, (decoded, received)  # every frame, not keyframes
        assert h.value("sitroom_camera_decode_errors_total", **cam) == 0
        assert h.value("sitroom_camera_up", **cam) == 1


@pytest.fixture
async def odd_mjpeg_server(street_clip: Path):  # type: ignore[no-untyped-def]
    """MJPEG the way some cameras write it (boundary=--frame), and a login page instead."""
    capture = cv2.VideoCapture(str(street_clip))
    pictures = []
    for _ in range(20):
        ok, frame = capture.read()
        assert ok
        pictures.append(cv2.imencode(".jpg", frame)[1].tobytes())
    capture.release()

    async def odd(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace;boundary=--frame"})
        await response.prepare(request)
        index = 0
        while True:
            data = pictures[index % len(pictures)]
            await response.write(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + data + b"\r\n")
            index += 1
            await asyncio.sleep(0.1)

    async def login(request: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/odd", odd)
    app.router.add_get("/login", login)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port
    await runner.cleanup()


async def test_mjpeg_variants_and_non_mjpeg_answers(odd_mjpeg_server) -> None:  # type: ignore[no-untyped-def]
    port = odd_mjpeg_server
    cfg = camera("odd", url=f"http://127.0.0.1:{port}/odd", analysis={"people": False})
    async with SourceHarness.from_plugin(plugin, cfg) as h:
        h.start()
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 2,
                         camera="odd")
        assert h.value("sitroom_camera_decode_errors_total", camera="odd") == 0
        assert h.value("sitroom_camera_width_pixels", camera="odd") == 320
    cfg = camera("login", url=f"http://127.0.0.1:{port}/login", transport="mjpeg")
    async with SourceHarness.from_plugin(plugin, cfg) as h:
        with pytest.raises(SourceError) as info:
            await asyncio.wait_for(h.start(), 10)
        assert info.value.reason == "protocol"


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the name cam.test, made with openssl."""
    import subprocess

    from tests.support import require_tool

    openssl = require_tool("openssl")
    cert, key = tmp_path / "cam.pem", tmp_path / "cam.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=cam.test", "-addext", "subjectAltName=DNS:cam.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
async def https_snapshot_server(self_signed, street_clip: Path):  # type: ignore[no-untyped-def]
    """A camera answering HTTPS with a self-signed certificate for the name cam.test."""
    import ssl

    cert, key = self_signed
    capture = cv2.VideoCapture(str(street_clip))
    ok, frame = capture.read()
    capture.release()
    assert ok
    jpeg = cv2.imencode(".jpg", frame)[1].tobytes()
    sni: list[str | None] = []

    async def snap(request: web.Request) -> web.Response:
        return web.Response(body=jpeg, content_type="image/jpeg")

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: sni.append(name)  # type: ignore[assignment]
    app = web.Application()
    app.router.add_get("/snap.jpg", snap)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    yield port, cert, sni
    await runner.cleanup()


async def test_https_pinned_camera_verifies_the_certificate_for_the_original_name(
        https_snapshot_server) -> None:  # type: ignore[no-untyped-def]
    port, cert, sni = https_snapshot_server
    url = f"https://cam.test:{port}/snap.jpg"
    trusted = camera("tls", url=url, pin_address="127.0.0.1", ca_file=str(cert))
    async with SourceHarness.from_plugin(plugin, trusted) as h:
        h.start()
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 1,
                         camera="tls")
    assert sni and set(sni) == {"cam.test"}  # SNI carries the name, not the pinned IP
    untrusted = camera("tls2", url=url, pin_address="127.0.0.1")
    async with SourceHarness.from_plugin(plugin, untrusted) as h:
        with pytest.raises(SourceError) as info:
            await asyncio.wait_for(h.start(), 10)
        assert info.value.reason == "tls"


@pytest.fixture
async def big_snapshot_server(street_clip: Path):  # type: ignore[no-untyped-def]
    """Snapshots far larger than one socket read, sent in pieces; and a truncated one."""
    capture = cv2.VideoCapture(str(street_clip))
    ok, frame = capture.read()
    capture.release()
    assert ok
    big = cv2.resize(frame, (1280, 960), interpolation=cv2.INTER_NEAREST)
    noise = np.random.default_rng(7).integers(0, 40, big.shape, dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", cv2.add(big, noise), [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    assert len(jpeg) > 256 * 1024

    async def pieces(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(jpeg), 32 * 1024):
            await response.write(jpeg[start:start + 32 * 1024])
            await asyncio.sleep(0.002)  # the rest arrives in later reads
        return response

    async def truncated(request: web.Request) -> web.Response:
        # a valid header (size readable) but the picture cut off: decoding fails
        return web.Response(body=jpeg[:20_000], content_type="image/jpeg")

    async def huge(request: web.Request) -> web.StreamResponse:
        # a JPEG start followed by more bytes than any picture needs, no Content-Length
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(jpeg)
        for _ in range(160):  # + 10 MiB
            await response.write(b"\0" * 65536)
        return response

    app = web.Application()
    app.router.add_get("/big.jpg", pieces)
    app.router.add_get("/cut.jpg", truncated)
    app.router.add_get("/huge.jpg", huge)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def test_snapshot_larger_than_one_read_is_analysed(big_snapshot_server) -> None:  # type: ignore[no-untyped-def]
    port = big_snapshot_server
    cfg = camera("big", url=f"http://127.0.0.1:{port}/big.jpg", analysis={"people": False})
    async with SourceHarness.from_plugin(plugin, cfg) as h:
        h.start()
        cam = {"camera": "big"}
        await wait_value(h, "sitroom_camera_frames_analysed_total", lambda v: v >= 2, **cam)
        assert h.value("sitroom_camera_decode_errors_total", **cam) == 0
        assert h.value("sitroom_camera_width_pixels", **cam) == 1280
        assert h.value("sitroom_camera_up", **cam) == 1


async def test_snapshot_past_the_cap_fails_as_protocol(big_snapshot_server) -> None:  # type: ignore[no-untyped-def]
    port = big_snapshot_server
    cfg = camera("huge", url=f"http://127.0.0.1:{port}/huge.jpg", analysis={"people": False})
    async with SourceHarness.from_plugin(plugin, cfg) as h:
        with pytest.raises(SourceError) as info:
            await asyncio.wait_for(h.start(), 20)
        assert info.value.reason == "protocol"
        assert h.value("sitroom_camera_frames_received_total", camera="huge") == 0


async def test_snapshot_that_does_not_decode_never_counts_as_a_frame(big_snapshot_server
                                                                     ) -> None:  # type: ignore[no-untyped-def]
    port = big_snapshot_server
    cfg = camera("cut", url=f"http://127.0.0.1:{port}/cut.jpg", analysis={"people": False},
                 analysis_interval=0.2, stall_timeout=30)
    async with SourceHarness.from_plugin(plugin, cfg) as h:
        h.start()
        cam = {"camera": "cut"}
        await wait_value(h, "sitroom_camera_decode_errors_total", lambda v: v >= 3, **cam)
        assert h.value("sitroom_camera_frames_received_total", **cam) == 0
        assert h.value("sitroom_camera_frames_analysed_total", **cam) == 0
        assert h.value("sitroom_camera_up", **cam) == 0


@pytest.fixture
async def garbage_mjpeg_server():  # type: ignore[no-untyped-def]
    """Announces MJPEG, then streams bytes that never contain the boundary."""
    sent = [0]

    async def garbage(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame"})
        await response.prepare(request)
        block = bytes(range(256)).replace(b"-", b"_") * 256  # 64 KiB, no "--frame" anywhere
        while sent[0] < 64 * 1024 * 1024:  # far more than any cap
            await response.write(block)
            sent[0] += len(block)
        return response

    app = web.Application()
    app.router.add_get("/mjpeg", garbage)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner.addresses[0][1], sent
    await runner.cleanup()


async def test_mjpeg_without_boundaries_fails_as_protocol_and_keeps_the_loop_free(
        garbage_mjpeg_server) -> None:  # type: ignore[no-untyped-def]
    from sitroom_cameras.feed_http import MAX_FRAME_BYTES

    port, sent = garbage_mjpeg_server
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(ticker())
    try:
        cfg = camera("junk", url=f"http://127.0.0.1:{port}/mjpeg", analysis={"people": False})
        async with SourceHarness.from_plugin(plugin, cfg) as h:
            with pytest.raises(SourceError) as info:
                await asyncio.wait_for(h.start(), 20)
            assert info.value.reason == "protocol"
            assert "boundary" in str(info.value)
            assert h.value("sitroom_camera_frames_received_total", camera="junk") == 0
    finally:
        other.cancel()
    # it gave up past the cap, long before the server's 64 MiB (the slack is socket buffers
    # filling while the failed feed waits for its next analysis tick)
    assert MAX_FRAME_BYTES < sent[0] < 8 * MAX_FRAME_BYTES
    assert ticks >= 100  # another coroutine kept running while the feed chewed the garbage
