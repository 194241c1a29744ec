"""Boxes in image pixels (x, y, width, height), shared by the detectors and the tracker."""

from __future__ import annotations

Box = tuple[int, int, int, int]  # x, y, w, h


def merge_boxes(boxes: list[Box]) -> list[Box]:
    """Merge overlapping boxes (x, y, w, h) until none overlap: a crowd is one region."""
    rects = [[x, y, x + w, y + h] for x, y, w, h in boxes]
    merged = True
    while merged and len(rects) > 1:
        merged = False
        for i in range(len(rects)):
            for j in range(i + 1, len(rects)):
                a, b = rects[i], rects[j]
                if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                    rects[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del rects[j]
                    merged = True
                    break
            if merged:
                break
    return [(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in rects]
