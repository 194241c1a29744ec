"""Hostile registration bodies: each gets a 4xx with field errors, is counted, and never
reaches the error log (issue 16: deep JSON and lone surrogates gave 500 with a traceback;
`"consent": "true"` counted as consent; a stream port of 0 was probed as port 80)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.registry.conftest import Api, CameraServer, form
from tests.support import sample_value


def requests_counted(text: str, result: str) -> float:
    return sample_value(text, "sitroom_registry_requests_total", source="registry",
                        endpoint="register", result=result) or 0.0


async def post_raw(api: Api, raw: bytes) -> tuple[int, Any]:
    code, body, _ = await api.request("POST", "/api/v1/registrations", raw=raw, token=False)
    return code, body


async def test_deeply_nested_json_is_a_counted_400(
        api: Api) -> None:
    before = requests_counted(await api.metrics(), "malformed")
    with capture_logs() as events:
        code, body = await post_raw(api, b"[" * 8000 + b"]" * 8000)
    assert code == 400, body
    assert body["errors"][0]["field"] == "(body)"
    assert requests_counted(await api.metrics(), "malformed") == before + 1
    assert not [e for e in events if e["log_level"] == "error"], events


@pytest.mark.parametrize("where", ["stream.password", "owner_name", "stream.username",
                                   "key"])
async def test_lone_surrogates_are_field_errors(
        api: Api, camera_server: CameraServer,
        where: str) -> None:
    data = form(camera_server.port)
    if where == "key":
        data["\ud800"] = "x"
    elif where.startswith("stream."):
        data["stream"][where.split(".")[1]] = "ab\udc00cd-long"
    else:
        data[where] = "Toko \ud83d"
    before = requests_counted(await api.metrics(), "invalid")
    with capture_logs() as events:
        code, body = await post_raw(api, json.dumps(data).encode())  # ensure_ascii: "\\ud800"
    assert code == 422, body
    assert body["errors"] and all(e["field"] and e["message"] for e in body["errors"])
    if where != "key":
        assert where in [e["field"] for e in body["errors"]]
    assert requests_counted(await api.metrics(), "invalid") == before + 1
    assert not [e for e in events if e["log_level"] == "error"], events


@pytest.mark.parametrize("consent", ["true", 1, "yes", 1.0, [True], {"v": True}])
async def test_consent_must_be_json_true(api: Api, camera_server: CameraServer,
                                         consent: Any) -> None:
    code, body = await post_raw(api, json.dumps(form(camera_server.port, consent=consent))
                                .encode())
    assert code == 422, body
    assert "consent" in [e["field"] for e in body["errors"]]


@pytest.mark.parametrize("stream", [
    {"url": "http://127.0.0.1:0/snap.jpg"},
    {"protocol": "http", "host": "127.0.0.1", "port": 0, "path": "/snap.jpg"},
])
async def test_port_zero_is_refused(api: Api, camera_server: CameraServer,
                                    stream: dict[str, Any]) -> None:
    code, body = await post_raw(api, json.dumps(form(camera_server.port, stream=stream))
                                .encode())
    assert code == 422, body
    assert {e["field"] for e in body["errors"]} & {"stream.url", "stream.port"}


async def test_an_unexpected_failure_is_counted_and_logged_once_without_the_payload(
        api: Api, camera_server: CameraServer, monkeypatch: pytest.MonkeyPatch) -> None:
    source = api.daemon.api.source("registry", kind="camera_registry")

    async def broken(data: Any) -> Any:
        raise RuntimeError(f"bug while storing {data['owner_name']}")

    monkeypatch.setattr(source, "register", broken)
    before = await api.metrics()
    with capture_logs() as events:
        for _ in range(3):
            code, body = await post_raw(api, json.dumps(form(camera_server.port)).encode())
            assert code == 500 and body == {"error": "internal error"}
    after = await api.metrics()
    assert requests_counted(after, "internal") == requests_counted(before, "internal") + 3
    assert sample_value(after, "sitroom_http_request_errors_total", reason="internal") == (
        (sample_value(before, "sitroom_http_request_errors_total", reason="internal") or 0) + 3)
    failures = [e for e in events if e["event"] == "http_handler_failed"]
    assert len(failures) == 1, events
    assert failures[0]["error_type"] == "RuntimeError" and "exc_info" not in failures[0]
    assert "Sumber Rejeki" not in repr(events)


async def test_registration_ids_are_logged_as_a_short_hash(
        api: Api, camera_server: CameraServer,
) -> None:
    """The id is the citizen's status-page capability: logs carry a hash that correlates
    log lines (and that an admin can compute from an id) but cannot be turned back into it."""
    from sitroom_registry.source import log_ref

    with capture_logs() as events:
        code, body = await post_raw(api, json.dumps(form(camera_server.port)).encode())
        assert code == 201, body
        reg_id = body["id"]
        await api.wait_status(reg_id, "awaiting_approval")
        await api.request("POST", f"/api/v1/cameras/{reg_id}/approve")
    logs = repr(events)
    assert "'registration_received'" in logs and "'registration_probed'" in logs
    assert reg_id not in logs
    assert log_ref(reg_id) in logs and len(log_ref(reg_id)) == 12
