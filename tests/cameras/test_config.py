"""Camera config: bad input is refused with a clear message; addresses never leak secrets."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from sitroom.config import format_validation_error
from sitroom_cameras.config import CameraConfig
from sitroom_cameras.targets import display, http_target, rtsp_url


def cam(**fields: object) -> CameraConfig:
    return CameraConfig.model_validate({"kind": "camera", "name": "c1", **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of url or path"),
        ({"url": "rtsp://h/x", "path": "/tmp/x.mp4"}, "exactly one of url or path"),
        ({"url": "ftp://h/x"}, "rtsp://, http:// or https://"),
        ({"url": "http://h:99999/x"}, "malformed"),
        ({"url": "rtsp:///nohost"}, "with a host"),
        ({"url": "http://h/x", "transport": "rtsp_tcp"}, "does not fit"),
        ({"url": "rtsp://h/x", "transport": "mjpeg"}, "does not fit"),
        ({"path": "/tmp/x.mp4", "transport": "snapshot"}, "needs a url"),
        ({"url": "http://h/x", "pin_address": "not-an-ip"}, "IP address"),
        ({"url": "http://h/x", "pin_address": "192.0.2.1", "follow_redirects": True},
         "cannot be used with pin_address"),
        ({"url": "http://h/x", "zones": [{"name": "a", "polygon": [[0, 0], [1, 1]]}]},
         "at least 3"),
        ({"url": "http://h/x", "zones": [{"name": "a", "polygon": [[0, 0], [1, -1], [2, 2]]}]},
         "must not be negative"),
        ({"url": "http://h/x",
          "zones": [{"name": "Bad Name", "polygon": [[0, 0], [1, 1], [2, 0]]}]},
         "pattern"),
        ({"url": "http://h/x", "zones": [{"name": "a", "polygon": [[0, 0], [1, 1], [2, 0]]},
                                        {"name": "a", "polygon": [[0, 0], [1, 1], [2, 0]]}]},
         "unique"),
        ({"url": "http://h/x", "zones": [{"name": "a", "polygon": [[0, 0], [1, 1], [2, 0]],
                                         "restricted": [{"start": "25:00", "end": "05:00"}]}]},
         "HH:MM"),
        ({"url": "http://h/x", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"url": "http://h/x", "analysis_interval": "fast"}, "duration"),
        ({"url": "http://h/x", "latitude": 123}, "less than or equal"),
        ({"url": "http://h/x", "colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_config_is_refused_with_a_clear_message(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        cam(**fields)
    text = "\n".join(format_validation_error(info.value))
    assert message in text, text


def test_transport_is_inferred_from_the_address() -> None:
    assert cam(url="rtsp://h/s").resolved_transport == "rtsp_tcp"
    assert cam(url="http://h/video.mjpg").resolved_transport == "mjpeg"
    assert cam(url="https://h/snap.JPG").resolved_transport == "snapshot"
    assert cam(path="/tmp/x.mp4").resolved_transport == "file"
    assert cam(url="rtsp://h/s", transport="rtsp_udp").resolved_transport == "rtsp_udp"


def test_rtsp_credentials_go_into_the_url_and_the_pinned_ip_replaces_the_host() -> None:
    c = cam(url="rtsp://cam.example.org:8554/live?token=abc", username="ad min",
            password="p@ss:w/rd", pin_address="192.0.2.10")
    assert rtsp_url(c) == "rtsp://ad%20min:p%40ss%3Aw%2Frd@192.0.2.10:8554/live?token=abc"
    shown = display(c)
    assert "p@ss" not in shown and "abc" not in shown and "cam.example.org" in shown


def test_ipv6_pin_is_bracketed() -> None:
    c = cam(url="rtsp://cam.example.org/live", pin_address="2001:db8::5")
    assert rtsp_url(c) == "rtsp://[2001:db8::5]/live"


def test_http_pin_keeps_host_header_and_sni_and_never_redirects() -> None:
    c = cam(url="https://cam.example.org:8443/snap.jpg", pin_address="198.51.100.7",
            username="u", password="secret-pw")
    target = http_target(c)
    assert target.url == "https://198.51.100.7:8443/snap.jpg"
    assert target.headers == {"Host": "cam.example.org:8443"}
    assert target.server_hostname == "cam.example.org"
    assert target.follow_redirects is False
    assert target.authorization == "Basic " + base64.b64encode(b"u:secret-pw").decode()
    assert "secret-pw" not in repr(target)


def test_password_can_come_from_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "pw"
    secret.write_text("from-file-pw\n")
    c = CameraConfig.model_validate({"kind": "camera", "name": "c", "url": "rtsp://h/x",
                                     "username": "u", "password_file": str(secret)})
    assert c.password is not None and c.password.get_secret_value() == "from-file-pw"
    assert "from-file-pw" not in repr(c)


def test_check_config_names_the_bad_camera_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    conf = tmp_path / "conf.d"
    conf.mkdir()
    (conf / "20-cameras.yaml").write_text(
        "sources:\n"
        "  - {kind: camera, name: good, url: 'rtsp://127.0.0.1:1/x'}\n"
        "  - {kind: camera, name: bad, url: 'rtsp://127.0.0.1:1/x', password: 'pw-in-yaml-1',\n"
        "     zones: [{name: z, polygon: [[0, 0], [5, 5]]}]}\n"
    )
    result = subprocess.run([sys.executable, "-m", "sitroom.cli", "check-config",
                             "--config-dir", str(conf)], capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "name=bad" in output and "zones.0.polygon" in output
    assert "name=good" not in output
    assert "pw-in-yaml-1" not in output


def test_registry_contract_fields_are_accepted() -> None:
    """The registry publishes citizens' cameras with exactly these fields (issue #7)."""
    import sitroom_cameras
    from sitroom.testing import kinds_of

    model = kinds_of(sitroom_cameras)["camera"].config_model
    c = model.model_validate({
        "kind": "camera", "name": "reg-0042", "url": "https://toko-sari.example/snap.jpg",
        "username": "owner", "password": "owner-pw-9", "pin_address": "203.0.113.9",
        "follow_redirects": False, "district": "Candisari", "latitude": -7.01,
        "longitude": 110.43, "owner_type": "shop", "location": "Jl. Sultan Agung 12",
        "analysis_interval": "2s",
        "zones": [{"name": "jalan", "type": "lane", "polygon": [[0, 0], [10, 0], [10, 10]]}],
    })
    assert c.resolved_transport == "snapshot" and c.analysis_interval == 2.0
    assert http_target(c).url == "https://203.0.113.9/snap.jpg"
