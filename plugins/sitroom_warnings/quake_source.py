"""The `earthquake_feed` source: BMKG's latest earthquake, in numbers, from the city's view."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from sitroom.api import (
    HostileFeed,
    MalformedXml,
    PollingSource,
    SourceContext,
    SourceError,
    fetch_bytes,
    parse_xml_safely,
    redact_url,
)
from sitroom_warnings.cap import Refused
from sitroom_warnings.config import EarthquakeFeedConfig
from sitroom_warnings.metrics import (
    QUAKE_CITY_FELT,
    QUAKE_DEPTH,
    QUAKE_DISTANCE,
    QUAKE_EVENTS,
    QUAKE_FELT,
    QUAKE_INFO,
    QUAKE_MAGNITUDE,
    QUAKE_REFUSED,
    QUAKE_TIME,
    QUAKE_TSUNAMI,
)
from sitroom_warnings.quake import Quake, read_quakes

MAX_LABEL = 80
MAX_REMEMBERED = 1000


def _xml_or_refuse(body: bytes) -> Element:
    try:
        return parse_xml_safely(body)
    except HostileFeed as exc:
        raise Refused("hostile_xml", str(exc)) from None
    except MalformedXml as exc:
        raise Refused("malformed_xml", str(exc)) from None


class EarthquakeFeed(PollingSource):
    config: EarthquakeFeedConfig

    def __init__(self, config: EarthquakeFeedConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self.url = str(config.url)
        self.shown = redact_url(self.url)
        self.seen: set[str] = set()
        self.info: tuple[str, str] | None = None

    def _parse(self, body: bytes) -> tuple[list[Quake], list[str]]:
        is_xml = self.config.format == "xml" or (
            self.config.format == "auto" and body.lstrip()[:1] == b"<")
        return read_quakes(body, _xml_or_refuse(body) if is_xml else None)

    async def collect(self) -> None:
        body = await fetch_bytes(self.ctx.http(), self.url,
                                 time_limit=float(self.config.timeout) * 0.9,
                                 max_bytes=self.config.max_bytes)
        try:
            quakes, refused = await self.ctx.run_blocking(self._parse, body)
        except Refused as exc:
            self.metrics.inc(QUAKE_REFUSED, reason=exc.reason)
            raise SourceError(exc.reason, f"{self.shown}: {exc}") from None
        for reason in refused:
            self.metrics.inc(QUAKE_REFUSED, reason=reason)
        if not quakes:
            raise SourceError("protocol", f"{self.shown}: no usable event "
                              f"({len(refused)} refused)")
        for quake in quakes:
            if quake.key not in self.seen:
                if len(self.seen) > MAX_REMEMBERED:
                    self.seen.clear()
                self.seen.add(quake.key)
                self.metrics.inc(QUAKE_EVENTS)
        self._write(quakes[0])
        self.ctx.set_detail("events", len(quakes))

    def _write(self, quake: Quake) -> None:
        self.metrics.set(QUAKE_MAGNITUDE, quake.magnitude)
        self.metrics.set(QUAKE_DEPTH, quake.depth_m)
        self.metrics.set(QUAKE_DISTANCE, round(quake.distance_m, 1))
        self.metrics.set(QUAKE_TIME, quake.time)
        self.metrics.set(QUAKE_FELT, quake.felt_max_mmi)
        self.metrics.set(QUAKE_CITY_FELT, quake.felt_city_mmi)
        if quake.tsunami is None:
            self.metrics.remove(QUAKE_TSUNAMI)
        else:
            self.metrics.set(QUAKE_TSUNAMI, 1.0 if quake.tsunami else 0.0)
        info = (quake.region[:MAX_LABEL], quake.felt[:MAX_LABEL])
        if info != self.info:
            self.metrics.remove_matching(QUAKE_INFO)
            self.metrics.info(QUAKE_INFO, region=info[0], felt=info[1])
            self.info = info
