"""The event path: what must reach an agency in seconds, beside the metrics.

Plugins declare `EventSpec`s on their source kinds and raise them through `ctx.events`
(`sitroom.events.manager.SourceEvents`); the core keeps the incidents and delivers them
(Alertmanager's v2 API, optionally MQTT). Only the declarations are imported here, so the
declarations module can use them without importing the delivery machinery.
"""

from sitroom.events.spec import EventSpec, Text

__all__ = ["EventSpec", "Text"]
