"""Builds the event path from the daemon's `alerting:` section and runs its tasks."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from sitroom.events import metrics as em
from sitroom.events.alertmanager import AlertmanagerPusher
from sitroom.events.links import LinkSigner, load_or_create_key
from sitroom.events.manager import EventManager
from sitroom.events.model import Event
from sitroom.events.mqtt import MqttEventPublisher
from sitroom.metrics.store import MetricWriter

if TYPE_CHECKING:
    from sitroom.config import AlertingConfig


def default_base_url(bound: list[tuple[str, int]]) -> str:
    """http://HOST:PORT of the first bound address; a wildcard becomes the host's name."""
    if not bound:
        return "http://127.0.0.1:9750"
    host, port = bound[0][0], bound[0][1]
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class EventService:
    """The manager plus its sinks; one per daemon, alive from start to stop."""

    def __init__(self, core: MetricWriter) -> None:
        self.core = core
        self.manager = EventManager(core)
        self.pushers: list[AlertmanagerPusher] = []
        self.mqtt: MqttEventPublisher | None = None
        self.base_url = "http://127.0.0.1:9750"
        self._tasks: list[asyncio.Task[None]] = []
        self.configured = False

    def start(self, config: AlertingConfig, state_dir: Path,
              bound: list[tuple[str, int]]) -> None:
        self.base_url = (config.external_url or default_base_url(bound)).rstrip("/")
        self.manager.signer = LinkSigner(load_or_create_key(state_dir), self.base_url,
                                         float(config.snapshot_link_ttl))
        for url in config.alertmanagers:
            pusher = AlertmanagerPusher(
                url, metrics=self.core, active=self.manager.events,
                generator_url=self.generator_url,
                resend_interval=float(config.resend_interval), timeout=float(config.timeout),
                capacity=config.queue_capacity, max_batch=config.max_batch,
                max_backoff=float(config.retry_max_backoff))
            self.pushers.append(pusher)
            self.manager.sinks.append(pusher)
            self._tasks.append(asyncio.create_task(pusher.run(), name=f"alerting:{pusher.name}"))
        if config.mqtt is not None:
            m = config.mqtt
            self.mqtt = MqttEventPublisher(
                host=m.host, port=m.port, prefix=m.topic_prefix,
                username=m.username,
                password=m.password.get_secret_value() if m.password else None,
                client_id=m.client_id, capacity=m.queue_capacity, metrics=self.core)
            self.manager.sinks.append(self.mqtt)
            self._tasks.append(asyncio.create_task(self.mqtt.run(), name="events:mqtt"))
        self.configured = bool(config.alertmanagers)
        self.refresh()

    def generator_url(self, event: Event) -> str:
        return f"{self.base_url}/api/v1/events/{event.id}"

    def refresh(self) -> None:
        """Per housekeeping tick: whether the push path covers the rules' conditions."""
        ready = self.configured and any(p.healthy for p in self.pushers)
        self.core.set(em.PUSH_READY, 1 if ready else 0)

    async def stop(self, deadline: float) -> None:
        """Give queued alerts (ends above all) a short chance, then stop the tasks."""
        if self.pushers:
            await asyncio.gather(*(p.flush(min(deadline, 2.0)) for p in self.pushers),
                                 return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self.manager.close()
