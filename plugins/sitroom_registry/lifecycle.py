"""The registration lifecycle as data: which action moves which status where.

    pending -> probing -> awaiting_approval -> active <-> suspended
                      \\-> probe_failed -> (reprobe) pending
    any status except retired -> retired (final); reject: not yet active -> retired

Keeping the table in one place means the API, the CLI and the probe worker cannot disagree
about what an administrator may do, and the README's diagram is this table.
"""

from __future__ import annotations

STATUSES = (
    "pending",
    "probing",
    "probe_failed",
    "awaiting_approval",
    "active",
    "suspended",
    "retired",
)
_LIVE = frozenset(STATUSES) - {"retired"}

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "probe_start": (frozenset({"pending"}), "probing"),
    "probe_ok": (frozenset({"probing"}), "awaiting_approval"),
    "probe_failed": (frozenset({"probing"}), "probe_failed"),
    "approve": (frozenset({"awaiting_approval", "suspended"}), "active"),
    "suspend": (frozenset({"active"}), "suspended"),
    "retire": (_LIVE, "retired"),
    # turning a registration down before it ever went live; audited apart from retire
    "reject": (frozenset({"pending", "probe_failed", "awaiting_approval"}), "retired"),
    "reprobe": (frozenset({"probe_failed", "awaiting_approval", "suspended"}), "pending"),
    "recover": (frozenset({"probing"}), "pending"),  # a probe cut short by a crash
}
ADMIN_ACTIONS = ("approve", "reject", "suspend", "retire", "reprobe")
# `?status=` filters take a status, several separated by commas, or one of these names.
# `pending` keeps its lifecycle meaning (waiting for the probe); the approval queue is
# `waiting` (everything not decided yet) or `awaiting_approval`.
STATUS_ALIASES: dict[str, tuple[str, ...]] = {
    "waiting": ("pending", "probing", "awaiting_approval"),
    "queue": ("pending", "probing", "awaiting_approval", "probe_failed"),
    "failed": ("probe_failed",),
    "live": ("active",),
}


def parse_status_filter(value: str) -> tuple[str, ...]:
    """`awaiting_approval`, `active,suspended` or an alias -> statuses; ValueError if unknown."""
    found: list[str] = []
    for part in (p.strip().lower() for p in value.split(",")):
        if part in STATUS_ALIASES:
            found.extend(STATUS_ALIASES[part])
        elif part in STATUSES:
            found.append(part)
        else:
            names = ", ".join([*STATUSES, *STATUS_ALIASES])
            raise ValueError(f"status must be one of {names} (or several, comma-separated)")
    return tuple(dict.fromkeys(found))
# Editing where the stream lives invalidates the probe: the camera must be checked again.
STREAM_FIELDS = frozenset({"protocol", "host", "port", "path", "credentials"})


class TransitionError(Exception):
    """The action is not allowed from the registration's current status (HTTP 409)."""

    def __init__(self, action: str, current: str) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[action][0]))
        super().__init__(
            f"cannot {action} a registration that is {current} (allowed from: {allowed})"
        )
        self.action = action
        self.current = current


def target(action: str, current: str) -> str:
    sources, to = TRANSITIONS[action]
    if current not in sources:
        raise TransitionError(action, current)
    return to
