"""Every metric family a camera source emits, declared once (docs, dashboards and limits use it).

Value series carry only `camera` (and `zone`/`rule` from config); descriptive facts live on
`sitroom_camera_info`, so a map panel joins with `* on(source, camera) group_left(...)`.
"""

from __future__ import annotations

from sitroom.api import MetricSpec

C = ("camera",)
CZ = ("camera", "zone")
CZR = ("camera", "zone", "rule")

INFO = "sitroom_camera_info"
UP = "sitroom_camera_up"
LAST_FRAME = "sitroom_camera_last_frame_timestamp_seconds"
FRAME_AGE = "sitroom_camera_frame_age_seconds"
FPS = "sitroom_camera_stream_frames_per_second"
WIDTH = "sitroom_camera_width_pixels"
HEIGHT = "sitroom_camera_height_pixels"
GOP = "sitroom_camera_gop_frames"
RECONNECTS = "sitroom_camera_reconnects_total"
DECODE_ERRORS = "sitroom_camera_decode_errors_total"
FRAMES_LOST = "sitroom_camera_frames_lost_total"
FRAMES_RECEIVED = "sitroom_camera_frames_received_total"
FRAMES_DECODED = "sitroom_camera_frames_decoded_total"
FRAMES_ANALYSED = "sitroom_camera_frames_analysed_total"
CPU = "sitroom_camera_cpu_seconds_total"
MOTION = "sitroom_camera_motion_ratio"
ZONE_MOTION = "sitroom_camera_zone_motion_ratio"
BRIGHTNESS = "sitroom_camera_brightness_ratio"
NIGHT = "sitroom_camera_night"
SHARPNESS = "sitroom_camera_sharpness"
SCENE_CHANGE = "sitroom_camera_scene_change_ratio"
PEOPLE = "sitroom_camera_people"
ZONE_PEOPLE = "sitroom_camera_zone_people"
ZONE_PRESENCE = "sitroom_camera_zone_presence"
ZONE_DWELL = "sitroom_camera_zone_presence_duration_seconds"
OCCUPANCY = "sitroom_camera_lane_occupancy_ratio"
CONGESTION = "sitroom_camera_congestion_level"
UNCHANGED = "sitroom_camera_unchanged_duration_seconds"
EVENTS = "sitroom_camera_events_total"
EVENT_ACTIVE = "sitroom_camera_event_active"

METRICS = (
    MetricSpec(
        INFO,
        "info",
        "Descriptive facts about a camera for map panels (value 1).",
        ("camera", "transport", "district", "latitude", "longitude", "owner_type", "location"),
    ),
    MetricSpec(UP, "gauge", "1 while frames arrive within one analysis interval.", C),
    MetricSpec(
        LAST_FRAME, "gauge", "Wall-clock time of the last frame received.", C, unit="seconds"
    ),
    MetricSpec(FRAME_AGE, "gauge", "Seconds since the last frame arrived.", C, unit="seconds"),
    MetricSpec(FPS, "gauge", "Frames per second the camera sends (measured).", C),
    MetricSpec(WIDTH, "gauge", "Width of the camera's picture.", C, unit="pixels"),
    MetricSpec(HEIGHT, "gauge", "Height of the camera's picture.", C, unit="pixels"),
    MetricSpec(GOP, "gauge", "Frames from one keyframe to the next (1 for JPEG).", C),
    MetricSpec(RECONNECTS, "counter", "Times the camera connection was re-established.", C),
    MetricSpec(DECODE_ERRORS, "counter", "Frames or packets that failed to decode.", C),
    MetricSpec(FRAMES_LOST, "counter", "Frames lost before decoding: RTP fragments missing, "
               "an access unit that never ended, a long-GOP queue that overflowed.", C),
    MetricSpec(FRAMES_RECEIVED, "counter", "Frames (packets or JPEGs) received.", C),
    MetricSpec(FRAMES_DECODED, "counter", "Frames decoded (keyframes only if the GOP allows).",
               C),
    MetricSpec(FRAMES_ANALYSED, "counter", "Frames analysed.", C),
    MetricSpec(
        CPU, "counter", "Thread CPU time spent decoding and analysing this camera.", C,
        unit="seconds",
    ),
    MetricSpec(MOTION, "gauge", "Share of the picture that changed since the last analysis.", C,
               unit="ratio"),
    MetricSpec(ZONE_MOTION, "gauge", "Share of a zone that changed since the last analysis.", CZ,
               unit="ratio"),
    MetricSpec(BRIGHTNESS, "gauge", "Mean brightness of the picture, 0 black to 1 white.", C,
               unit="ratio"),
    MetricSpec(NIGHT, "gauge", "1 when the picture is dark enough to count as night.", C),
    MetricSpec(SHARPNESS, "gauge", "Variance of the Laplacian of the analysed frame (focus).", C),
    MetricSpec(SCENE_CHANGE, "gauge", "Share of edges that differ from the reference scene.", C,
               unit="ratio"),
    MetricSpec(UNCHANGED, "gauge", "How long the picture has been identical (frozen if long).",
               C, unit="seconds"),
    MetricSpec(PEOPLE, "gauge", "People detected in the last analysed frame.", C),
    MetricSpec(ZONE_PEOPLE, "gauge", "People whose feet are inside a zone.", CZ),
    MetricSpec(ZONE_PRESENCE, "gauge", "1 while someone (or something moving) is in a zone.", CZ),
    MetricSpec(ZONE_DWELL, "gauge", "How long presence in a zone has lasted.", CZ,
               unit="seconds"),
    MetricSpec(OCCUPANCY, "gauge", "Share of a lane covered by vehicles (foreground).", CZ,
               unit="ratio"),
    MetricSpec(CONGESTION, "gauge", "Lane congestion level 0 (free) to 3 (jammed).", CZ),
    MetricSpec(EVENTS, "counter", "Events raised, by zone ('' for the whole picture) and rule.",
               CZR),
    MetricSpec(EVENT_ACTIVE, "gauge", "1 while an event condition holds.", CZR),
)
