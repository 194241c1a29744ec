"""Small persistent state of one social source: what it has seen, and where it stopped.

Kept in one JSON file under the daemon's state dir, read and written through the core's
`ctx.load_state_json` / `ctx.save_state_json` (atomic and fsynced, so a crash mid-write
leaves the previous file). Only hashes of post ids and texts are stored, never the ids,
texts or handles themselves.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

STATE_VERSION = 1
STATE_FILE = "social.json"


def digest(kind: str, value: str) -> str:
    return hashlib.blake2b(f"{kind}\0{value}".encode(), digest_size=12).hexdigest()


MAX_SEEN = 1_000_000
"""Hard ceiling on remembered hashes (the largest `dedupe_capacity`): ~170 MB at most."""


class SeenSet:
    """The last `capacity` post hashes, oldest dropped first.

    A polled feed is re-read whole on every poll, so the set must hold at least every post
    of the current document: with fewer, the first posts are evicted by the last ones and
    the next poll counts all of them again. `reserve` grows the capacity to fit (up to
    MAX_SEEN); the configured capacity is the floor, not a ceiling a big feed can defeat.
    """

    def __init__(self, capacity: int) -> None:
        self.configured = capacity
        self.capacity = capacity
        self._items: OrderedDict[str, None] = OrderedDict()

    def reserve(self, count: int) -> bool:
        """Make room for `count` hashes; False if MAX_SEEN caps it below that."""
        self.capacity = max(self.capacity, min(count, MAX_SEEN))
        return count <= MAX_SEEN

    def __contains__(self, item: str) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: str) -> None:
        self._items[item] = None
        self._items.move_to_end(item)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def items(self) -> list[str]:
        return list(self._items)


class SourceState:
    """Seen hashes, trend baselines and kind-specific cursors (ETag, Mastodon min_id)."""

    def __init__(self, capacity: int) -> None:
        self.seen = SeenSet(capacity)
        self.cursors: dict[str, str] = {}
        self.baselines: dict[str, float] = {}
        self.dirty = False

    def load(self, raw: Any) -> str | None:
        """Adopt what `ctx.load_state_json` returned; a problem description if unusable.

        None (no file, or an unreadable one the context already logged) is a fresh start.
        """
        if raw is None:
            return None
        if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
            return "state file has an unknown format, starting fresh"
        saved = raw.get("seen", [])
        if isinstance(saved, list):
            self.seen.reserve(len(saved))  # what a big feed grew it to before the restart
            for item in saved:
                if isinstance(item, str):
                    self.seen.add(item)
        cursors = raw.get("cursors", {})
        if isinstance(cursors, dict):
            self.cursors = {str(k): str(v) for k, v in cursors.items() if isinstance(v, str)}
        baselines = raw.get("baselines", {})
        if isinstance(baselines, dict):
            self.baselines = {
                str(k): float(v) for k, v in baselines.items() if isinstance(v, int | float)
            }
        return None

    def snapshot(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "seen": self.seen.items(),
            "cursors": dict(self.cursors),
            "baselines": dict(self.baselines),
        }
