"""Rendezvous (highest-random-weight) hashing of sources onto shards.

Each source goes to the shard with the highest hash of (shard, name). Growing from N to N+1
shards moves only about 1/(N+1) of sources, and every replica decides alone, from the name,
with no coordination.
"""

from __future__ import annotations

import hashlib
import re

_SHARD = re.compile(r"^(?:(\d+)|[a-z0-9]([a-z0-9.-]*[a-z0-9])?-(\d+))/(\d+)$")
_MAX_SHARDS = 10_000


def parse_shard(text: str) -> tuple[int, int]:
    """`"2/4"` -> (2, 4); `"sitroom-2/4"` -> (2, 4); shards are numbered from 0.

    The second form takes a StatefulSet pod's name (`--shard $(POD_NAME)/4` with the
    downward API), whose trailing `-<ordinal>` is the replica's stable identity: a pod that
    is rescheduled keeps its ordinal and so its sources.
    """
    match = _SHARD.match(text.strip())
    if not match:
        raise ValueError(f"shard must look like I/N or POD_NAME-I/N, got {text!r}")
    index = int(match.group(1) if match.group(1) is not None else match.group(3))
    count = int(match.group(4))
    if count > _MAX_SHARDS:
        raise ValueError(f"at most {_MAX_SHARDS} shards, got {text!r}")
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard index must be in 0..{count - 1}, got {text!r}")
    return index, count


def _weight(shard: int, name: str) -> int:
    digest = hashlib.blake2b(f"{shard}\x00{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def shard_of(name: str, shards: int) -> int:
    return max(range(shards), key=lambda shard: _weight(shard, name))


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    if shard is None or shard[1] == 1:
        return True
    return shard_of(name, shard[1]) == shard[0]
