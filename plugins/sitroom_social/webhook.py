"""`social_webhook` kind: posts pushed by bridges from other networks.

The source itself only waits and keeps trend scores ticking; `POST /api/v1/social/{source}`
(routes.py) validates a payload and hands the posts to `ingest()`. Extra fields a bridge
sends (author, avatar, ...) are ignored and never stored.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from sitroom.api import SourceContext, StreamingSource
from sitroom_social.config import WebhookConfig
from sitroom_social.core import BatchResult, Post, SocialCore

TICK_SECONDS = 15.0


class BridgePost(BaseModel):
    # NaN/Infinity are JSON extensions Python accepts: a NaN time is no time at all
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    id: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=20_000)
    url: HttpUrl | None = None
    created_at: datetime | float | None = None
    html: bool = False

    def post(self) -> Post:
        published: float | None
        if isinstance(self.created_at, datetime):
            published = self.created_at.timestamp()
        else:
            published = self.created_at
        return Post(
            uid=self.id,
            text=self.text,
            url=str(self.url) if self.url is not None else None,
            published=published,
            html=self.html,
        )


class BridgePayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    posts: list[BridgePost] = Field(min_length=1)


class WebhookSource(StreamingSource):
    config: WebhookConfig

    def __init__(self, config: WebhookConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self.core = SocialCore(config, ctx)

    async def run(self) -> None:
        await self.core.start()
        self.ctx.mark_success()
        tick = min(TICK_SECONDS, self.config.trend.bucket)
        while True:
            await asyncio.sleep(tick)
            self.core.tick()
            await self.core.save()

    async def ingest(self, posts: list[Post]) -> BatchResult:
        await self.core.start()
        result = self.core.process(posts)
        self.ctx.mark_success()
        return result

    async def close(self) -> None:
        if self.core.started:
            await self.core.save(force=True)
