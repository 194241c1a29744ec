"""Who is probing a registration, and when a claim may be taken back.

A replica that claims a registration for probing writes its claimer id and the time. When
a replica (re)starts, or every so often, registrations still `probing` go back to the queue
only if their claimer is certainly gone, so a restarting replica never steals another live
replica's in-flight probe (which would probe the camera twice):

- the claim is stale: older than any probe can take (the probe timeout bounds a probe);
- the claimer ran on this host and its process is gone (a SIGKILLed daemon sharing an
  SQLite file or a database with its neighbours), or it had our pid but another start token
  (a container restarted: the daemon is pid 1 again);
- no claimer was recorded (claimed by a version before claims were recorded).

Another host's fresh claim is left alone: only time tells whether that host is alive.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Claimer:
    host: str
    pid: int
    token: str

    @classmethod
    def this_process(cls) -> Claimer:
        return cls(socket.gethostname(), os.getpid(), secrets.token_hex(4))

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    @classmethod
    def parse(cls, text: str) -> Claimer | None:
        host, _, rest = text.rpartition(":")  # host:pid:token, the host may hold colons
        host, _, pid = host.rpartition(":")
        if not host or not pid.isdigit():
            return None
        return cls(host, int(pid), rest)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def claim_is_dead(
    claimed_by: str | None,
    claimed_at: float | None,
    me: Claimer,
    now: float,
    stale_after: float,
) -> bool:
    if claimed_by is None or claimed_at is None:
        return True
    if claimed_at < now - stale_after:
        return True
    owner = Claimer.parse(claimed_by)
    if owner is None:
        return True
    if owner.host != me.host:
        return False
    if owner.pid == me.pid:
        return owner.token != me.token
    return not process_alive(owner.pid)
