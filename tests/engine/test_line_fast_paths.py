"""The faster ways of reading a line (file, ink mask and box, capitals, word confidences, word boxes) give the
plain results: each is checked against the plain definition it replaced."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from model import alignment, imageio
from model.beam import FEATURES, word_confidence
from model.decode import is_block_capitals, mostly_capitals
from model.imageio import MAX_FILE_BYTES, read_bounded
from model.preprocess import (
    INK_LEVEL,
    PreparedLine,
    _edge_box,
    components_box,
    mask_box,
    normalize_illumination,
    paper_estimate,
    prepare_line_parts,
    remove_rules,
    resize_to_height,
    stretch_contrast,
    without_rules,
)
from model.recognizer import Recognizer
from tests.conftest import render_text


def _plain_remove_rules(ink: np.ndarray, threshold: float = 0.4) -> np.ndarray:
    """``remove_rules`` as it was: its own mask, numpy's row sums."""
    h, w = ink.shape
    hlen = int(0.6 * w)
    if hlen < 1.5 * h:
        return ink
    mask = (ink > threshold).astype(np.uint8)
    if int(mask.sum(axis=1).max(initial=0)) < hlen:
        return ink
    lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (hlen, 1)))
    if not lines.any():
        return ink
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    out = ink.copy()
    out[lines > 0] = 0.0
    return out if (out > threshold).any() else ink


def _ruled(rng: np.random.Generator) -> np.ndarray:
    """A random ink map, often with ruled lines, sometimes only a rule."""
    h, w = int(rng.integers(2, 60)), int(rng.integers(2, 400))
    ink = (rng.random((h, w)) * (rng.random((h, w)) < rng.uniform(0.0, 0.5))).astype(np.float32)
    if rng.random() < 0.3:
        ink[:] = 0
    for _ in range(int(rng.integers(0, 3))):
        y = int(rng.integers(0, h))
        ink[y, int(rng.integers(0, max(1, w // 5))): w - int(rng.integers(0, max(1, w // 5)))] = rng.uniform(0.3, 1)
    return ink


@pytest.mark.parametrize("seed", range(10))
def test_rules_are_removed_as_before_with_the_mask_of_what_is_left(seed):
    rng = np.random.default_rng(seed)
    for _ in range(100):
        ink = _ruled(rng)
        out, mask = without_rules(ink, ink > INK_LEVEL)
        expected = _plain_remove_rules(ink)
        assert np.array_equal(out, expected) and np.array_equal(remove_rules(ink), expected)
        assert mask.dtype == bool and np.array_equal(mask, expected > INK_LEVEL)


def _plain_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """``ink_box`` as it was: the components kept by OpenCV's default labelling, from a uint8 copy."""
    binary = mask.astype(np.uint8)
    if not binary.any():
        return None
    n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = areas >= max(2, int(0.002 * areas.max()) + 1) if n > 2 else areas > 0
    if not keep.any():
        return None
    boxes = stats[1:][keep]
    x0, y0 = int(boxes[:, 0].min()), int(boxes[:, 1].min())
    return x0, y0, int((boxes[:, 0] + boxes[:, 2]).max()) - x0, int((boxes[:, 1] + boxes[:, 3]).max()) - y0


def _specked(rng: np.random.Generator) -> np.ndarray:
    """A random mask: noise, or a few blobs (words) with specks of several sizes around them."""
    h, w = int(rng.integers(1, 80)), int(rng.integers(1, 500))
    mask = rng.random((h, w)) < rng.uniform(0.0, 0.6)
    if rng.random() < 0.7:
        mask[:] = rng.random((h, w)) < rng.choice([0.0, 0.001, 0.01])
        for _ in range(int(rng.integers(0, 4))):
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            mask[y: y + int(rng.integers(1, h + 1)), x: x + int(rng.integers(1, w + 1))] = True
        for _ in range(int(rng.integers(0, 6))):  # specks of 1 to 16 pixels, often at the edges
            y, x = int(rng.choice([0, h - 1, rng.integers(0, h)])), int(rng.choice([0, w - 1, rng.integers(0, w)]))
            mask[y: y + int(rng.integers(1, 5)), x: x + int(rng.integers(1, 5))] = True
    return mask


@pytest.mark.parametrize("seed", range(10))
def test_the_ink_box_from_its_edges_is_the_box_of_the_components_kept(seed):
    rng = np.random.default_rng(seed)
    told = 0
    for _ in range(300):
        mask = _specked(rng)
        expected = _plain_box(mask)
        assert mask_box(mask) == expected and components_box(mask.astype(np.uint8)) == expected
        if mask.any():
            edge = _edge_box(mask.view(np.uint8))
            assert edge is None or edge == expected
            told += edge is not None
    assert told > 100  # the shortcut answers most masks


def test_a_line_s_ink_is_its_crop_above_the_ink_level():
    image = render_text("ruled and boxed")
    image[5, :] = 0  # a rule across the crop, erased by the preprocessing
    spec = Recognizer.load().info.input_spec
    part = prepare_line_parts(image, spec)
    assert part.cropped is not None and np.array_equal(part.ink, part.cropped > INK_LEVEL)
    assert part.ink.flags.c_contiguous


@pytest.mark.parametrize("x_scale", [1.0, 1.3, 0.5])
def test_a_line_is_resized_when_its_input_is_first_asked_for_as_it_was_at_once(x_scale):
    spec = replace(Recognizer.load().info.input_spec, x_scale=x_scale)
    image = render_text("resized only once")
    part = prepare_line_parts(image, spec)
    assert "tensor" not in part.__dict__ and part.cropped is not None
    width = part.width  # known without resizing
    assert "tensor" not in part.__dict__
    assert np.array_equal(part.tensor, resize_to_height(part.cropped, spec).astype(np.float32))
    assert part.tensor.dtype == np.float32 and part.tensor.shape == (spec.height, width) and part.width == width
    wider = replace(spec, x_scale=x_scale * 1.5)
    again = part.stretched(wider)
    assert again.width == again.tensor.shape[1]
    assert np.array_equal(again.tensor, prepare_line_parts(image, wider).tensor)
    given = PreparedLine(np.zeros((32, 40), np.float32), (0, 0, 5, 5), (1.0, 1.0), np.zeros((5, 5), bool))
    assert given.width == 40 and given.stretched(wider) is given


@pytest.mark.parametrize("text", ["", "a", "AB", "Ab", "ABc", "aBC", "NEW York", "ÉCOLE", "ǅX", "ªB", "12 A-B",
                                  "PRoclAIming", "Ünïcödé ÄÖ", "x" * 30, "ΣΊΣΥΦΟΣ", "ﬁ FI"])
def test_capitals_tests_are_the_plain_ones(text):
    letters = [c for c in text if c.isalpha()]
    assert is_block_capitals(text) == (len(letters) >= 2 and all(c.isupper() for c in letters))
    assert mostly_capitals(text) == (len(letters) >= 2 and sum(c.isupper() for c in letters) >= 0.6 * len(letters))


def _plain_confidence(features: np.ndarray, weights: tuple[float, ...] | None, names: tuple[str, ...] | None
                      ) -> float:
    """``word_confidence`` as it was: the weights and positions converted for every word."""
    if weights is not None:
        index = [{n: i for i, n in enumerate(FEATURES)}.get(n, len(FEATURES))
                 for n in (tuple(names) if names else FEATURES[: len(weights) - 1])]
        if len(index) == len(weights) - 1 and all(i < len(features) for i in index):
            z = weights[0] + float(np.dot(weights[1:], features[index]))
            return float(1.0 / (1.0 + math.exp(-min(max(z, -30.0), 30.0))))
    return float(np.exp(features[0] + 0.5 * features[1]))


@pytest.mark.parametrize("seed", range(5))
def test_word_confidence_is_the_plain_logistic_model(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        features = rng.normal(size=int(rng.choice([len(FEATURES), 5]))) * 3
        k = int(rng.integers(0, len(FEATURES) + 1))
        weights = tuple(rng.normal(size=k + 1).tolist()) if rng.random() < 0.9 else None
        names = None if rng.random() < 0.3 else tuple(rng.permutation(FEATURES)[:k].tolist())
        if names and rng.random() < 0.2:
            names = (*names[:-1], "an unknown feature")
        assert word_confidence(features, weights, names) == _plain_confidence(features, weights, names)


def _plain_cut(counts: np.ndarray, a: float, b: float) -> float:
    """``alignment._cut`` as it was, in numpy."""
    lo, hi = max(0, int(math.ceil(a))), min(len(counts), int(math.floor(b)))
    if hi <= lo:
        return (a + b) / 2
    low = counts[lo:hi] == counts[lo:hi].min()
    edges = np.diff(np.concatenate([[0], low.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    k = int(np.argmax(ends - starts))
    return float(lo + (starts[k] + ends[k]) / 2)


def _plain_boxes(spans: list[tuple[int, int]], prepared: PreparedLine, per_frame: int) -> list[tuple[int, ...]]:
    """``aligned_word_boxes`` as it was, in numpy."""
    x0, y0, x1, y1 = prepared.box
    if not spans or x1 <= x0 or y1 <= y0:
        return []
    per_column = (x1 - x0) / prepared.tensor.shape[1]
    ink = prepared.ink.view(np.uint8)
    counts = cv2.reduce(ink, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    cuts = [0.0]
    for (_, end), (start, _) in zip(spans, spans[1:]):
        cut = _plain_cut(counts, per_frame * (end + 1) * per_column, per_frame * start * per_column)
        cuts.append(min(float(x1 - x0), max(cuts[-1], cut)))
    cuts.append(float(x1 - x0))
    boxes = []
    for a, b in zip(cuts, cuts[1:]):
        ca = min(x1 - x0 - 1, int(math.floor(a)))
        cb = max(ca + 1, int(math.ceil(b)))
        cols = np.flatnonzero(counts[ca:cb])
        if len(cols):
            left, right = ca + int(cols[0]), ca + int(cols[-1]) + 1
            rows = np.flatnonzero(cv2.reduce(ink[:, left:right], 1, cv2.REDUCE_MAX))
            top, bottom = int(rows[0]), int(rows[-1]) + 1
        else:
            left, right, top, bottom = ca, cb, 0, y1 - y0
        bx0, by0 = math.floor((x0 + left) * prepared.scale[0]), math.floor((y0 + top) * prepared.scale[1])
        bx1, by1 = math.ceil((x0 + right) * prepared.scale[0]), math.ceil((y0 + bottom) * prepared.scale[1])
        boxes.append((bx0, by0, max(1, bx1 - bx0), max(1, by1 - by0)))
    return boxes


@pytest.mark.parametrize("seed", range(10))
def test_word_cuts_and_boxes_are_the_plain_ones(seed):
    rng = np.random.default_rng(seed)
    for _ in range(100):
        counts = rng.integers(0, 4, int(rng.integers(1, 80))) * (rng.random() < 0.9)
        a, b = sorted(rng.uniform(-5, len(counts) + 5, 2).tolist())
        assert alignment._cut(counts.tolist(), a, b) == _plain_cut(counts, a, b)
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 300))
        ink = (rng.random((h, w)) < 0.3) & (rng.random(w) < rng.uniform(0.2, 1))
        x0, y0 = int(rng.integers(0, 20)), int(rng.integers(0, 20))
        part = PreparedLine(np.zeros((32, int(rng.integers(16, 200))), np.float32), (x0, y0, x0 + w, y0 + h),
                            (float(rng.uniform(1, 3)), float(rng.uniform(1, 3))), ink)
        frames = -(-part.tensor.shape[1] // 4)
        ends = np.sort(rng.integers(0, frames, 2 * int(rng.integers(0, 6)))).tolist()
        spans = list(zip(ends[::2], ends[1::2]))
        assert alignment.aligned_word_boxes(spans, part, 4) == _plain_boxes(spans, part, 4)


@pytest.mark.parametrize("length", [0, 1, 5, 4096, 70_000])
def test_a_bounded_read_is_one_read_up_to_the_bound(length):
    data = bytes(range(256)) * (length // 256) + bytes(length % 256)
    for said in (length, 0, max(0, length - 3), length + 10):  # as stat tells, a /proc file, a grown one, a shrunk one
        assert read_bounded(io.BytesIO(data), said) == io.BytesIO(data).read(MAX_FILE_BYTES + 1)


def test_a_read_stops_at_the_bound(monkeypatch):
    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # noqa: ANN001 - io's signature
            buffer[:] = b"x" * len(buffer)
            return len(buffer)

    monkeypatch.setattr(imageio, "MAX_FILE_BYTES", 3)
    for said in (0, 1, 3, 10):
        assert read_bounded(io.BufferedReader(Endless()), said) == b"xxxx"


@pytest.mark.parametrize("seed", range(5))
def test_opencv_s_bounding_rect_of_a_mask_is_its_ink_s_extent(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        mask = _specked(rng)
        cols, rows = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
        plain = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1 - int(cols[0]), int(rows[-1]) + 1 - int(rows[0])) \
            if len(cols) else (0, 0, 0, 0)
        assert cv2.boundingRect(mask.view(np.uint8)) == plain
        assert cv2.boundingRect(mask[:, ::2].copy().view(np.uint8)) == cv2.boundingRect(mask[:, ::2].astype(np.uint8))


def _plain_normalize(gray: np.ndarray) -> np.ndarray:
    """``normalize_illumination`` as it was: the paper always raised to at least 1."""
    img = gray.astype(np.float32)
    ink = np.divide(img, np.maximum(paper_estimate(img), 1.0), out=img)
    np.subtract(1.0, np.clip(ink, 0.0, 1.0, out=ink), out=ink)
    return stretch_contrast(ink)


@pytest.mark.parametrize("seed", range(5))
def test_illumination_is_normalized_as_before_on_dark_and_light_paper(seed):
    rng = np.random.default_rng(seed)
    for _ in range(20):
        h, w = int(rng.integers(2, 150)), int(rng.integers(2, 1200))
        gray = rng.integers(0, 256, (h, w)).astype(np.uint8) // int(rng.choice([1, 50, 255]))  # black paper too
        if rng.random() < 0.5:
            gray[:, : w // 2] = 0
        assert np.array_equal(normalize_illumination(gray), _plain_normalize(gray))
