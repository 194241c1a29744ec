"""A config directory for the pages' tests: users, tokens, the registry, a camera simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sitroom.auth import hash_password

REPO = Path(__file__).resolve().parents[2]
FOOTAGE = REPO / "plugins" / "sitroom_cameras" / "media" / "vtest.mp4"
ADMIN_TOKEN = "admin-token-0123456789abcdef"
VIEWER_TOKEN = "viewer-token-0123456789abcdef"
PASSWORDS = {"operator": "op-Passw0rd-rahasia", "viewer": "view-Passw0rd-rahasia"}
# cheap scrypt for tests (the cost parameter is checked, not the speed)
N = 2**14


def write_config(directory: Path, camera_port: int, extra_sources: list[dict[str, Any]] | None
                 = None, tile_url: str | None = None) -> Path:
    """The daemon section (two users, two tokens), the registry, the camera simulator."""
    directory.mkdir(parents=True, exist_ok=True)
    secrets = directory / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "admin-token").write_text(ADMIN_TOKEN + "\n")
    (secrets / "viewer-token").write_text(VIEWER_TOKEN + "\n")
    users = []
    for name, password in PASSWORDS.items():
        path = secrets / f"{name}.hash"
        path.write_text(hash_password(password, n=N) + "\n")
        users.append({"name": name, "scope": name, "password_hash_file": str(path)})
    web: dict[str, Any] = {}
    if tile_url:
        web["tile_url"] = tile_url
    daemon = {
        "daemon": {
            "state_dir": str(directory / "state"),
            "auth": {
                "token_file": str(secrets / "admin-token"),
                "tokens": [{"name": "grafana", "scope": "viewer",
                            "token_file": str(secrets / "viewer-token")}],
                "users": users,
                "cookie_secure": False,  # plain HTTP on loopback
            },
            "web": web,
        }
    }
    (directory / "00-daemon.yaml").write_text(yaml.safe_dump(daemon))
    sources = [{
        "kind": "camera_registry",
        "name": "kota",
        "allow_networks": ["127.0.0.1/32"],
        "allowed_ports": [camera_port],
        "registration_limit": {"per_minute": 60, "burst": 20},
        "refresh_interval": "0.5s",
        "camera_defaults": {"analysis_interval": "1s", "analysis": {"people": False}},
    }, {
        # a configured camera with a zone that is restricted all day: motion there is an
        # event at once, so the events list and the wall's drawn zones have something to show
        "kind": "camera",
        "name": "simpang-lima",
        "url": f"http://127.0.0.1:{camera_port}/mjpeg",
        "district": "Semarang Selatan",
        "location": "Simpang Lima",
        "analysis_interval": "1s",
        "analysis": {"people": False},
        "zones": [{"name": "jalan", "polygon": [[0, 250], [768, 250], [768, 576], [0, 576]],
                   "presence": "motion", "motion_threshold": 0.001,
                   "restricted": [{"start": "00:00", "end": "23:59"}]}],
    }, *(extra_sources or [])]
    (directory / "10-sources.yaml").write_text(yaml.safe_dump({"sources": sources}))
    simulators = {"simulators": {"cameras": {"port": camera_port, "footage": str(FOOTAGE),
                                             "fps": 5}}}
    (directory / "90-sim.yaml").write_text(yaml.safe_dump(simulators))
    return directory
