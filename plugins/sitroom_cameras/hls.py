"""HLS playlists (RFC 8216), parsed just far enough to follow a live camera.

A camera's HLS output is a media playlist that slides (live) or grows (event): a target
duration, a media sequence number, and segment URIs with their durations. A master playlist
lists variants instead; the camera reader takes the smallest variant that is still wide
enough for the analysis. Anything else in the playlist (keys, discontinuities, byte ranges,
program dates) is ignored or refused explicitly: encrypted segments cannot be analysed, and
byte-range segments are rare on cameras. Sizes are bounded by the caller (bytes) and here
(segments), so a hostile playlist costs little.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_SEGMENTS = 2000  # an event playlist of 2 s segments covers over an hour
_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^",]*)')


class PlaylistError(Exception):
    """Not a playlist we can follow; `reason` is countable."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Segment:
    uri: str
    duration: float
    sequence: int


@dataclass(frozen=True)
class Variant:
    uri: str
    bandwidth: int
    width: int | None


@dataclass
class Playlist:
    target_duration: float = 0.0
    media_sequence: int = 0
    segments: list[Segment] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    ended: bool = False  # EXT-X-ENDLIST: no segment will be added
    kind: str = "live"  # live | event | vod
    init_uri: str | None = None  # EXT-X-MAP (fragmented MP4)

    @property
    def last_sequence(self) -> int | None:
        return self.segments[-1].sequence if self.segments else None


def attributes(text: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _ATTRIBUTE.findall(text)}


def _number(text: str, what: str) -> float:
    try:
        return float(text.split(",", 1)[0])
    except ValueError:
        raise PlaylistError("playlist", f"{what} {text[:20]!r} is not a number") from None


def parse_playlist(text: str) -> Playlist:
    """A media or master playlist; raises PlaylistError with a reason."""
    lines = [line.strip() for line in text.splitlines()]
    if not lines or lines[0] != "#EXTM3U":
        raise PlaylistError("playlist", "not an HLS playlist (no #EXTM3U)")
    playlist = Playlist()
    duration: float | None = None
    pending_variant: dict[str, str] | None = None
    for line in lines[1:]:
        if not line:
            continue
        if line.startswith("#EXT-X-TARGETDURATION:"):
            playlist.target_duration = _number(line.split(":", 1)[1], "target duration")
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            playlist.media_sequence = int(_number(line.split(":", 1)[1], "media sequence"))
        elif line.startswith("#EXTINF:"):
            duration = _number(line.split(":", 1)[1], "segment duration")
        elif line == "#EXT-X-ENDLIST":
            playlist.ended = True
        elif line.startswith("#EXT-X-PLAYLIST-TYPE:"):
            playlist.kind = line.split(":", 1)[1].strip().lower()
        elif line.startswith("#EXT-X-KEY:"):
            if attributes(line.split(":", 1)[1]).get("METHOD", "NONE") != "NONE":
                raise PlaylistError("encrypted", "encrypted segments cannot be analysed")
        elif line.startswith("#EXT-X-BYTERANGE"):
            raise PlaylistError("playlist", "byte-range segments are not supported")
        elif line.startswith("#EXT-X-MAP:"):
            playlist.init_uri = attributes(line.split(":", 1)[1]).get("URI")
        elif line.startswith("#EXT-X-STREAM-INF:"):
            pending_variant = attributes(line.split(":", 1)[1])
        elif line.startswith("#"):
            continue
        elif pending_variant is not None:
            resolution = pending_variant.get("RESOLUTION", "")
            width = int(resolution.split("x")[0]) if re.match(r"^\d+x\d+$", resolution) else None
            bandwidth = int(pending_variant.get("BANDWIDTH", "0") or 0)
            playlist.variants.append(Variant(line, bandwidth, width))
            pending_variant = None
        else:
            if duration is None:
                raise PlaylistError("playlist", "segment without #EXTINF")
            sequence = playlist.media_sequence + len(playlist.segments)
            playlist.segments.append(Segment(line, duration, sequence))
            duration = None
            if len(playlist.segments) > MAX_SEGMENTS:
                raise PlaylistError("too_large", f"more than {MAX_SEGMENTS} segments")
    if playlist.variants:
        return playlist
    if playlist.target_duration <= 0:
        raise PlaylistError("playlist", "media playlist without #EXT-X-TARGETDURATION")
    return playlist


def choose_variant(variants: list[Variant], min_width: int) -> Variant:
    """The cheapest variant at least `min_width` wide (else the widest known one)."""
    wide = [v for v in variants if v.width is None or v.width >= min_width]
    if wide:
        return min(wide, key=lambda v: (v.bandwidth, v.width or 0))
    return max(variants, key=lambda v: (v.width or 0, v.bandwidth))
