"""`mqtt_sensors`: subscribe to a broker with a persistent session and feed the pipeline.

Delivery guarantee: the client uses a fixed client id and a persistent session (MQTT 3.1.1
clean_session=0, MQTT 5 clean_start=0 with a session expiry), so the broker queues QoS 1
messages while we are away (daemon restart, broker restart with persistence, network cut)
and redelivers them on reconnect. Each message is ingested inside the client's receive
callback, which paho runs before it sends the PUBACK: an acknowledged message has already
been processed, so nothing is lost between ack and ingest. Redeliveries of messages we had
already processed are caught by their timestamps (`duplicate`).

Reconnecting is the core's job: on any disconnect `run()` raises and the supervisor retries
with exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import aiomqtt
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from sitroom.api import SourceContext, SourceError, StreamingSource
from sitroom_flood.config import MqttSensorsConfig
from sitroom_flood.ingest import Ingestor
from sitroom_flood.topics import Router

PAHO_LOG = logging.getLogger("sitroom_flood.paho")
PAHO_LOG.setLevel(logging.CRITICAL)
"""paho logs every dropped socket at ERROR; the supervisor already reports disconnects once
(failing, then recovered), so paho's own lines would only repeat them on every retry."""
NOT_AUTHORIZED = {4, 5, 134, 135}
"""CONNACK codes for bad credentials / not authorised (3.1.1 and 5)."""


def direct_queue(handler: Any) -> type[asyncio.Queue[aiomqtt.Message]]:
    """An aiomqtt queue type that hands each message to `handler` at once.

    aiomqtt puts received messages on a queue for `client.messages`; a queue whose
    `put_nowait` processes the message runs the pipeline in the receive callback, before
    the acknowledgement, and never buffers unprocessed (already acknowledged) messages.
    """

    class DirectQueue(asyncio.Queue):
        def put_nowait(self, item: aiomqtt.Message) -> None:
            handler(item)

    return DirectQueue


class MqttSensors(StreamingSource):
    config: MqttSensorsConfig

    def __init__(self, config: MqttSensorsConfig, ctx: SourceContext) -> None:
        super().__init__(config, ctx)
        self.ingestor = Ingestor(config, ctx)
        self.router = Router(config.topics)
        self.ctx.set_detail("broker", f"{config.host}:{config.port}")
        self.ctx.set_detail("subscriptions", self.router.subscriptions())

    def on_message(self, message: aiomqtt.Message) -> None:
        """Route, size-check and ingest one message; never raises (bad input is counted)."""
        try:
            payload = message.payload
            if not isinstance(payload, bytes | bytearray):
                payload = str(payload).encode()
            routed = self.router.route(message.topic.value)
            if routed is None:
                self.ingestor.reject("no_mapping", received=True)
                return
            decoder, topic_sensor = routed
            if len(payload) > self.config.max_payload_bytes:
                self.ingestor.reject("too_large", self.ingestor.known(topic_sensor),
                                     received=True)
                return
            self.ingestor.ingest_bytes(decoder, bytes(payload), topic_sensor,
                                       retained=bool(message.retain))
        except Exception as exc:  # a pipeline bug must not kill the connection
            self.ingestor.reject("internal", received=True)
            self.log.error("flood_ingest_failed", error=type(exc).__name__, exc_info=exc)

    def _client(self) -> aiomqtt.Client:
        config = self.config
        password = config.password.get_secret_value() if config.password else None
        tls_context = self._tls_context() if config.tls is not None else None
        kwargs: dict[str, Any] = {}
        if config.protocol == "5":
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = int(config.session_expiry)
            kwargs.update(protocol=aiomqtt.ProtocolVersion.V5, clean_start=False,
                          properties=properties)
        else:
            kwargs.update(protocol=aiomqtt.ProtocolVersion.V311, clean_session=False)
        return aiomqtt.Client(
            config.host,
            config.port,
            username=config.username,
            password=password,
            identifier=config.effective_client_id,
            keepalive=int(config.keepalive),
            timeout=float(config.timeout),
            tls_context=tls_context,
            queue_type=direct_queue(self.on_message),
            logger=PAHO_LOG,
            **kwargs,
        )

    def _tls_context(self) -> ssl.SSLContext:
        tls = self.config.tls
        assert tls is not None
        try:
            context = ssl.create_default_context(
                cafile=str(tls.ca_file) if tls.ca_file else None)
            if tls.cert_file:
                context.load_cert_chain(str(tls.cert_file),
                                        str(tls.key_file) if tls.key_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise SourceError("tls", f"cannot load TLS files: {exc}") from exc
        if tls.insecure:
            context.check_hostname = False
        return context

    async def close(self) -> None:
        await self.ingestor.flush()

    async def run(self) -> None:
        self.ingestor.start()
        client = self._client()
        connected = False
        where = f"MQTT {self.config.host}:{self.config.port}"
        try:
            async with client:
                connected = True
                for topic in self.router.subscriptions():
                    await client.subscribe(topic, qos=self.config.qos)
                self.ctx.mark_success()
                # With DirectQueue nothing is ever queued, so this only waits for the
                # disconnect (MqttError). Should a future aiomqtt enqueue some other way,
                # messages would still be processed here, acknowledged-first.
                async for message in client.messages:
                    self.on_message(message)
        except MqttConnectError as exc:
            if getattr(exc.rc, "value", exc.rc) in NOT_AUTHORIZED:
                raise SourceError("auth", f"{where}: broker refused our credentials") from None
            raise SourceError("connect", f"{where}: {exc}") from None
        except aiomqtt.MqttError as exc:
            reason = "disconnected" if connected else "connect"
            if not connected and self.config.tls is not None and _looks_like_tls(exc):
                reason = "tls"
            raise SourceError(reason, f"{where}: {exc}") from None


def _looks_like_tls(exc: BaseException) -> bool:
    """aiomqtt flattens connect errors to text; tell certificate trouble from a dead port."""
    text = str(exc).upper()
    return "SSL" in text or "CERTIFICATE" in text
