"""The segmentation's shortcuts give exactly what the full morphology gives (speed without changing results)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.document import (
    _cross_survivors,
    _has_run,
    _survives_cross,
    _survives_ellipse,
    line_mask,
    prepare_page,
    remove_dark_areas,
    remove_ruling,
    remove_specks,
    stroke_width,
)
from model.segment import gaussian_blur_f32


def _line_crops(page) -> list[np.ndarray]:
    return [page.image[y: y + h, x: x + w] for x, y, w, h in page.boxes]


def test_line_mask_is_prepare_page_binary(scan_pages, shadow_page):
    crops = [c for page in (*scan_pages[:3], shadow_page) for c in _line_crops(page)]
    ruled = np.full((90, 900), 235, np.uint8)
    cv2.putText(ruled, "ruled words here", (20, 60), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.6, 40, 3)
    cv2.line(ruled, (0, 72), (899, 72), 90, 2)  # a rule the shortcut must not skip
    blob = ruled.copy()
    cv2.rectangle(blob, (600, 10), (700, 80), 20, -1)  # a thick dark area
    wide = cv2.resize(ruled, (4400, 440))  # reduced to MAX_SIDE: the matrix maps back
    for crop in [*crops, ruled, blob, wide]:
        page = prepare_page(crop, deskew=False, find_outline=False)
        mask, matrix = line_mask(crop)
        assert np.array_equal(mask, remove_specks(page.binary, 6))
        assert np.array_equal(matrix, page.to_original)


@pytest.mark.parametrize("seed", range(40))
def test_has_run_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    mask = (rng.random((rng.integers(1, 12), rng.integers(1, 60))) < rng.uniform(0.3, 0.97)).astype(np.uint8)
    length = int(rng.integers(1, 70))
    longest = max((len(run) for row in mask for run in "".join(map(str, row)).split("0")), default=0)
    assert _has_run(mask, length) == (longest >= length)


@pytest.mark.parametrize("seed", range(30))
def test_skipped_openings_are_empty(seed):
    """Where a shortcut says "nothing survives", OpenCV's opening is indeed empty (borders included)."""
    rng = np.random.default_rng(100 + seed)
    h, w = int(rng.integers(8, 120)), int(rng.integers(160, 400))
    mask = (rng.random((h, w)) < rng.uniform(0.5, 0.99)).astype(np.uint8)
    mask[:, : int(rng.integers(0, w // 2))] = 1  # long runs touching the left border
    for size in (7, 9, 13):
        opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
        assert _survives_cross(mask, size) or not opened.any()
    length = w // 4
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    assert _has_run(mask, min(length - length // 2, length // 2 + 1)) or not opened.any()


@pytest.mark.parametrize("seed", range(30))
def test_ellipse_test_at_the_cross_survivors_is_opencvs_erosion(seed):
    """Testing only the cross survivors says what cv2.erode says, borders (which count as ink) included."""
    rng = np.random.default_rng(200 + seed)
    h, w = int(rng.integers(3, 60)), int(rng.integers(3, 300))
    mask = (rng.random((h, w)) < rng.uniform(0.6, 0.995)).astype(np.uint8)
    if seed % 3 == 0:
        mask[: int(rng.integers(1, h + 1)), : int(rng.integers(1, w + 1))] = 1  # a block touching the corner
    for size in (7, 9, 13):
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        eroded = cv2.erode(mask, kernel).any()
        candidates = _cross_survivors(mask, size)
        if candidates is None:
            assert not eroded
        else:
            assert _survives_ellipse(mask, size, candidates) == eroded


def test_shortcuts_keep_rules_and_dark_areas():
    binary = np.zeros((100, 800), np.uint8)
    binary[50:52, 10:790] = 1  # a rule
    binary[10:40, 100:115] = 1  # a stroke
    assert not remove_ruling(binary)[50:52].any() and remove_ruling(binary)[10:40, 100:115].all()
    binary[60:95, 300:400] = 1  # a dark block
    assert not remove_dark_areas(binary)[60:95, 300:400].any()
    specks = binary.copy()
    assert remove_specks(specks, 6) is specks  # nothing to drop: the same mask
    specks[5, 5] = 1
    assert not remove_specks(specks, 6)[5, 5]


@pytest.mark.parametrize("shape", [(1, 1), (1, 40), (40, 1), (7, 300), (128, 1966), (60, 90)])
def test_gaussian_blur_from_the_mask_is_opencvs(shape):
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    mask = (rng.random(shape) < 0.2).astype(np.uint8)
    for sx, sy in ((0.5, 0.5), (4.4, 5.5), (12.0, 15.0), (25.6, 32.0)):
        expected = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigmaX=sx, sigmaY=sy)
        assert np.array_equal(gaussian_blur_f32(mask, sx, sy), expected)


def _remove_dark_areas_plain(binary: np.ndarray) -> np.ndarray:
    """remove_dark_areas as first written: the full opening and OpenCV's component statistics."""
    sw = stroke_width(binary)
    if sw <= 0:
        return binary
    size = max(7, int(3.5 * sw)) | 1
    thick = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    if not thick.any():
        return binary
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    total = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    solid = np.bincount(labels.ravel(), weights=thick.ravel().astype(np.float64), minlength=n)
    drop = (solid > 0.4 * np.maximum(total, 1)) & (total > 4 * size * size)
    h, w = binary.shape
    bw, bh = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    drop |= (np.maximum(bw, bh) > 0.3 * max(h, w)) & (total < 3.0 * max(sw, 1.0) * np.hypot(bw, bh))
    drop[0] = False
    if not drop.any():
        return binary
    out = binary.copy()
    out[drop[labels]] = 0
    return out


@pytest.mark.parametrize("seed", range(30))
def test_remove_dark_areas_is_the_plain_definition(seed):
    rng = np.random.default_rng(300 + seed)
    h, w = int(rng.integers(20, 200)), int(rng.integers(40, 600))
    binary = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, 30))):  # strokes
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.line(binary, (x, y), (x + int(rng.integers(-40, 40)), y + int(rng.integers(-30, 30))), 1,
                 int(rng.integers(1, 5)))
    for _ in range(int(rng.integers(0, 3))):  # dark blobs, some touching the border, some on strokes
        x, y = int(rng.integers(-20, w)), int(rng.integers(-20, h))
        cv2.rectangle(binary, (x, y), (x + int(rng.integers(5, 80)), y + int(rng.integers(5, 60))), 1, -1)
    if seed % 5 == 0:
        binary[int(h * 0.7), :] = 1  # a long straight line
    assert np.array_equal(remove_dark_areas(binary), _remove_dark_areas_plain(binary))


@pytest.mark.parametrize("specks", [0, 3, 40, 500])
def test_remove_specks_is_relabelling(specks):
    rng = np.random.default_rng(specks)
    binary = np.zeros((120, 900), np.uint8)
    cv2.putText(binary, "some words here", (10, 80), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2.0, 1, 3)
    ys, xs = rng.integers(0, 120, specks), rng.integers(0, 900, specks)
    binary[ys, xs] = 1
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    keep = np.zeros(n, np.uint8)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 6
    assert np.array_equal(remove_specks(binary, 6), keep[labels])
