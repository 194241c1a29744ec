"""Camera events pushed from the analysed frame that decided them, with a snapshot link.

`rules.py` decides when a (zone, rule) condition becomes active; this module is where those
decisions leave the plugin: each rule name maps to an EventSpec (the alertname and wording of
alerts/cameras.rules.yml) and `push()` fires the ones that started and resolves the ones that
ended. A new rule adds its spec to RULE_EVENTS and nothing else here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sitroom.api import EventSpec, SnapshotFactory, SourceEvents, Text

_INFO = ("location", "district")

SUSPICIOUS = EventSpec(
    "CameraSuspiciousActivity", "critical", "security",
    summary=Text("activity in {zone} on camera {camera} out of hours",
                 "aktivitas di {zone} pada kamera {camera} di luar jam"),
    description=Text(
        "Someone is present in zone {zone} of camera {camera} while it is closed. Check the "
        "live picture and dispatch a patrol if it is not authorised.",
        "Ada orang di zona {zone} kamera {camera} saat zona itu tertutup. Periksa gambar "
        "langsung dan kirim patroli bila tidak berizin."),
    labels=("camera", "zone", "rule"), info_labels=_INFO)

LOITERING = EventSpec(
    "CameraLoitering", "warning", "security",
    summary=Text("loitering in {zone} on camera {camera}",
                 "berlama-lama di {zone} pada kamera {camera}"),
    description=Text(
        "Someone has stayed in zone {zone} of camera {camera} longer than the zone allows. "
        "Watch the live picture; most cases are harmless.",
        "Ada orang berada di zona {zone} kamera {camera} lebih lama dari batas zona. Pantau "
        "gambar langsung; sebagian besar tidak berbahaya."),
    labels=("camera", "zone", "rule"), info_labels=_INFO)

LINE_CROSSING = EventSpec(
    "CameraLineCrossing", "critical", "security",
    summary=Text("line {zone} crossed on camera {camera}",
                 "garis {zone} dilintasi pada kamera {camera}"),
    description=Text(
        "A person or vehicle crossed line {zone} of camera {camera} in the direction and "
        "hours its event watches (e.g. into an area closed at night). Look at the crossing's "
        "picture and the live picture, and dispatch a patrol if it is not authorised.",
        "Orang atau kendaraan melintasi garis {zone} kamera {camera} ke arah dan pada jam yang "
        "diawasi (misalnya masuk ke area yang tertutup malam hari). Lihat gambar saat melintas "
        "dan gambar langsung, lalu kirim patroli bila tidak berizin."),
    labels=("camera", "zone", "rule"), info_labels=_INFO)
"""One incident per burst of crossings: active from the first crossing until the line's
`event.resolve_after` passes without another (rules.py); later crossings in the burst keep it
active without a new page, and its snapshot is the first crosser's best frame, box drawn."""

TAMPER = EventSpec(
    "CameraTamper", "critical", "security",
    summary=Text("camera {camera} tampered with ({rule})", "kamera {camera} diganggu ({rule})"),
    description=Text(
        "The picture of camera {camera} no longer matches its reference scene ({rule}: "
        "covered, blinded, defocused or turned away). Cameras are often disabled just before "
        "a crime: look at the neighbouring cameras now.",
        "Gambar kamera {camera} tidak lagi sesuai adegan acuannya ({rule}: ditutup, "
        "disilaukan, dibuat buram atau diputar). Kamera sering dimatikan sesaat sebelum "
        "kejahatan: periksa kamera di sekitarnya sekarang."),
    labels=("camera", "rule"), info_labels=_INFO)

FROZEN = EventSpec(
    "CameraFrozen", "warning", "security",
    summary=Text("camera {camera} shows a frozen picture",
                 "gambar kamera {camera} membeku"),
    description=Text(
        "Camera {camera} still sends frames but the picture has not changed: the encoder hung "
        "or someone replays a still image. What the wall shows is not live.",
        "Kamera {camera} masih mengirim frame tetapi gambarnya tidak berubah: encoder macet "
        "atau ada yang memutar gambar diam. Tampilan di layar tidak langsung."),
    labels=("camera",), info_labels=_INFO)

CAMERA_DOWN = EventSpec(
    "CameraDown", "warning", "security",
    summary=Text("camera {source} sends no pictures", "kamera {source} tidak mengirim gambar"),
    description=Text(
        "No frame from camera {source} for 2 minutes: the spot it watches is unobserved and "
        "none of its zone rules can fire. Power, network or the camera's credentials are the "
        "usual causes.",
        "Tidak ada gambar dari kamera {source} selama 2 menit: lokasinya tidak terpantau dan "
        "aturan zonanya tidak bisa memicu. Biasanya listrik, jaringan atau kredensial kamera."),
    hold=120.0)
"""Raised by the core from the source's health (the kind's down_event), not by the plugin."""

RULE_EVENTS: dict[str, EventSpec] = {
    "suspicious_activity": SUSPICIOUS,
    "loitering": LOITERING,
    "line_crossing": LINE_CROSSING,
    "tamper_covered": TAMPER,
    "tamper_blinded": TAMPER,
    "tamper_defocused": TAMPER,
    "tamper_moved": TAMPER,
    "frozen": FROZEN,
}
EVENTS = (SUSPICIOUS, LOITERING, LINE_CROSSING, TAMPER, FROZEN)


def push(events: SourceEvents, camera: str, info: Mapping[str, str],
         started: Iterable[tuple[str, str]], active: Mapping[tuple[str, str], bool],
         snapshot: SnapshotFactory | None) -> None:
    """Fire the (zone, rule) events that started on this frame (with its picture), resolve
    those no longer active. Rules without an event spec stay metrics only."""
    for zone, rule in started:
        spec = RULE_EVENTS.get(rule)
        if spec is not None:
            labels = {"camera": camera, "zone": zone, "rule": rule}
            events.fire(spec, snapshot=snapshot, **info,
                        **{k: v for k, v in labels.items() if k in spec.labels})
    for (zone, rule), is_active in active.items():
        spec = RULE_EVENTS.get(rule)
        if spec is None or is_active:
            continue
        labels = {k: v for k, v in {"camera": camera, "zone": zone, "rule": rule}.items()
                  if k in spec.labels}
        if events.is_active(spec, **labels):
            events.resolve(spec, **labels)
