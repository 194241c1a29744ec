"""`http_sensors`: gateways without MQTT POST readings to `/api/v1/ingest/{source}`.

The body is one JSON object, a JSON array of objects (a batch), or newline-delimited JSON
(one object per line), each mapped by the source's `payload` mapping and fed to the same
pipeline as MQTT. The route needs the daemon's bearer token (the core checks it before the
handler runs). The body is read in chunks and refused past `max_body_bytes` without
buffering the rest, so a runaway gateway cannot balloon the daemon's memory.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sitroom.api import BodyTooLarge, Route, SourceContext, StreamingSource, read_request_bounded
from sitroom_flood.config import HttpSensorsConfig
from sitroom_flood.ingest import Ingestor
from sitroom_flood.payload import Decoder, Rejected, parse_json

if TYPE_CHECKING:
    from sitroom.api import DaemonAPI

KIND = "http_sensors"
INGEST_PATH = "/api/v1/ingest/{source}"


class HttpSensors(StreamingSource):
    """Holds the pipeline state; the route hands it bodies. `run()` only waits."""

    config: HttpSensorsConfig

    def __init__(self, config: HttpSensorsConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self.ingestor = Ingestor(config, ctx)
        self.decoder = Decoder(config.payload)

    async def close(self) -> None:
        await self.ingestor.flush()

    async def run(self) -> None:
        self.ingestor.start()
        self.ctx.mark_success()  # ready to receive: that is what "up" means for a push sink
        await asyncio.Event().wait()

    def ingest_body(self, body: bytes, content_type: str = "") -> dict[str, Any]:
        """Feed one request body; returns the summary the gateway gets back.

        Items are independent readings, so a batch is answered per item (`items[i]`: what
        was stored of item i and why the rest was not) rather than all-or-nothing: a gateway
        resends exactly the items that failed, and the answer always matches the store.
        """
        before = Counter(self.ingestor.reasons)
        items = self._split(body, content_type)
        outcomes: list[dict[str, Any]] = []
        if len(items) > self.config.max_batch:
            for _ in items:
                self.ingestor.reject("batch_too_large", received=True)
            outcomes = [{"accepted": 0, "reasons": {"batch_too_large": 1}} for _ in items]
            items = []
        for item in items:
            outcomes.append(self._ingest_item(item))
        reasons = self.ingestor.reasons - before
        return {"accepted": sum(o["accepted"] for o in outcomes),
                "rejected": sum(reasons.values()),
                "reasons": dict(sorted(reasons.items())), "items": outcomes}

    def _ingest_item(self, item: Any) -> dict[str, Any]:
        before = Counter(self.ingestor.reasons)
        accepted = 0
        if isinstance(item, Rejected):
            self.ingestor.reject(item.reason, received=True)
        else:
            try:
                accepted = self.ingestor.ingest_document(self.decoder, item)
            except Exception as exc:  # a bug must cost this item, not the batch's others
                self.ingestor.reject_internal(exc)
        outcome: dict[str, Any] = {"accepted": accepted}
        reasons = self.ingestor.reasons - before
        if reasons:
            outcome["reasons"] = dict(sorted(reasons.items()))
        return outcome

    def _split(self, body: bytes, content_type: str) -> list[Any]:
        """Body -> items; an unparseable NDJSON line becomes a `Rejected` item of its own."""
        ndjson = "ndjson" in content_type or "jsonlines" in content_type
        if not ndjson:
            try:
                document = parse_json(body)
            except Rejected:
                if b"\n" not in body.strip():
                    return [Rejected("malformed")]
                ndjson = True  # a line-per-object body sent as application/json
            else:
                senml = self.config.payload.format == "senml"
                if isinstance(document, list) and not (senml and _is_pack(document)):
                    return list(document)
                return [document]
        items: list[Any] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            try:
                items.append(parse_json(line))
            except Rejected as exc:
                items.append(exc)
        return items


def _is_pack(document: list[Any]) -> bool:
    """A SenML pack is a list of records (objects); a batch of packs is a list of lists."""
    return all(isinstance(record, dict) for record in document)


def ingest_route(daemon: DaemonAPI) -> Route:
    async def handler(request: web.Request) -> web.StreamResponse:
        name = request.match_info["source"]
        source = daemon.source(name, kind=KIND)
        if not isinstance(source, HttpSensors):
            return web.json_response({"error": f"no {KIND} source named {name!r}"}, status=404)
        try:
            body = await read_request_bounded(request, source.config.max_body_bytes)
        except BodyTooLarge:
            source.ingestor.reject("too_large", received=True)
            return web.json_response(
                {"error": f"body exceeds {source.config.max_body_bytes} bytes"}, status=413
            )
        summary = source.ingest_body(body, request.content_type)
        status = 200 if summary["accepted"] or not summary["rejected"] else 422
        return web.json_response(summary, status=status, dumps=json.dumps)

    return Route("POST", INGEST_PATH, handler)
