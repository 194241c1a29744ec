"""H.264 / H.265 access units out of RTP packets (RFC 6184, RFC 7798), cheaply.

A camera sends ~400 RTP packets a second and the analysis needs one picture of them, so
the per-packet work is kept to slicing: a packet's NAL units (or fragments of one) are
collected as bytes until the access unit ends (RTP marker bit, or a new timestamp), and
only then does the caller decide whether the unit is worth joining into an Annex-B
picture (a keyframe, or any frame while every frame is decoded). Parameter sets seen in
the stream or in the SDP are remembered and put in front of every keyframe, so each
keyframe decodes on its own.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

START_CODE = b"\x00\x00\x00\x01"
MAX_UNIT = 8 * 1024 * 1024  # bytes of one access unit; a camera that never ends one is cut
NAL_COST = 64  # bytes a NAL unit costs us beyond its payload (the Python object)


@dataclass(frozen=True)
class Codec:
    name: str  # FFmpeg's decoder name
    header_size: int  # bytes of NAL unit header
    aggregate: int  # NAL type of an aggregation packet (STAP-A / AP)
    fragment: int  # NAL type of a fragmentation unit (FU-A / FU)
    keyframe_types: frozenset[int]
    parameter_types: tuple[int, ...]  # in the order a decoder wants them

    def nal_type(self, first_byte: int) -> int:
        return first_byte & 0x1F if self.header_size == 1 else (first_byte >> 1) & 0x3F


H264 = Codec("h264", 1, 24, 28, frozenset({5}), (7, 8))
H265 = Codec("hevc", 2, 48, 49, frozenset(range(16, 24)), (32, 33, 34))
CODECS = {"H264": H264, "H265": H265, "HEVC": H265}


def parameter_sets_from_fmtp(codec: Codec, fmtp: dict[str, str]) -> list[bytes]:
    """The SPS/PPS (and VPS) an SDP carries, decoded; malformed ones are skipped."""
    keys = (("sprop-parameter-sets",) if codec is H264
            else ("sprop-vps", "sprop-sps", "sprop-pps"))
    found = []
    for key in keys:
        for item in fmtp.get(key, "").split(","):
            try:
                nal = base64.b64decode(item.strip(), validate=True)
            except ValueError:
                continue
            if len(nal) > codec.header_size:
                found.append(nal)
    return found


AccessUnit = Callable[[bool, int, "Depacketizer"], None]
"""Called once per complete access unit: (keyframe, RTP timestamp, depacketizer)."""


class Depacketizer:
    """Feeds RTP payloads in, calls `on_unit` for each complete access unit.

    Inside `on_unit` the caller may call `annexb()` to get the unit as one Annex-B
    picture; a unit nobody asks for is dropped without being joined.
    """

    def __init__(self, codec: Codec, on_unit: AccessUnit,
                 parameter_sets: list[bytes] | None = None) -> None:
        self.codec = codec
        self._on_unit = on_unit
        self._nals: list[bytes] = []
        self._size = 0  # bytes held for the current unit, fragments included
        self._key = False
        self._params = False  # the unit carries its own parameter sets
        self._timestamp: int | None = None
        self._fragment: list[bytes] | None = None
        self.parameter_sets: dict[int, bytes] = {}
        for nal in parameter_sets or []:
            self._remember(nal)
        self.dropped = 0  # fragments lost (a gap in a fragmented NAL unit)

    def _remember(self, nal: bytes) -> None:
        kind = self.codec.nal_type(nal[0])
        if kind in self.codec.parameter_types:
            self.parameter_sets[kind] = nal

    def push(self, payload: bytes, timestamp: int, marker: bool) -> None:
        """One RTP packet's payload (header and padding already removed)."""
        if self._timestamp is not None and timestamp != self._timestamp and self._nals:
            self._finish()  # the marker of the previous unit was lost
        self._timestamp = timestamp
        if len(payload) <= self.codec.header_size:
            if marker:
                self._finish()
            return
        self._size += len(payload) + NAL_COST
        if self._size > MAX_UNIT:  # no marker, no new timestamp: not a camera we can read
            self.dropped += 1
            self._nals, self._fragment, self._size = [], None, 0
            self._key = self._params = False
            return
        codec = self.codec
        kind = codec.nal_type(payload[0])
        if kind == codec.fragment:
            self._push_fragment(payload)
        elif kind == codec.aggregate:
            i, end = codec.header_size, len(payload)
            while i + 2 <= end:
                size = (payload[i] << 8) | payload[i + 1]
                i += 2
                if size == 0 or i + size > end:
                    break
                self._add(payload[i:i + size])
                i += size
        else:
            self._add(payload)
        if marker:
            self._finish()

    def _push_fragment(self, payload: bytes) -> None:
        h = self.codec.header_size
        if len(payload) <= h + 1:
            return
        fu = payload[h]
        if fu & 0x80:  # start: rebuild the fragmented unit's own header
            kind = fu & (0x1F if h == 1 else 0x3F)
            if h == 1:
                header = bytes(((payload[0] & 0xE0) | kind,))
            else:
                header = bytes(((payload[0] & 0x81) | (kind << 1), payload[1]))
            self._fragment = [header, payload[h + 1:]]
        elif self._fragment is not None:
            self._fragment.append(payload[h + 1:])
        else:
            self.dropped += 1
            return
        if fu & 0x40:  # end
            self._add(b"".join(self._fragment))
            self._fragment = None

    def _add(self, nal: bytes) -> None:
        self._size += NAL_COST  # aggregation packets can carry hundreds of tiny units
        kind = self.codec.nal_type(nal[0])
        if kind in self.codec.keyframe_types:
            self._key = True
        elif kind in self.codec.parameter_types:
            self._params = True
            self._remember(nal)
        self._nals.append(nal)

    def _finish(self) -> None:
        if self._fragment is not None:  # the unit ended inside a fragment: lost packets
            self.dropped += 1
            self._fragment = None
        if self._nals and self._timestamp is not None:
            self._on_unit(self._key, self._timestamp, self)
        self._nals, self._key, self._params, self._size = [], False, False, 0

    def annexb(self) -> bytes:
        """The current access unit as one Annex-B picture (parameter sets first on a
        keyframe that came without them)."""
        nals = self._nals
        if self._key and not self._params:
            nals = [self.parameter_sets[t] for t in self.codec.parameter_types
                    if t in self.parameter_sets] + nals
        parts = []
        for nal in nals:
            parts.append(START_CODE)
            parts.append(nal)
        return b"".join(parts)
