"""BMKG and PetaBencana on loopback: a nowcast RSS index with CAP files, a PetaBencana
Atom feed of inline CAP alerts, and BMKG's earthquake reports in JSON and XML.

Documents follow the published formats (BMKG's nowcast RSS + CAP 1.2 files in Indonesian,
PetaBencana's /floods?geoformat=cap Atom feed, BMKG's autogempa/gempaterkini JSON and XML
with every value a string); times are relative to the simulator's clock so alerts are active
while the demo runs. Every `cycle` the story starts again with new identifiers: heavy rain
over the north of the city, Kaligawe and Tambak Lorok flooding, a small felt quake south-west
of the city, an expired warning and one for a neighbouring regency.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from xml.sax.saxutils import escape

from aiohttp import web
from pydantic import Field

from sitroom.api import ConfigModel, Duration, semarang_districts, serve_forever

WIB = timezone(timedelta(hours=7))
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


class WarningsSimulatorConfig(ConfigModel):
    host: str = "127.0.0.1"
    port: int = Field(default=18801, ge=0, le=65535)
    cycle: Duration = Field(default=3600.0, gt=0, description="The story restarts this often.")


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, WIB).isoformat(timespec="seconds")


def _square(lat: float, lon: float, half: float = 0.012) -> str:
    """A small polygon around a point, CAP style: 'lat,lon' pairs, closed."""
    corners = [(lat - half, lon - half), (lat - half, lon + half), (lat + half, lon + half),
               (lat + half, lon - half), (lat - half, lon - half)]
    return " ".join(f"{a:.4f},{b:.4f}" for a, b in corners)


def cap_alert(*, identifier: str, sender: str, sent: float, event: str, severity: str,
              urgency: str, certainty: str, areas: list[tuple[str, str]],
              expires: float | None, headline: str, description: str,
              language: str = "id-ID", msg_type: str = "Alert",
              sender_name: str = "BMKG") -> str:
    area_xml = "".join(
        f"<area><areaDesc>{escape(desc)}</areaDesc>"
        + (f"<polygon>{polygon}</polygon>" if polygon else "") + "</area>"
        for desc, polygon in areas)
    expires_xml = f"<expires>{_stamp(expires)}</expires>" if expires is not None else ""
    return (
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{escape(identifier)}</identifier><sender>{escape(sender)}</sender>"
        f"<sent>{_stamp(sent)}</sent><status>Actual</status><msgType>{msg_type}</msgType>"
        f"<scope>Public</scope><info><language>{language}</language>"
        f"<category>Met</category><event>{escape(event)}</event>"
        f"<urgency>{urgency}</urgency><severity>{severity}</severity>"
        f"<certainty>{certainty}</certainty><effective>{_stamp(sent)}</effective>"
        f"{expires_xml}<senderName>{escape(sender_name)}</senderName>"
        f"<headline>{escape(headline)}</headline>"
        f"<description>{escape(description)}</description>"
        f"<web>https://www.bmkg.go.id/</web>{area_xml}</info></alert>"
    )


class Story:
    """The documents of one cycle, rebuilt when the cycle turns."""

    def __init__(self, cycle: float) -> None:
        self.cycle = cycle
        self.start = 0.0
        self.files: dict[str, str] = {}

    def refresh(self, now: float) -> None:
        start = now - (now % self.cycle)
        if start == self.start and self.files:
            return
        self.start = start
        district = semarang_districts()
        day = datetime.fromtimestamp(start, WIB).strftime("%Y%m%d%H")
        north = [(f"Kec. {district[s].name}, Kota Semarang", _square(*district[s].centre))
                 for s in ("semarang-utara", "genuk", "gayamsari")]
        self.files = {
            f"CJT{day}001": cap_alert(
                identifier=f"CJT{day}001", sender="BMKG", sent=start,
                event="Hujan Lebat disertai Kilat/Petir dan Angin Kencang",
                severity="Severe", urgency="Immediate", certainty="Likely", areas=north,
                expires=start + self.cycle - 60,
                headline="Hujan Lebat disertai Kilat/Petir dan Angin Kencang di Jawa Tengah",
                description="Waspada potensi hujan lebat disertai kilat/petir dan angin "
                            "kencang di Kota Semarang bagian utara."),
            f"CJT{day}002": cap_alert(
                identifier=f"CJT{day}002", sender="BMKG", sent=start,
                event="Hujan Sedang - Lebat", severity="Moderate", urgency="Expected",
                certainty="Likely",
                areas=[("Kec. Kaliwungu, Kab. Kendal", _square(-6.955, 110.255)),
                       ("Kec. Ungaran Barat, Kab. Semarang", _square(-7.14, 110.40))],
                expires=start + self.cycle - 60,
                headline="Hujan Sedang - Lebat di Jawa Tengah",
                description="Hujan sedang hingga lebat di Kab. Kendal dan Kab. Semarang."),
            f"CJT{day}000": cap_alert(
                identifier=f"CJT{day}000", sender="BMKG", sent=start - 7200,
                event="Hujan Lebat", severity="Moderate", urgency="Immediate",
                certainty="Observed", areas=[("Kota Semarang", "")], expires=start - 3600,
                headline="Hujan Lebat di Kota Semarang", description="Sudah berakhir."),
        }

    def rss(self, base: str) -> str:
        items = "".join(
            f"<item><title>{escape(key)}</title><link>{base}/alerts/nowcast/id/{key}_alert.xml"
            f"</link><pubDate>{_stamp(self.start)}</pubDate></item>"
            for key in sorted(self.files))
        return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                "<title>Peringatan Dini Cuaca BMKG</title>"
                f"<link>{base}/alerts/nowcast/id</link>{items}</channel></rss>")

    def petabencana(self) -> str:
        district = semarang_districts()
        reports = [("KALIGAWE", "RW 03", "gayamsari", "Moderate",
                    "BANJIR ANTARA 71 hingga 150 SENTIMETER"),
                   ("TANJUNG MAS", "RW 16", "semarang-utara", "Minor",
                    "BANJIR ANTARA 10 hingga 70 SENTIMETER")]
        entries = ""
        for parent, area, slug, severity, depth in reports:
            sent = self.start  # never ahead of the clock: the cycle has begun
            identifier = f"{parent}.{area.replace(' ', '_')}.{_stamp(sent)}"
            alert = cap_alert(
                identifier=identifier, sender="BPBD.SEMARANGKOTA.GO.ID", sent=sent,
                event="FLOODING", severity=severity, urgency="Immediate",
                certainty="Observed", areas=[(f"{area}, {parent}",
                                              _square(*district[slug].centre, half=0.004))],
                expires=None, headline="FLOOD WARNING", language="en-US",
                description=f"PETABENCANA OBSERVED {depth} IN {parent}, {area}.",
                sender_name="BPBD KOTA SEMARANG")
            entries += (f"<entry><id>{escape(identifier)}</id><title>{escape(identifier)}"
                        f" Flood Affected Area</title><updated>{_stamp(sent)}</updated>"
                        f'<content type="text/xml">{alert}</content></entry>')
        return ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
                "<id>https://data.petabencana.id/floods</id>"
                "<title>petabencana.id Flood Affected Areas</title>"
                f"<updated>{_stamp(self.start)}</updated>{entries}</feed>")

    def quakes(self) -> list[dict[str, str]]:
        felt = self.start
        far = self.start - 86400
        return [_quake(felt, "7.06 LS", "110.33 BT", "4.1", "8 km",
                       "Pusat gempa berada di darat 12 km Barat Daya Kota Semarang",
                       "Gempa ini dirasakan untuk diteruskan pada masyarakat",
                       "III Semarang, II - III Ungaran, II Kendal"),
                _quake(far, "9.85 LS", "110.10 BT", "5.6", "35 km",
                       "Pusat gempa berada di laut 140 km BaratDaya Gunungkidul",
                       "Tidak berpotensi tsunami", "")]


def _quake(t: float, lintang: str, bujur: str, magnitude: str, depth: str, region: str,
           potensi: str, felt: str) -> dict[str, str]:
    local = datetime.fromtimestamp(t, WIB)
    lat = -float(lintang.split()[0]) if lintang.endswith("LS") else float(lintang.split()[0])
    lon = float(bujur.split()[0])
    record = {"Tanggal": f"{local.day:02d} {BULAN[local.month - 1]} {local.year}",
              "Jam": local.strftime("%H:%M:%S WIB"),
              "DateTime": datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds"),
              "Coordinates": f"{lat:.2f},{lon:.2f}", "Lintang": lintang, "Bujur": bujur,
              "Magnitude": magnitude, "Kedalaman": depth, "Wilayah": region,
              "Potensi": potensi}
    if felt:
        record["Dirasakan"] = felt
    record["Shakemap"] = local.strftime("%Y%m%d%H%M%S") + ".mmi.jpg"
    return record


def quakes_xml(records: list[dict[str, str]]) -> str:
    body = ""
    for record in records:
        lat, lon = record["Coordinates"].split(",")
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in record.items()
                         if k != "Coordinates")
        body += f"<gempa>{fields}<point><coordinates>{lon},{lat}</coordinates></point></gempa>"
    return f'<?xml version="1.0" encoding="UTF-8"?><Infogempa>{body}</Infogempa>'


def build_app(config: WarningsSimulatorConfig,
              clock: Callable[[], float] = time.time) -> web.Application:
    story = Story(float(config.cycle))
    xml = "application/xml"

    def fresh(request: web.Request) -> Story:
        story.refresh(clock())
        return story

    async def rss(request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return web.Response(text=fresh(request).rss(base), content_type=xml)

    async def cap_file(request: web.Request) -> web.Response:
        document = fresh(request).files.get(request.match_info["code"])
        if document is None:
            raise web.HTTPNotFound()
        return web.Response(text='<?xml version="1.0" encoding="UTF-8"?>' + document,
                            content_type=xml)

    async def floods(request: web.Request) -> web.Response:
        return web.Response(text=fresh(request).petabencana(), content_type=xml)

    async def autogempa(request: web.Request) -> web.Response:
        latest = fresh(request).quakes()[0]
        if request.match_info["ext"] == "xml":
            return web.Response(text=quakes_xml([latest]), content_type=xml)
        return web.Response(text=json.dumps({"Infogempa": {"gempa": latest}}),
                            content_type="application/json")

    async def terkini(request: web.Request) -> web.Response:
        records = fresh(request).quakes()
        if request.match_info["ext"] == "xml":
            return web.Response(text=quakes_xml(records), content_type=xml)
        return web.Response(text=json.dumps({"Infogempa": {"gempa": records}}),
                            content_type="application/json")

    app = web.Application()
    app.router.add_get("/alerts/nowcast/id/rss.xml", rss)
    app.router.add_get("/alerts/nowcast/id/{code}_alert.xml", cap_file)
    app.router.add_get("/floods", floods)
    app.router.add_get("/DataMKG/TEWS/autogempa.{ext:json|xml}", autogempa)
    app.router.add_get("/DataMKG/TEWS/gempaterkini.{ext:json|xml}", terkini)
    return app


async def run_warnings_simulator(config: WarningsSimulatorConfig) -> None:
    await serve_forever(build_app(config), config.host, config.port)
