"""Line and word segmentation on generated pages with known boxes."""

from __future__ import annotations

import cv2
import numpy as np

from model.document import MAX_SIDE, estimate_skew, prepare_page
from model.page import segment, segment_lines, segment_page, segment_words
from training.page_eval import SegScores, iou, match_boxes
from training.pages import PageStyle, compose_page, text_source


def test_lines_found_in_reading_order(scan_pages):
    scores = SegScores()
    for page in scan_pages:
        scores.add(page.boxes, segment_lines(page.image), 0.0)
    figures = scores.as_dict()
    assert figures["line_recall"] >= 0.95
    assert figures["line_precision"] >= 0.95
    assert figures["reading_order_ok"] == 1.0


def test_boxes_are_in_original_coordinates(scan_pages):
    page = scan_pages[0]
    lines = segment_page(page.image)
    h, w = page.image.shape
    for ln in lines:
        x, y, bw, bh = ln.box
        assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h
        assert max(iou(ln.box, t) for t in page.boxes) >= 0.5


def test_rotated_page_is_deskewed():
    style = PageStyle(rotation=0.0, lighting=0.2)
    page = compose_page(text_source(seed=3), style, seed=11)
    h, w = page.image.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 6.0, 1.0)
    rotated = cv2.warpAffine(page.image, m, (w, h), borderValue=int(np.median(page.image)))
    seg = segment(rotated)
    assert abs(seg.page.angle + 6.0) < 0.6
    assert abs(estimate_skew(seg.page.binary)) < 0.6  # the prepared page is upright
    truth = []
    for x, y, bw, bh in page.boxes:
        corners = np.array([[x, y, 1], [x + bw, y, 1], [x, y + bh, 1], [x + bw, y + bh, 1]], float) @ m.T
        x0, y0 = corners.min(axis=0)
        truth.append((x0, y0, *(corners.max(axis=0) - corners.min(axis=0))))
    assert len(seg.lines) == len(page.boxes)
    # boxes of rotated ink are close to the rotated truth boxes' extent
    assert len(match_boxes(truth, [ln.box for ln in seg.line_boxes()], 0.4)) >= len(truth) - 1


def test_blank_pages_have_no_lines():
    rng = np.random.default_rng(0)
    white = np.full((1200, 900), 235, np.uint8)
    noisy = np.clip(white + rng.normal(0, 6, white.shape), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:1200, 0:900]
    uneven = np.clip(noisy * (0.6 + 0.4 * xx / 900), 0, 255).astype(np.uint8)
    for img in (white, noisy, uneven, np.zeros((300, 300), np.uint8)):
        assert segment_lines(img) == []


def test_single_word_page():
    img = np.full((1400, 1000), 240, np.uint8)
    cv2.putText(img, "hello", (380, 700), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2.0, 20, 3, cv2.LINE_AA)
    lines = segment_page(img)
    assert len(lines) == 1
    assert len(lines[0].words) == 1
    x, y, w, h = lines[0].box
    assert 370 <= x <= 395 and 640 <= y <= 680 and 100 < w < 250


def test_ruled_lines_and_dark_shadow(shadow_page):
    pred = segment_lines(shadow_page.image)
    matched = match_boxes(shadow_page.boxes, pred)
    assert len(matched) >= len(shadow_page.boxes) - 1
    assert len(pred) <= len(shadow_page.boxes) + 1
    # no ruled line comes out as a page-wide "line" of its own
    width = shadow_page.image.shape[1]
    assert all(w < 0.95 * width for _, _, w, _ in pred)


def test_words_split_at_gaps():
    img = np.full((200, 1400), 245, np.uint8)
    for i, word in enumerate(["one", "two", "three", "four"]):
        cv2.putText(img, word, (40 + i * 330, 120), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2.0, 20, 3, cv2.LINE_AA)
    words = segment_words(img, (0, 0, 1400, 200))
    assert len(words) == 4
    assert [w[0] for w in words] == sorted(w[0] for w in words)
    assert all(15 <= w[0] - i * 330 <= 60 for i, w in enumerate(words))
    lines = segment_page(img)
    assert len(lines) == 1 and len(lines[0].words) == 4


def test_huge_image_is_processed_on_a_bounded_copy():
    page = compose_page(text_source(seed=1), PageStyle(lines=(6, 6), rotation=1.0), seed=2)
    huge = cv2.resize(page.image, None, fx=6.0, fy=6.0, interpolation=cv2.INTER_LINEAR)
    assert max(huge.shape) > 3 * MAX_SIDE
    prepared = prepare_page(huge)
    assert max(prepared.ink.shape) <= MAX_SIDE * 1.1
    lines = segment_lines(huge)
    truth = [tuple(int(v * 6) for v in b) for b in page.boxes]
    assert len(match_boxes(truth, lines)) >= 5


def test_ridge_seeds_and_nearest_curve_match_the_plain_definitions():
    import cv2

    from model.segment import _nearest_curve, _ridge_seeds

    rng = np.random.default_rng(3)
    smooth = cv2.GaussianBlur(rng.random((120, 200)).astype(np.float32), (0, 0), 3)
    seeds = _ridge_seeds(smooth, 0.3)
    up = np.vstack([smooth[:1] * 0, smooth[:-1]])
    down = np.vstack([smooth[1:], smooth[-1:] * 0])
    ridge = cv2.dilate(((smooth >= up) & (smooth > down) & (smooth > 0.3)).astype(np.uint8), np.ones((3, 3), np.uint8))
    n, labels = cv2.connectedComponents(ridge, connectivity=8)
    expected = [np.stack(np.nonzero(labels == i)[::-1], axis=1) for i in range(1, n)]
    assert len(seeds) == len(expected) > 3
    assert all(np.array_equal(a, b) for a, b in zip(seeds, expected))
    curves = rng.random((50, 200)) * 100
    ys, xs = rng.integers(0, 100, 5000), rng.integers(0, 200, 5000)
    small_idx, small_dist = _nearest_curve(ys, xs, curves, budget=10)
    big_idx, big_dist = _nearest_curve(ys, xs, curves, budget=10**9)
    assert np.array_equal(small_idx, big_idx) and np.array_equal(small_dist, big_dist)


def _joined_word(img: np.ndarray, text: str, x: int, base: int) -> int:
    """Draw a cursive-like word (script letters joined along the baseline into one piece); the next word's x."""
    (w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.5, 2)
    cv2.putText(img, text, (x, base), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.5, 0, 2, cv2.LINE_AA)
    cv2.line(img, (x + 4, base), (x + w - 4, base), 0, 2, cv2.LINE_AA)
    return x + w + 28


def _low_word(img: np.ndarray, x: int, base: int) -> int:
    """Draw a low, flat word as IAM writers write "me" or "on": long thin joins, short upstrokes; the next x."""
    pts = []
    for k in range(4):
        pts += [(x + 22 * k, base), (x + 22 * k + 2, base - 12), (x + 22 * k + 4, base)]
    cv2.polylines(img, [np.array([*pts, (x + 88, base)], np.int32)], False, 0, 2, cv2.LINE_AA)
    return x + 88 + 28


def test_low_words_at_a_line_end_are_writing_and_rule_dashes_are_not():
    words = [["held", "the", "light", "by"], ["", "kind", "bold", "the", "light"],
             ["the", "bold", "held", "dog", ""], ["light", "kind", "held", "by"]]
    img = np.full((640, 1300), 240, np.uint8)
    ends = []
    for i, line in enumerate(words):
        layer = np.full_like(img, 255)
        x = 100
        for word in line:
            x = _joined_word(layer, word, x, 150 + 120 * i) if word else _low_word(layer, x, 150 + 120 * i)
        xs = np.nonzero((layer < 160).any(axis=0))[0]
        ends.append((int(xs[0]), int(xs[-1])))
        img = np.minimum(img, layer)
    right = ends[3][1]
    for x in range(right + 40, 1250, 70):  # a ruled line broken into dashes after the last line's writing
        cv2.line(img, (x, 152 + 360), (x + 50, 152 + 360), 60, 2)
    lines = segment_page(img)
    assert len(lines) == 4
    for (start, end), line in zip(ends, lines):
        x, _, w, _ = line.box
        assert abs(x - start) <= 2 and abs(x + w - 1 - end) <= 2  # low words (line 2's first, line 3's last) kept
