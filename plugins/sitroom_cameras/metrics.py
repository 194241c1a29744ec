"""Every metric family a camera source emits, declared once (docs, dashboards and limits use it).

Value series carry only `camera` (and `zone`/`rule` from config); descriptive facts live on
`sitroom_camera_info`, so a map panel joins with `* on(source, camera) group_left(...)`.
"""

from __future__ import annotations

from sitroom.api import MetricSpec

C = ("camera",)
CZ = ("camera", "zone")
CZR = ("camera", "zone", "rule")
CZK = ("camera", "zone", "class")
CLKD = ("camera", "line", "class", "direction")


INFO = MetricSpec(
    "sitroom_camera_info",
    "info",
    "Descriptive facts about a camera for map panels (value 1).",
    ("camera", "transport", "district", "latitude", "longitude", "owner_type", "location"),
)
UP = MetricSpec(
    "sitroom_camera_up", "gauge", "1 while frames arrive within one analysis interval.", C
)
LAST_FRAME = MetricSpec(
    "sitroom_camera_last_frame_timestamp_seconds",
    "gauge",
    "Wall-clock time of the last frame received.",
    C,
    unit="seconds",
)
FRAME_AGE = MetricSpec(
    "sitroom_camera_frame_age_seconds",
    "gauge",
    "Seconds since the last frame arrived.",
    C,
    unit="seconds",
)
FPS = MetricSpec(
    "sitroom_camera_stream_frames_per_second",
    "gauge",
    "Frames per second the camera sends (measured).",
    C,
)
WIDTH = MetricSpec(
    "sitroom_camera_width_pixels", "gauge", "Width of the camera's picture.", C, unit="pixels"
)
HEIGHT = MetricSpec(
    "sitroom_camera_height_pixels", "gauge", "Height of the camera's picture.", C, unit="pixels"
)
GOP = MetricSpec(
    "sitroom_camera_gop_frames", "gauge", "Frames from one keyframe to the next (1 for JPEG).", C
)
RECONNECTS = MetricSpec(
    "sitroom_camera_reconnects_total",
    "counter",
    "Times the camera connection was re-established.",
    C,
)
DECODE_ERRORS = MetricSpec(
    "sitroom_camera_decode_errors_total", "counter", "Frames or packets that failed to decode.", C
)
FRAMES_LOST = MetricSpec(
    "sitroom_camera_frames_lost_total",
    "counter",
    "Frames lost before decoding: RTP fragments missing, "
    "an access unit that never ended, a long-GOP queue that overflowed.",
    C,
)
FRAMES_RECEIVED = MetricSpec(
    "sitroom_camera_frames_received_total", "counter", "Frames (packets or JPEGs) received.", C
)
FRAMES_DECODED = MetricSpec(
    "sitroom_camera_frames_decoded_total",
    "counter",
    "Frames decoded (keyframes only if the GOP allows).",
    C,
)
FRAMES_ANALYSED = MetricSpec(
    "sitroom_camera_frames_analysed_total", "counter", "Frames analysed.", C
)
CPU = MetricSpec(
    "sitroom_camera_cpu_seconds_total",
    "counter",
    "Thread CPU time spent decoding and analysing this camera.",
    C,
    unit="seconds",
)
MOTION = MetricSpec(
    "sitroom_camera_motion_ratio",
    "gauge",
    "Share of the picture that changed since the last analysis.",
    C,
    unit="ratio",
)
ZONE_MOTION = MetricSpec(
    "sitroom_camera_zone_motion_ratio",
    "gauge",
    "Share of a zone that changed since the last analysis.",
    CZ,
    unit="ratio",
)
BRIGHTNESS = MetricSpec(
    "sitroom_camera_brightness_ratio",
    "gauge",
    "Mean brightness of the picture, 0 black to 1 white.",
    C,
    unit="ratio",
)
NIGHT = MetricSpec(
    "sitroom_camera_night", "gauge", "1 when the picture is dark enough to count as night.", C
)
SHARPNESS = MetricSpec(
    "sitroom_camera_sharpness",
    "gauge",
    "Variance of the Laplacian of the analysed frame (focus).",
    C,
)
SCENE_CHANGE = MetricSpec(
    "sitroom_camera_scene_change_ratio",
    "gauge",
    "Share of edges that differ from the reference scene.",
    C,
    unit="ratio",
)
UNCHANGED = MetricSpec(
    "sitroom_camera_unchanged_duration_seconds",
    "gauge",
    "How long the picture has been identical (frozen if long).",
    C,
    unit="seconds",
)
PEOPLE = MetricSpec(
    "sitroom_camera_people", "gauge",
    "People detected in the last analysed frame "
    "(= sitroom_camera_objects{zone=\"\",class=\"person\"}).", C
)
ZONE_PEOPLE = MetricSpec(
    "sitroom_camera_zone_people", "gauge", "People whose feet are inside a zone.", CZ
)
ZONE_PRESENCE = MetricSpec(
    "sitroom_camera_zone_presence",
    "gauge",
    "1 while someone (or something moving) is in a zone.",
    CZ,
)
ZONE_DWELL = MetricSpec(
    "sitroom_camera_zone_presence_duration_seconds",
    "gauge",
    "How long presence in a zone has lasted.",
    CZ,
    unit="seconds",
)
OCCUPANCY = MetricSpec(
    "sitroom_camera_lane_occupancy_ratio",
    "gauge",
    "Share of a lane under detected vehicles, smoothed.",
    CZ,
    unit="ratio",
)
CONGESTION = MetricSpec(
    "sitroom_camera_congestion_level", "gauge", "Lane congestion level 0 (free) to 3 (jammed).", CZ
)
EVENTS = MetricSpec(
    "sitroom_camera_events_total",
    "counter",
    "Events raised, by zone ('' for the whole picture) and rule.",
    CZR,
)
EVENT_ACTIVE = MetricSpec(
    "sitroom_camera_event_active", "gauge", "1 while an event condition holds.", CZR
)
OBJECTS = MetricSpec(
    "sitroom_camera_objects", "gauge",
    "Objects detected now, by class, in a zone ('' for the whole picture; feet inside).", CZK)
LINE_CROSSINGS = MetricSpec(
    "sitroom_camera_line_crossings_total", "counter",
    "Tracked objects that crossed a configured line, by class and direction.", CLKD)
TRACKS = MetricSpec(
    "sitroom_camera_tracked_objects", "gauge", "Objects followed by the tracker now.", C)
DETECTOR_RUNS = MetricSpec(
    "sitroom_camera_detector_runs_total", "counter",
    "Analysed frames the object detector ran on (frames where something moved).", C)
METRICS = (
    INFO,
    UP,
    LAST_FRAME,
    FRAME_AGE,
    FPS,
    WIDTH,
    HEIGHT,
    GOP,
    RECONNECTS,
    DECODE_ERRORS,
    FRAMES_LOST,
    FRAMES_RECEIVED,
    FRAMES_DECODED,
    FRAMES_ANALYSED,
    CPU,
    MOTION,
    ZONE_MOTION,
    BRIGHTNESS,
    NIGHT,
    SHARPNESS,
    SCENE_CHANGE,
    UNCHANGED,
    PEOPLE,
    ZONE_PEOPLE,
    ZONE_PRESENCE,
    ZONE_DWELL,
    OCCUPANCY,
    CONGESTION,
    EVENTS,
    EVENT_ACTIVE,
    OBJECTS,
    LINE_CROSSINGS,
    TRACKS,
    DETECTOR_RUNS,
)

# -- HLS cameras (transport `hls`, feed_hls.py) -----------------------------------------------

HLS_PLAYLIST_AGE = MetricSpec(
    "sitroom_camera_hls_playlist_age_seconds",
    "gauge",
    "Seconds since the HLS playlist last advanced (a new segment appeared).",
    C,
    unit="seconds",
)
HLS_FROZEN = MetricSpec(
    "sitroom_camera_hls_playlist_frozen",
    "gauge",
    "1 while the HLS playlist has not advanced for two target durations.",
    C,
)
HLS_MEDIA_SEQUENCE = MetricSpec(
    "sitroom_camera_hls_media_sequence",
    "gauge",
    "Media sequence number of the newest segment in the HLS playlist.",
    C,
)
HLS_TARGET_DURATION = MetricSpec(
    "sitroom_camera_hls_target_duration_seconds",
    "gauge",
    "The playlist's target segment duration.",
    C,
    unit="seconds",
)
HLS_SEGMENT_FETCH = MetricSpec(
    "sitroom_camera_hls_segment_fetch_duration_seconds",
    "histogram",
    "Time to download one HLS segment.",
    C,
    unit="seconds",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HLS_FETCH_ERRORS = MetricSpec(
    "sitroom_camera_hls_fetch_errors_total",
    "counter",
    "Failed HLS playlist or segment fetches, by what and reason (status, timeout, connect, "
    "too_large, refused, demux, playlist, encrypted).",
    (*C, "what", "reason"),
)
HLS_METRICS = (HLS_PLAYLIST_AGE, HLS_FROZEN, HLS_MEDIA_SEQUENCE, HLS_TARGET_DURATION,
               HLS_SEGMENT_FETCH, HLS_FETCH_ERRORS)
