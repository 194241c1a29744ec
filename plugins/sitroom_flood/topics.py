"""MQTT topic filters with a `{sensor}` level: subscribe as `+`, route, and pull the id out."""

from __future__ import annotations

from dataclasses import dataclass

from sitroom_flood.config import PayloadMapping
from sitroom_flood.payload import Decoder


@dataclass(frozen=True)
class Route:
    """One configured topic: its filter split into levels, and its payload decoder."""

    levels: tuple[str, ...]
    sensor_index: int | None
    decoder: Decoder

    @classmethod
    def of(cls, mapping: PayloadMapping) -> Route:
        levels = tuple(mapping.topic.split("/"))
        index = levels.index("{sensor}") if "{sensor}" in levels else None
        return cls(levels, index, Decoder(mapping))

    def match(self, topic: list[str]) -> tuple[bool, str | None]:
        """(matches, sensor id from the topic) following MQTT wildcard rules."""
        levels = self.levels
        for position, level in enumerate(levels):
            if level == "#":
                # '#' also matches the parent level; '$SYS'-style topics are not ours anyway
                return True, self._sensor(topic)
            if position >= len(topic):
                return False, None
            if level in ("+", "{sensor}"):
                if position == 0 and topic[0].startswith("$"):
                    return False, None
                continue
            if level != topic[position]:
                return False, None
        if len(topic) != len(levels):
            return False, None
        return True, self._sensor(topic)

    def _sensor(self, topic: list[str]) -> str | None:
        if self.sensor_index is None or self.sensor_index >= len(topic):
            return None
        return topic[self.sensor_index] or None


class Router:
    """Finds the first configured topic that matches a message's topic."""

    def __init__(self, mappings: list[PayloadMapping]) -> None:
        self.routes = [Route.of(mapping) for mapping in mappings]

    def subscriptions(self) -> list[str]:
        return list(dict.fromkeys(mapping.decoder.mapping.subscription
                                  for mapping in self.routes))

    def route(self, topic: str) -> tuple[Decoder, str | None] | None:
        levels = topic.split("/")
        for route in self.routes:
            ok, sensor = route.match(levels)
            if ok:
                return route.decoder, sensor
        return None
