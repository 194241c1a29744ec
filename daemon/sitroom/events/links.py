"""Signed, expiring snapshot links: an event's picture opens in whoever's browser got the
notification, without the daemon's bearer token, and only that event's picture.

The link carries its expiry and an HMAC-SHA256 over (event id, expiry) with a key kept in
the state directory (created 0600 on first use, never logged, never in an API answer).
Anyone can read the expiry; nobody without the key can extend it or point the signature at
another event. The pictures themselves stay in memory, a bounded number of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

KEY_FILE = "event-links.key"
SnapshotFactory = Callable[[], Awaitable[bytes | None]]


def load_or_create_key(state_dir: Path) -> bytes:
    """The link key: 32 random bytes, created atomically with mode 0600 when absent."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / KEY_FILE
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(key) < 16:
        raise ValueError(f"{path}: link key too short; delete it to make a new one")
    return key


class LinkSigner:
    def __init__(self, key: bytes, base_url: str, ttl: float) -> None:
        self._key = key
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl

    def _signature(self, event_id: str, expires: int) -> str:
        message = f"snapshot\n{event_id}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def snapshot_url(self, event_id: str, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + self.ttl)
        sig = self._signature(event_id, expires)
        return (f"{self.base_url}/api/v1/events/{quote(event_id)}/snapshot.jpg"
                f"?exp={expires}&sig={sig}")

    def verify(self, event_id: str, expires: str, sig: str, now: float | None = None) -> bool:
        """True for a link this daemon signed for `event_id` that has not expired."""
        if not expires.isdigit() or len(expires) > 12 or len(sig) != 64:
            return False
        if int(expires) < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(self._signature(event_id, int(expires)), sig)


class SnapshotStore:
    """The pictures of the newest `capacity` events, in memory only."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, asyncio.Task[bytes | None]] = OrderedDict()

    def capture(self, event_id: str, factory: SnapshotFactory) -> None:
        """Start taking the picture now (the frame that raised the event), without waiting."""
        self._items[event_id] = asyncio.get_running_loop().create_task(
            _safe(factory), name=f"snapshot:{event_id}")
        while len(self._items) > self.capacity:
            _, task = self._items.popitem(last=False)
            task.cancel()

    def has(self, event_id: str) -> bool:
        return event_id in self._items

    async def get(self, event_id: str) -> bytes | None:
        task = self._items.get(event_id)
        if task is None:
            return None
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                return None
            raise

    def close(self) -> None:
        for task in self._items.values():
            task.cancel()
        self._items.clear()


async def _safe(factory: SnapshotFactory) -> bytes | None:
    try:
        return await factory()
    except asyncio.CancelledError:
        raise
    except Exception:  # a picture that cannot be made is a link that answers 404
        return None
