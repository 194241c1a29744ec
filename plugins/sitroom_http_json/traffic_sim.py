"""A traffic-speed API for the demo city: Semarang road segments with rush hours.

Shaped like commercial and city traffic feeds (a list of segments with current and
free-flow speed in km/h and a text level), so the demo's `http_json` source exercises unit
conversion (km/h -> m/s), text-to-number mapping and per-item labels. Speeds follow the
morning and evening peaks in Asia/Jakarta time; `jammed` segments stay congested so the
demo shows a firing congestion alert.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass

from aiohttp import web
from pydantic import Field, SecretStr

from sitroom.api import ConfigModel, serve_forever


@dataclass(frozen=True)
class Segment:
    id: str
    name: str
    district: str
    free_flow_kmh: float


SEGMENTS = (
    Segment("jl-pemuda", "Jl. Pemuda", "Semarang Tengah", 40),
    Segment("jl-pandanaran", "Jl. Pandanaran", "Semarang Selatan", 40),
    Segment("jl-mt-haryono", "Jl. MT Haryono", "Semarang Timur", 35),
    Segment("jl-kaligawe", "Jl. Kaligawe Raya", "Gayamsari", 50),
    Segment("jl-siliwangi", "Jl. Jenderal Sudirman - Siliwangi", "Semarang Barat", 50),
    Segment("jl-setiabudi", "Jl. Setiabudi", "Banyumanik", 45),
    Segment("jl-majapahit", "Jl. Brigjen Sudiarto - Majapahit", "Pedurungan", 45),
    Segment("jl-ngaliyan", "Jl. Prof. Hamka", "Ngaliyan", 45),
    Segment("jl-arteri-yos", "Jl. Arteri Yos Sudarso", "Semarang Utara", 60),
    Segment("jl-tembalang", "Jl. Prof. Soedarto", "Tembalang", 40),
)


class TrafficSimulatorConfig(ConfigModel):
    host: str = "127.0.0.1"
    port: int = Field(default=18701, ge=1, le=65535)
    jammed: list[str] = Field(
        default_factory=lambda: ["jl-kaligawe"],
        description="Segment ids that stay congested (rob flooding on Kaligawe is routine).",
    )
    token: SecretStr | None = Field(
        default=None, description="When set, require `Authorization: Bearer <token>`."
    )


def _level(ratio: float) -> str:
    if ratio >= 0.7:
        return "lancar"
    if ratio >= 0.5:
        return "ramai"
    if ratio >= 0.3:
        return "padat"
    return "macet"


def _peak_factor(now: float) -> float:
    """0 off-peak .. 1 at 07:00 and 17:00 Asia/Jakarta (UTC+7, no DST)."""
    hour = ((now / 3600.0) + 7.0) % 24.0
    return max(math.exp(-((hour - 7.0) ** 2) / 1.5), math.exp(-((hour - 17.0) ** 2) / 2.0))


def snapshot(config: TrafficSimulatorConfig, now: float, rng: random.Random) -> dict[str, object]:
    peak = _peak_factor(now)
    segments = []
    for seg in SEGMENTS:
        if seg.id in config.jammed:
            ratio = rng.uniform(0.12, 0.25)
        else:
            ratio = min(1.0, max(0.2, 0.95 - 0.5 * peak + rng.uniform(-0.08, 0.08)))
        speed = round(seg.free_flow_kmh * ratio, 1)
        segments.append(
            {
                "id": seg.id,
                "name": seg.name,
                "district": seg.district,
                "speed_kmh": speed,
                "free_flow_kmh": seg.free_flow_kmh,
                "level": _level(ratio),
            }
        )
    return {"city": "Semarang", "updated": int(now), "segments": segments}


async def run_traffic_api(config: TrafficSimulatorConfig) -> None:
    rng = random.Random()
    expected = (
        f"Bearer {config.token.get_secret_value()}" if config.token is not None else None
    )

    async def segments(request: web.Request) -> web.Response:
        if expected is not None and request.headers.get("Authorization") != expected:
            return web.Response(status=401, text="unauthorized\n")
        body = json.dumps(snapshot(config, time.time(), rng))
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v1/segments", segments)
    await serve_forever(app, config.host, config.port)
