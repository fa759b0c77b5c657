"""Lines too wide for the network: where to cut them, at gaps between words, into pieces it reads unsqueezed.

A crop is resized to the network's height and its width clamped to ``InputSpec.max_width`` (1,600 columns), so a
line wider than about 50:1 would be squeezed and read badly. ``piece_columns`` finds the empty columns of the
line's binarised ink (never cutting through ink) and chooses cuts in the fewest pieces that each fit, preferring
the widest gaps (between words, not between letters); ``Recognizer.recognize`` reads the pieces and joins them.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.input_spec import InputSpec
from model.preprocess import PreparedLine

#: The crop's margin around its ink, relative to the ink's height (as ``preprocess.crop_to_ink``).
MARGIN = 0.08
#: Gaps at least this many times the line's ink height wide are all word gaps, equally good to cut at.
WORD_GAP = 0.25
#: At most this many gaps are considered (the widest ones): bounded time for any line.
MAX_GAPS = 400


def network_width(ink_width: float, ink_height: float, spec: InputSpec) -> float:
    """The width a piece of ink ``ink_width`` x ``ink_height`` pixels gets in the network input (unclamped)."""
    margin = MARGIN * ink_height
    return (ink_width + 2 * margin) * spec.height / max(1.0, ink_height + 2 * margin) * spec.x_scale


def _gaps(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (exclusive) of the runs of empty columns between ink columns."""
    empty = np.concatenate([[0], (counts == 0).astype(np.int8), [0]])
    edges = np.diff(empty)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    inner = (starts > 0) & (ends < len(counts))  # the margins at either end are no gaps
    starts, ends = starts[inner], ends[inner]
    if len(starts) > MAX_GAPS:
        keep = np.sort(np.argsort(starts - ends, kind="stable")[:MAX_GAPS])
        starts, ends = starts[keep], ends[keep]
    return starts, ends


def cut_columns(ink: np.ndarray, spec: InputSpec) -> list[float]:
    """Columns of a line's ink map (bool, height x width) to cut it at; [] when it fits the network's width.

    Among cuts in the middle of empty-column runs, the choice minimises first how much the pieces are still too
    wide (when gaps are too few), then the number of pieces, then maximises the narrowest gap cut (up to a word
    gap's width), then minimises the widest piece (pieces of even widths).
    """
    h, w = ink.shape
    first, _, width, height = cv2.boundingRect(np.ascontiguousarray(ink).view(np.uint8))  # of the ink
    if width == 0:
        return []
    last = first + width
    if network_width(last - first, height, spec) <= spec.max_width:
        return []
    starts, ends = _gaps(ink.sum(axis=0))
    # A piece runs from the end of one gap (or the first ink column) to the start of a later one (or the last).
    lefts = np.concatenate([[first], ends])
    rights = np.concatenate([starts, [last]])
    widths = np.concatenate([[np.inf], ends - starts])  # the gap a piece starts after (none for the first)
    has = ink.any(axis=0)
    top = np.where(has, ink.argmax(axis=0), h)
    bottom = np.where(has, h - ink[::-1].argmax(axis=0), 0)
    good = WORD_GAP * height  # any gap this wide is as good a place to cut as a wider one
    n = len(lefts)
    # best[j]: (excess width, pieces, -narrowest gap cut, widest piece) of the best way to the piece starting at j
    best: list[tuple[float, int, float, float] | None] = [None] * (n + 1)
    best[0] = (0.0, 0, -np.inf, 0.0)
    back = [0] * (n + 1)
    for i in range(n):
        cost = best[i]
        if cost is None:
            continue
        narrowest = max(cost[2], -min(good, float(widths[i])))
        tops = np.minimum.accumulate(top[lefts[i]:])
        bottoms = np.maximum.accumulate(bottom[lefts[i]:])
        for j in range(i, n):  # the piece ends at rights[j]; the next one starts at j + 1
            span = rights[j] - lefts[i]
            piece = network_width(span, bottoms[span - 1] - tops[span - 1], spec)
            excess = max(0.0, piece - spec.max_width)
            candidate = (cost[0] + excess, cost[1] + 1, narrowest, max(cost[3], piece))
            current = best[j + 1]
            if current is None or candidate < current:
                best[j + 1], back[j + 1] = candidate, i
            if excess > 0:  # longer pieces are (all but always) wider still
                break
    cuts = []
    j = n
    while j > 0:
        i = back[j]
        if i > 0:
            cuts.append((starts[i - 1] + ends[i - 1]) / 2)
        j = i
    return sorted(cuts)


def piece_columns(part: PreparedLine, spec: InputSpec, width: int) -> list[tuple[int, int]] | None:
    """Column ranges (x0, x1) of the crop (``width`` pixels wide) to read one by one; None when it fits as is."""
    if part.ink.size == 0:
        return None
    cuts = cut_columns(part.ink, spec)
    if not cuts:
        return None
    x0, sx = part.box[0], part.scale[0]
    edges = [0, *(int(round((x0 + c) * sx)) for c in cuts), width]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]
