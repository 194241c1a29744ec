"""Tamper on real footage: cuts, PTZ moves, a passing vehicle and a light flash raise no event;
a lens covered, sprayed, blinded or defocused, or a camera turned away and left there, does.

Every picture is the shipped real footage (vtest.mp4): montages are cut, cropped and
re-encoded from it at test time (bench/tamper_eval.py builds them), and the tamper cases are
that footage painted over, blurred, re-lit or cropped the way an attack changes a camera's
view. Time is the footage's own, so nothing waits.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from bench.tamper_eval import (
    CUTS_AND_MOVES,
    FPS,
    HELD_OUT,
    WITH_FOREIGN_VIEWS,
    grey_frames,
    run_camera,
    write_montage,
)
from sitroom.config import format_validation_error
from tests.cameras.test_analysis import Pipeline, config, footage


@pytest.fixture(scope="module")
def montages(tmp_path_factory: pytest.TempPathFactory, vtest: Path
             ) -> dict[str, list[tuple[float, np.ndarray]]]:
    """The two montages, H.264-encoded and decoded again, as (seconds, grey) frames."""
    folder = tmp_path_factory.mktemp("montage")
    return {name: list(grey_frames(write_montage(folder / f"{name}.mp4", shots, vtest)))
            for name, shots in (("cuts", CUTS_AND_MOVES), ("foreign", WITH_FOREIGN_VIEWS))}


@pytest.mark.parametrize("interval", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("phase", [0.0, 0.35, 0.7])
def test_cuts_and_camera_moves_raise_no_tamper_event(montages, interval: float,  # type: ignore[no-untyped-def]
                                                     phase: float) -> None:
    """Hard cuts within the scene, 2x zooms, pans and zoom-outs, at any sampling."""
    frames = montages["cuts"]
    outcome = run_camera(lambda: iter(frames), interval, round(phase * interval, 2))
    assert outcome.analyses >= 40
    assert outcome.events == []
    assert outcome.share <= 0.02, outcome


@pytest.mark.parametrize("interval", [0.5, 1.0, 2.0])
def test_held_out_street_footage_with_cuts_and_vans_raises_no_tamper_event(
        interval: float) -> None:
    """Real Brussels street footage from another source (five hard cuts, vans filling half
    the view), played three times: never used to tune the detector."""
    frames = list(grey_frames(HELD_OUT, plays=3))
    for phase in (0.0, 0.5):
        outcome = run_camera(lambda: iter(frames), interval, phase * interval)
        assert outcome.events == [], outcome


def test_a_cut_to_a_view_of_another_place_is_moved_once_each(montages) -> None:  # type: ignore[no-untyped-def]
    """The mirrored street and the grass close up are views this camera cannot reach by a
    pan or zoom: each fires tamper_moved once, while it lasts; the rest nothing."""
    frames = montages["foreign"]
    starts, t = {}, 0.0
    for shot in WITH_FOREIGN_VIEWS:
        starts.setdefault(shot, t)
        t += shot.frames / FPS
    foreign = [(starts[s], starts[s] + s.frames / FPS) for s in WITH_FOREIGN_VIEWS
               if s.mirror or s.start == 90]
    for interval in (0.5, 1.0, 2.0):
        outcome = run_camera(lambda: iter(frames), interval)
        assert [rule for _, rule in outcome.events] == ["tamper_moved", "tamper_moved"]
        for (when, _), (start, end) in zip(outcome.events, foreign, strict=True):
            assert start < when <= end, (outcome.events, foreign)


# -- attacks and look-alikes on the vtest camera, one analysis per second ------------------

def feed_painted(vtest: Path, paint, normal: int = 8, painted: int = 6,  # type: ignore[no-untyped-def]
                 **analysis: object) -> Pipeline:
    """`normal` seconds of footage, then `painted` seconds with paint(grey, second)."""
    frames = footage(vtest, limit=normal + painted)
    pipe = Pipeline(config(people=False, **analysis))
    for i, grey in enumerate(frames):
        pipe.feed(paint(grey, i - normal) if i >= normal else grey)
    return pipe


def tamper_events(pipe: Pipeline) -> list[str]:
    return [rule for _, rule in pipe.events if rule.startswith("tamper_")]


def sprayed(grey: np.ndarray, _i: int) -> np.ndarray:
    """Paint mist over the lens: a milky, blurred picture of the same scene, which stays."""
    haze = cv2.GaussianBlur(grey, (0, 0), 4)
    return cv2.addWeighted(haze, 0.45, np.full_like(grey, 190), 0.55, 0)


def test_a_sprayed_lens_is_defocused(vtest: Path) -> None:
    pipe = feed_painted(vtest, sprayed)
    assert tamper_events(pipe) == ["tamper_defocused"], [r.tamper for r in pipe.reports]


def test_a_camera_turned_away_and_left_there_fires_once_then_is_the_new_normal(
        vtest: Path) -> None:
    """The camera watched the upper left of the scene; someone turns it to the lower right
    (content it never saw) and leaves it. One event; people are still counted meanwhile;
    after `reference_seconds` the new view is the normal and the event ends."""
    frames = footage(vtest, limit=60)
    pipe = Pipeline(config(reference_seconds=30))
    for grey in frames[:10]:
        pipe.feed(np.ascontiguousarray(grey[:288, :384]))
    for grey in frames[10:]:
        pipe.feed(np.ascontiguousarray(grey[288:, 384:]))
    assert tamper_events(pipe) == ["tamper_moved"], [r.tamper for r in pipe.reports]
    moved = [r for r in pipe.reports if r.tamper == "moved"]
    assert len(moved) >= 20
    assert sum(len(r.people) for r in moved) > 0  # detection never switched off
    assert not pipe.rules.active()[("", "tamper_moved")]  # the new normal, 30 s on


def van_passing(grey: np.ndarray, i: int) -> np.ndarray:
    """A large vehicle close to the camera drives across for three seconds: the parked van
    of the same footage, enlarged to cover over half the picture, sliding left to right."""
    if i >= 3:
        return grey
    van = cv2.resize(grey[40:110, 645:735], (500, 390), interpolation=cv2.INTER_CUBIC)
    out = grey.copy()
    x = -200 + 300 * i
    left, right = max(0, x), min(grey.shape[1], x + van.shape[1])
    out[120:510, left:right] = van[:, left - x:right - x]
    return out


def van_stopping(grey: np.ndarray, i: int) -> np.ndarray:
    """The same vehicle drives in and stops in front of the camera, hiding 60% of the view."""
    van = cv2.resize(grey[40:110, 645:735], (600, 450), interpolation=cv2.INTER_CUBIC)
    out = grey.copy()
    x = max(0, min(100, -300 + 200 * i))
    out[100:550, x:x + 600] = van[:, :min(600, grey.shape[1] - x)]
    return out


def headlights(grey: np.ndarray, i: int) -> np.ndarray:
    """At night (the footage darkened), headlights blow the picture out for two seconds."""
    night = (grey * 0.25).astype(np.uint8)
    if i in (2, 3):
        return cv2.convertScaleAbs(night, alpha=6.0, beta=120)  # over-exposed, nearly white
    return night


def test_a_vehicle_filling_the_view_briefly_is_not_tamper(vtest: Path) -> None:
    pipe = feed_painted(vtest, van_passing)
    assert tamper_events(pipe) == [], [r.tamper for r in pipe.reports]


def test_a_vehicle_stopping_in_front_is_not_tamper(vtest: Path) -> None:
    pipe = feed_painted(vtest, van_stopping, painted=10)
    assert tamper_events(pipe) == [], [r.tamper for r in pipe.reports]


def test_headlights_at_night_are_not_tamper(vtest: Path) -> None:
    frames = footage(vtest, limit=20)
    pipe = Pipeline(config(people=False))
    for i, grey in enumerate(frames):
        pipe.feed(headlights(grey, i - 10))  # night from the start, lights at 12-13 s
    assert pipe.reports[12].brightness > 0.8  # the flash was there
    assert tamper_events(pipe) == [], [r.tamper for r in pipe.reports]


def test_a_dark_street_at_night_is_not_covered(vtest: Path) -> None:
    """The footage darkened to a moonless night (as flat as a lens cap: deviation ~3 grey
    levels) from the start is the scene itself; a cap on that lens is still covered."""
    frames = footage(vtest, limit=16)
    pipe = Pipeline(config(people=False))
    for grey in frames[:10]:
        pipe.feed(cv2.convertScaleAbs(grey, alpha=0.06, beta=4))
    assert float(np.std(cv2.convertScaleAbs(frames[0], alpha=0.06, beta=4))) < 6
    assert tamper_events(pipe) == [], [r.tamper for r in pipe.reports]
    for _ in frames[10:]:
        pipe.feed(np.zeros_like(frames[0]))
    assert tamper_events(pipe) == ["tamper_covered"], [r.tamper for r in pipe.reports]


def test_a_torch_held_into_the_lens_is_blinded(vtest: Path) -> None:
    pipe = feed_painted(vtest, lambda g, _i: cv2.convertScaleAbs(g, alpha=6.0, beta=200))
    assert tamper_events(pipe) == ["tamper_blinded"], [r.tamper for r in pipe.reports]


# -- per-camera configuration --------------------------------------------------------------

def test_tamper_can_be_disabled_per_camera(vtest: Path) -> None:
    pipe = feed_painted(vtest, lambda g, _i: np.zeros_like(g), tamper={"enabled": False})
    assert tamper_events(pipe) == []
    assert all(r.tamper is None for r in pipe.reports)


def test_tamper_kinds_can_be_chosen(vtest: Path) -> None:
    flipped = feed_painted(vtest, lambda g, _i: np.ascontiguousarray(g[::-1, ::-1]),
                           tamper={"kinds": ["covered", "blinded"]})
    assert tamper_events(flipped) == []
    covered = feed_painted(vtest, lambda g, _i: np.zeros_like(g),
                           tamper={"kinds": ["covered", "blinded"]})
    assert tamper_events(covered) == ["tamper_covered"]


@pytest.mark.parametrize(("tamper", "message"), [
    ({"flat_std": 0}, "greater than 0"),
    ({"sharpness_lost": 1.5}, "less than 1"),
    ({"view_change": 0}, "greater than 0"),
    ({"settled_motion": 2}, "less than or equal to 1"),
    ({"kinds": []}, "at least 1"),
    ({"kinds": ["covered", "covered"]}, "must not repeat"),
    ({"kinds": ["smashed"]}, "'covered', 'blinded', 'defocused' or 'moved'"),
    ({"sensitivity": "high"}, "Extra inputs"),
])
def test_bad_tamper_config_is_refused_with_a_clear_message(tamper: dict, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        config(tamper=tamper)
    text = "\n".join(format_validation_error(info.value))
    assert message in text and "tamper" in text, text
