"""The event endpoints of a running daemon: listing needs the token; a snapshot opens with
its link's signature or the token and nothing else; a reload cannot move the link key."""

from __future__ import annotations

from sitroom.api import EventSpec, Text
from sitroom.events.manager import SourceEvents

SPEC = EventSpec("ZoneIntrusion", "critical", "security", Text("in {zone}", "di {zone}"),
                 Text("d", "d"), labels=("zone",))
JPEG = b"\xff\xd8\xff\xe0fake-but-served-as-is"


async def test_event_endpoints_and_signed_snapshot(write_config, start_daemon) -> None:
    config = write_config(sources=[], daemon={
        "auth": {"token_file": "token", "generate_if_missing": True},
        "alerting": {"snapshot_link_ttl": "5m"}})
    running = await start_daemon(config)
    token = (config / "token").read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    manager = running.daemon.events.manager
    assert (running.daemon.state_dir / "event-links.key").exists()

    async def picture() -> bytes:
        return JPEG

    SourceEvents(manager, "camera", "cam-1", (SPEC,)).fire(SPEC, zone="gate", snapshot=picture)
    (event,) = manager.events()
    link = event.annotations["snapshot_url"]
    path = link.split(running.url, 1)[1]
    assert path.startswith(f"/api/v1/events/{event.id}/snapshot.jpg?exp=")

    assert (await running.get("/api/v1/events"))[0] == 401
    status, body = await running.get("/api/v1/events", headers=auth)
    assert status == 200 and '"ZoneIntrusion"' in body and token not in body
    assert (await running.get(f"/api/v1/events/{event.id}", headers=auth))[0] == 200
    assert (await running.get("/api/v1/events/nope", headers=auth))[0] == 404

    async with running.session.get(running.url + path) as response:  # no header needed
        assert response.status == 200 and await response.read() == JPEG
        assert response.headers["Cache-Control"] == "private, no-store"
    bare = f"/api/v1/events/{event.id}/snapshot.jpg"
    assert (await running.get(bare))[0] == 403                            # nothing
    async with running.session.get(running.url + bare, headers=auth) as response:
        assert response.status == 200                                    # the token
    assert (await running.get(bare, headers={"Authorization": "Bearer x"}))[0] == 401
    assert (await running.get(path[:-1] + ("0" if path[-1] != "0" else "1")))[0] == 403
    assert (await running.get(path.replace(event.id, "0" * 16)))[0] == 403
    # a signature with the token still refuses: a bad link is never rescued silently
    assert (await running.get(path + "0", headers=auth))[0] == 403
    # an event without a picture answers 404 to a valid token
    SourceEvents(manager, "camera", "cam-1", (SPEC,)).fire(SPEC, zone="yard")
    other = next(e for e in manager.events() if e.labels["zone"] == "yard")
    assert (await running.get(f"/api/v1/events/{other.id}/snapshot.jpg",
                              headers=auth))[0] == 404
