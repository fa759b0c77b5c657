"""A page's line crops are cut like a data set's line images: as tall as the line, its small marks kept."""

from __future__ import annotations

import cv2
import numpy as np

from model.page import clear_cache, segment

SCRIPT = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX


def test_line_crops_are_as_tall_as_their_lines(scan_pages):
    clear_cache()
    seg = segment(scan_pages[0].image)
    for ln in seg.lines:
        crop = seg.line_crop(ln)
        assert crop.shape[0] == ln.box[3]  # no paper above and below: the recognizer scales it as a line image
        assert ln.box[2] <= crop.shape[1] <= ln.box[2] + 12


def ruled_page() -> tuple[np.ndarray, tuple[int, int]]:
    """Two written lines on ruled paper; a period (a 2 x 2 px dot, a speck to the segmentation) after the first."""
    page = np.full((420, 1300), 240, np.uint8)
    for y in range(70, 420, 110):
        cv2.line(page, (0, y + 38), (1299, y + 38), 170, 2)  # a rule under each line of writing: y 108, 218, ...
    cv2.putText(page, "the garden river window", (60, 100), SCRIPT, 1.6, 20, 3, cv2.LINE_AA)
    cv2.putText(page, "quietly over the lazy dog", (60, 210), SCRIPT, 1.6, 20, 3, cv2.LINE_AA)
    end = int(np.nonzero((page[60:110] < 100).any(axis=0))[0].max())
    dot = (end + 4, 98)
    page[dot[1]: dot[1] + 2, dot[0]: dot[0] + 2] = 20
    return page, dot


def longest_run(mask: np.ndarray) -> int:
    """The longest run of True along any row."""
    best = 0
    for row in mask:
        edges = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
        starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        best = max(best, int((ends - starts).max(initial=0)))
    return best


def test_line_crop_keeps_small_marks_and_drops_rules_and_neighbours():
    page, (dx, dy) = ruled_page()
    clear_cache()
    seg = segment(page)
    assert len(seg.lines) == 2 and abs(seg.page.angle) < 0.2 and not seg.page.perspective  # not rotated
    first = seg.lines[0]
    x, y, w, h = first.box
    crop = seg.line_crop(first)
    x0 = max(0, x - 6)
    assert y <= dy < y + h, f"the period at y={dy} is outside the line's rows {y}..{y + h}"
    assert crop[dy - y: dy - y + 2, dx - x0: dx - x0 + 2].min() < 100  # in the crop, dark
    # the rule under the writing is painted out (only a stroke's width next to the letters crossing it is left)
    for ln, rule in ((first, 108), (seg.lines[1], 218)):
        crop = seg.line_crop(ln)
        top = ln.box[1]
        assert 0 <= rule - 1 - top and rule + 1 - top < crop.shape[0]
        rows = crop[rule - 1 - top: rule + 2 - top] < 200
        assert longest_run(rows) < 0.1 * crop.shape[1]
