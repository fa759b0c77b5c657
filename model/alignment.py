"""Word boxes from the network's alignment: each recognized word is where the network read it.

The CTC output frames of a word (first to last) map to columns of the network input and so to the crop.
Two neighbouring words are cut at the emptiest columns between the last frame of one and the first frame of
the next (the middle of the widest such run); each word's box is the ink between its cuts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import cv2
import numpy as np

from model.preprocess import PreparedLine

Box = tuple[int, int, int, int]


def _cut(counts: list[int], a: float, b: float) -> float:
    """Where to cut between pixel columns ``a`` and ``b``: the middle of the widest (first such) run of the emptiest
    columns (a loop over the few columns of a gap: numpy's calls on them cost more than the work)."""
    lo, hi = max(0, int(math.ceil(a))), min(len(counts), int(math.floor(b)))
    if hi <= lo:
        return (a + b) / 2
    low = min(counts[lo:hi])
    best, widest, start = (0, 0), 0, -1
    for i in range(lo, hi + 1):
        if i < hi and counts[i] == low:
            start = i if start < 0 else start
        elif start >= 0:
            if i - start > widest:
                best, widest = (start, i), i - start
            start = -1
    return (best[0] + best[1]) / 2


def _first_last(counts: list[int], a: int, b: int) -> tuple[int, int] | None:
    """The first and last column in ``a`` .. ``b`` - 1 with ink (None if none)."""
    first = next((i for i in range(a, b) if counts[i]), None)
    if first is None:
        return None
    return first, next(i for i in range(b - 1, first - 1, -1) if counts[i])


def aligned_word_boxes(spans: Sequence[tuple[int, int]], prepared: PreparedLine, columns_per_frame: int
                       ) -> list[Box]:
    """One box (x, y, w, h, crop pixels) per word, from its (first, last) output frames; [] without ink."""
    x0, y0, x1, y1 = prepared.box
    if not spans or x1 <= x0 or y1 <= y0:
        return []
    per_column = (x1 - x0) / prepared.tensor.shape[1]  # pixels (of the reduced crop) per input column
    ink = prepared.ink.view(np.uint8)
    counts = cast(list[int], cv2.reduce(ink, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().tolist())  # ink a column
    cuts = [0.0]
    for (_, end), (start, _) in zip(spans, spans[1:]):
        gap_from = columns_per_frame * (end + 1) * per_column
        gap_to = columns_per_frame * start * per_column
        cuts.append(min(float(x1 - x0), max(cuts[-1], _cut(counts, gap_from, gap_to))))
    cuts.append(float(x1 - x0))
    sx, sy = prepared.scale
    boxes = []
    for a, b in zip(cuts, cuts[1:]):
        ca = min(x1 - x0 - 1, int(math.floor(a)))
        cb = max(ca + 1, int(math.ceil(b)))
        columns = _first_last(counts, ca, cb)
        if columns is not None:
            left, right = columns[0], columns[1] + 1
            rows = np.flatnonzero(cv2.reduce(ink[:, left:right], 1, cv2.REDUCE_MAX))
            top, bottom = int(rows[0]), int(rows[-1]) + 1
        else:  # no ink between the cuts: the strip itself
            left, right, top, bottom = ca, cb, 0, y1 - y0
        bx0, by0 = math.floor((x0 + left) * sx), math.floor((y0 + top) * sy)
        bx1, by1 = math.ceil((x0 + right) * sx), math.ceil((y0 + bottom) * sy)
        boxes.append((bx0, by0, max(1, bx1 - bx0), max(1, by1 - by0)))
    return boxes
