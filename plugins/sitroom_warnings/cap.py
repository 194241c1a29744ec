"""CAP 1.2 documents and the indexes that list them, parsed into plain alerts.

BMKG publishes each nowcast as a CAP file listed in an RSS index; PetaBencana serves an
Atom feed whose entries carry the CAP alert inline; others serve a single CAP document. All
three reach `read_document`, which says which one it got. Parsing is strict about what the
metrics need (identifier, sent, a known severity/urgency/certainty, a parseable expiry) and
lenient about everything else, and every refusal has a short reason that the source
counts. The XML itself has been through the core's hostile-XML guard before it gets here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from xml.etree.ElementTree import Element

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
MAX_AREAS = 64
MAX_POLYGON_POINTS = 4096
MAX_INDEX_LINKS = 200


class Refused(Exception):
    """A document or alert not taken, with the countable reason."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


@dataclass(frozen=True)
class Area:
    description: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[tuple[float, float, float], ...] = ()  # lat, lon, radius in km


@dataclass(frozen=True)
class Alert:
    """One CAP alert's first usable `info` block, reduced to what the metrics need."""

    key: str  # sender,identifier,sent: CAP's own reference triple
    msg_type: str  # Alert, Update, Cancel
    sent: float
    expires: float | None
    effective: float
    event: str
    severity: str
    urgency: str
    certainty: str
    areas: tuple[Area, ...]
    references: tuple[str, ...] = ()
    language: str = ""


@dataclass
class Document:
    """What one fetched document held: alerts, and links to more CAP files (RSS index)."""

    alerts: list[Alert] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # reasons, one per alert not taken


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: Element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def parse_time(text: str) -> float:
    """CAP's dateTime (RFC 3339 with a mandatory offset) as a Unix timestamp."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Refused("bad_time", f"unparseable time {text[:40]!r}") from None
    if when.tzinfo is None:
        raise Refused("bad_time", "time without a UTC offset")
    return when.timestamp()


def _points(text: str) -> tuple[tuple[float, float], ...]:
    pairs = text.split()
    if len(pairs) > MAX_POLYGON_POINTS:
        raise Refused("too_large", f"polygon of {len(pairs)} points")
    points = []
    for pair in pairs:
        lat_text, _, lon_text = pair.partition(",")
        try:
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            raise Refused("bad_area", f"polygon point {pair[:30]!r}") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Refused("bad_area", "polygon point off the globe")
        points.append((lat, lon))
    return tuple(points)


def _area(element: Element) -> Area:
    polygons = tuple(p for p in (_points(e.text or "") for e in _children(element, "polygon"))
                     if len(p) >= 3)
    circles = []
    for circle in _children(element, "circle"):
        centre, _, radius = (circle.text or "").strip().partition(" ")
        point = _points(centre)
        try:
            circles.append((point[0][0], point[0][1], float(radius)))
        except (IndexError, ValueError):
            raise Refused("bad_area", "circle is not 'lat,lon radius'") from None
    return Area(_text(element, "areaDesc")[:500], polygons, tuple(circles))


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    for option in allowed:
        if value.lower() == option.lower():
            return option
    raise Refused(f"bad_{what}", f"{what} {value[:20]!r}")


def parse_alert(element: Element, *, default_expiry: float, now: float) -> Alert:
    """One `<alert>` element; raises `Refused` with a reason."""
    if element.tag != f"{{{CAP_NS}}}alert":
        raise Refused("not_cap", f"root is {_local(element.tag)[:30]!r}, not a CAP 1.2 alert")
    identifier, sender, sent_text = (_text(element, n) for n in ("identifier", "sender", "sent"))
    if not identifier or not sender or not sent_text:
        raise Refused("missing_field", "identifier, sender and sent are required")
    status = _text(element, "status")
    if status != "Actual":
        raise Refused("not_actual", f"status {status[:20]!r}")
    msg_type = _text(element, "msgType")
    if msg_type not in ("Alert", "Update", "Cancel"):
        raise Refused("bad_msg_type", f"msgType {msg_type[:20]!r}")
    sent = parse_time(sent_text)
    references = tuple(_text(element, "references").split())
    infos = _children(element, "info")
    if not infos:
        raise Refused("missing_field", "no info block")
    info = infos[0]  # BMKG sends one language per file; the first info block is the alert
    event = " ".join(_text(info, "event").split())
    if not event:
        raise Refused("missing_field", "info has no event")
    severity = _choice(_text(info, "severity"), SEVERITIES, "severity")
    urgency = _choice(_text(info, "urgency"), URGENCIES, "urgency")
    certainty = _choice(_text(info, "certainty"), CERTAINTIES, "certainty")
    effective_text = _text(info, "effective") or _text(info, "onset")
    effective = parse_time(effective_text) if effective_text else sent
    expires_text = _text(info, "expires")
    # PetaBencana omits <expires>: its documented default is 6 h, which `default_expiry` says
    expires = parse_time(expires_text) if expires_text else sent + default_expiry
    area_elements = _children(info, "area")
    if len(area_elements) > MAX_AREAS:
        raise Refused("too_large", f"{len(area_elements)} areas")
    areas = tuple(_area(a) for a in area_elements)
    key = f"{sender},{identifier},{sent_text}"
    if msg_type != "Cancel" and expires <= now:
        raise Refused("expired", f"expired {timedelta(seconds=now - expires)} ago")
    return Alert(key, msg_type, sent, expires, effective, event, severity, urgency, certainty,
                 areas, references, _text(info, "language"))


def read_document(root: Element, *, default_expiry: float, now: float) -> Document:
    """A CAP alert, an Atom feed of inline CAP alerts, or an RSS/Atom index of CAP links."""
    document = Document()
    local = _local(root.tag)
    if root.tag == f"{{{CAP_NS}}}alert":
        try:
            document.alerts.append(parse_alert(root, default_expiry=default_expiry, now=now))
        except Refused as exc:  # a well-formed CAP file whose alert is not taken (expired)
            document.refused.append(exc.reason)
        return document
    if local == "rss":
        channel = _child(root, "channel")
        items = _children(channel, "item") if channel is not None else []
        for item in items[:MAX_INDEX_LINKS]:
            link = _text(item, "link")
            if link:
                document.links.append(link)
        return document
    if root.tag == f"{{{ATOM_NS}}}feed":
        for entry in _children(root, "entry")[:MAX_INDEX_LINKS]:
            content = _child(entry, "content")
            inline = [c for c in (content if content is not None else [])
                      if c.tag == f"{{{CAP_NS}}}alert"]
            if inline:
                try:
                    document.alerts.append(parse_alert(inline[0], default_expiry=default_expiry,
                                                       now=now))
                except Refused as exc:
                    document.refused.append(exc.reason)
                continue
            for element in _children(entry, "link"):
                href = element.get("href", "")
                if href and element.get("rel", "alternate") in ("alternate", "related"):
                    document.links.append(href)
                    break
        return document
    raise Refused("not_cap", f"root element {local[:30]!r} is neither CAP, RSS nor Atom")
