"""The one preprocessing path: any grayscale crop -> the network's input tensor.

Used unchanged by training (``training.datasets``) and by ``Recognizer``. Pure numpy/OpenCV.
Output convention: float32 (height, width), ink = 1.0, paper = 0.0, so zero padding is paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property

import cv2
import numpy as np

from model.imageio import ImageError, to_gray
from model.input_spec import InputSpec

MAX_LINE_PIXELS = 8_000_000  # a word/line image is reduced to this before preprocessing
INK_LEVEL = 0.4  # ink-map level above which a pixel is ink


def normalize_illumination(gray: np.ndarray) -> np.ndarray:
    """Divide by an estimate of the paper (uneven light, stains) -> ink map in [0, 1], ink = 1."""
    img = gray.astype(np.float32)
    paper = paper_estimate(img)
    # ink = 1 - clip(img / max(paper, 1), 0, 1), computed in place in img (the same float32 operations); the paper
    # is all but never darker than 1, which a look at its darkest pixel tells in a quarter of the time of max(paper, 1)
    if paper.min() < 1.0:
        np.maximum(paper, 1.0, out=paper)
    ink = np.divide(img, paper, out=img)
    # 1 - clip(ink, 0, 1) is 1 - ink, or 0 where ink > 1: the stretch takes such pixels to 0 as it takes 0 there, so
    # only its statistics need the clip (one pass over the line less)
    np.subtract(1.0, ink, out=ink)
    return _stretch(ink, ink, below_zero=True)


def paper_estimate(img: np.ndarray) -> np.ndarray:
    """The paper's brightness under each pixel of a float32 gray image (a new array)."""
    h, w = img.shape
    k = min(max(min(h, w) // 3, 9), 61)
    # Estimate the paper on a reduced image: a grey closing (max then min filter) removes the ink.
    factor = max(1.0, k / 7.0, max(h, w) / 1000.0)
    sw, sh = max(1, int(round(w / factor))), max(1, int(round(h / factor)))
    small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA) if factor > 1 else img
    ks = max(3, int(round(k / factor)) | 1)
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (ks, ks)))
    paper = cv2.blur(paper, (ks, ks))
    if factor > 1:
        paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    return paper


def stretch_contrast(ink: np.ndarray) -> np.ndarray:
    """Map faint paper noise to 0 and the typical stroke darkness to 1."""
    return _stretch(ink, None)


def _stretch(ink: np.ndarray, out: np.ndarray | None, below_zero: bool = False) -> np.ndarray:
    """stretch_contrast into ``out`` (may be ``ink`` itself; None: a new array). ``below_zero``: ``ink`` is a float32
    map whose negative pixels stand for 0 (the stretch, floored above 0, takes both to 0)."""
    sample = ink[:: max(1, ink.shape[0] // 64), :: max(1, ink.shape[1] // 256)]
    if below_zero:
        sample = np.maximum(sample, 0.0)
    median, peak = median_and_percentile(sample, 99.5)
    floor = median + 0.04
    peak = max(peak, floor + 0.2)
    if out is None or ink.dtype != np.float32:
        return np.clip((ink - floor) / (peak - floor), 0.0, 1.0).astype(np.float32)
    np.subtract(ink, floor, out=out)
    np.divide(out, peak - floor, out=out)
    return np.clip(out, 0.0, 1.0, out=out)


def median_and_percentile(values: np.ndarray, q: float) -> tuple[float, float]:
    """``float(np.median(values)), float(np.percentile(values, q))`` of a float32 array without NaNs, bit for bit,
    from one sort (numpy's two calls took 0.4 ms for a line and its median imports ``numpy.ma``; numpy's vectorised
    sort of a line's 18,000 samples takes 0.01 ms, a partition at the four positions 0.08)."""
    flat = np.ravel(values)
    n = flat.size
    if n == 0 or flat.dtype != np.float32:
        return float(np.median(flat)), float(np.percentile(flat, q))
    frac = q / 100
    virtual = n * frac + (1.0 - frac) - 1.0  # numpy's "linear" method: alpha + q (1 - alpha - beta), alpha = beta = 1
    lo = math.floor(virtual)
    gamma = virtual - lo
    lo, hi = (n - 1, n - 1) if virtual >= n - 1 else (0, 0) if virtual < 0 else (lo, lo + 1)
    middle = [n // 2 - 1, n // 2] if n % 2 == 0 else [n // 2]
    part = np.sort(flat)  # the same values at those positions as a partition there
    median = float(part[middle[0]] + part[middle[-1]]) / 2 if n % 2 == 0 else float(part[middle[0]])
    a, b = part[lo], part[hi]  # numpy's _lerp, in the array's precision
    value = b - (b - a) * np.float32(1 - gamma) if gamma >= 0.5 else a + (b - a) * np.float32(gamma)
    return median, float(value)


def remove_rules(ink: np.ndarray, threshold: float = 0.4) -> np.ndarray:
    """Erase ruled lines and form-box edges: straight horizontal runs longer than 60 % of the crop's width."""
    return without_rules(ink, ink > threshold)[0]


def without_rules(ink: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``remove_rules`` given the ink's mask (bool, ``ink > threshold``), with the mask of the ink it returns: the
    same mask unless rules were erased (the mask is what ``ink_box`` and the word boxes need, made once)."""
    h, w = ink.shape
    hlen = int(0.6 * w)
    if hlen < 1.5 * h or mask.size == 0:
        return ink, mask
    binary = mask.view(np.uint8)
    if int(row_counts(binary).max()) < hlen:  # no row holds enough ink for a rule: nothing to do
        return ink, mask
    runs = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (hlen, 1)))
    if not runs.any():
        return ink, mask
    lines = cv2.dilate(runs, np.ones((3, 3), np.uint8)) > 0
    out, kept = ink.copy(), mask.copy()
    out[lines] = 0.0
    kept[lines] = False  # an erased pixel (0.0) is no ink
    return (out, kept) if kept.any() else (ink, mask)  # a crop that is only a stroke (a dash) stays


def row_counts(binary: np.ndarray) -> np.ndarray:
    """Pixels set in each row of a non-empty uint8 0/1 mask (OpenCV's row sums: 7x numpy's ``sum(axis=1)``)."""
    return cv2.reduce(binary, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()


def components(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """8-connected components of a uint8 mask: count (background included), labels, stats.

    The same components and statistics as ``cv2.connectedComponentsWithStats``; its block-based algorithm
    (BBDT) computes them in 0.55 ms instead of 0.95 for a 128 x 1966 line (only the label numbers may differ).
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_32S, cv2.CCL_BBDT)
    return n, labels, stats


def ink_box(ink: np.ndarray, threshold: float = 0.4) -> tuple[int, int, int, int] | None:
    """Bounding box (x, y, w, h) of the ink, ignoring isolated specks; None when there is none."""
    return mask_box(ink > threshold)


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """``ink_box`` of the ink's mask (bool): from the components at the ink's edges when they tell, else from all."""
    if not mask.any():
        return None
    binary = mask.view(np.uint8)
    return _edge_box(binary) or components_box(binary)


#: At most this many components are flood-filled at the ink's edges before ``_edge_box`` leaves it to all of them.
EDGE_FILLS = 24
_KEPT = 2  # ``_edge_box``: the value a component kept is filled with (ink is 1)


def _edge_box(binary: np.ndarray) -> tuple[int, int, int, int] | None:
    """``components_box`` of a uint8 0/1 mask with ink, found from the components at its edges alone; None when
    they cannot tell.

    The components kept are those of at least max(2, 0.2 % of the largest + 1) pixels (all if there is one). Each
    side's outermost ink is flood-filled (OpenCV's ``floodFill``: only that component's pixels, not the 0.6 ms of
    labelling a whole line): a component at least that large whatever the largest (from all the ink's pixels) is
    kept and fixes its side; one below it however large the largest (from the largest filled) is a speck, erased,
    and the sides looked at again. A component in between, or too many specks, leaves it to ``components_box``.
    """
    work = binary.copy()
    total = cv2.countNonZero(work)
    high, largest, fills = max(2, int(0.002 * total) + 1), 0, 0
    while fills < EDGE_FILLS:
        x0, y0, w, h = cv2.boundingRect(work)  # of the ink left
        if w == 0:  # every component a speck
            return None
        x1, y1 = x0 + w - 1, y0 + h - 1
        erased = False
        for column, at in ((True, x0), (True, x1), (False, y0), (False, y1)):
            line = work[:, at] if column else work[at]
            if (line == _KEPT).any():
                continue
            first = int(np.flatnonzero(line)[0])
            seed = (at, first) if column else (first, at)
            area = cv2.floodFill(work, None, seed, _KEPT, 0, 0, 8)[0]
            fills += 1
            largest = max(largest, area)
            if area >= high or area == total:  # kept
                continue
            if area >= max(2, int(0.002 * largest) + 1):  # kept or not depends on the largest component
                return None
            cv2.floodFill(work, None, seed, 0, 0, 0, 8)  # a speck whatever the largest: erased
            erased = True
            break
        if not erased:
            return x0, y0, w, h
    return None


def components_box(binary: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box of a uint8 mask's 8-connected components of at least max(2, 0.2 % of the largest + 1) pixels (all
    if there is one); None when none is kept."""
    n, _, stats = components(binary)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = areas >= max(2, int(0.002 * areas.max()) + 1) if n > 2 else areas > 0
    if not keep.any():
        return None
    boxes = stats[1:][keep]
    x0 = int(boxes[:, 0].min())
    y0 = int(boxes[:, 1].min())
    x1 = int((boxes[:, 0] + boxes[:, 2]).max())
    y1 = int((boxes[:, 1] + boxes[:, 3]).max())
    return x0, y0, x1 - x0, y1 - y0


def _crop_box(ink: np.ndarray, margin: float = 0.08, mask: np.ndarray | None = None
              ) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the ink's box plus a margin relative to the ink height, within the map; None if no ink.

    ``mask``: the ink's mask (bool, ``ink > INK_LEVEL``) when already made."""
    box = ink_box(ink) if mask is None else mask_box(mask)
    if box is None:
        return None
    x, y, w, h = box
    m = max(1, int(round(margin * h)))
    H, W = ink.shape
    return max(0, x - m), max(0, y - m), min(W, x + w + m), min(H, y + h + m)


def crop_to_ink(ink: np.ndarray, margin: float = 0.08) -> np.ndarray:
    """Crop the ink map to its ink plus a margin relative to the ink height."""
    box = _crop_box(ink, margin)
    if box is None:
        return ink[:0, :0]
    x0, y0, x1, y1 = box
    return ink[y0:y1, x0:x1]


def resize_to_height(ink: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Aspect-preserving resize to the model height (widths times ``spec.x_scale``), clamped to the width range."""
    interp = cv2.INTER_AREA if ink.shape[0] > spec.height else cv2.INTER_LINEAR
    return cv2.resize(ink, (input_width(ink.shape, spec), spec.height), interpolation=interp)


def input_width(shape: tuple[int, ...], spec: InputSpec) -> int:
    """The width ``resize_to_height`` gives a map of this (height, width)."""
    h, w = shape[:2]
    return min(max(int(round(w * spec.height / h * spec.x_scale)), spec.min_width), spec.max_width)


def prepare_ink(ink: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Ink map -> network input: crop to ink, resize to height (blank if there is no ink)."""
    cropped = crop_to_ink(ink)
    if cropped.size == 0:
        return np.zeros((spec.height, spec.min_width), dtype=np.float32)
    return resize_to_height(cropped, spec).astype(np.float32)


@dataclass(frozen=True)
class PreparedLine:
    """A crop's network input and where it came from, to place the recognized words back on the crop.

    The input is resized from ``cropped`` when first asked for: a line the recognizer reads at a guessed stretch is
    never resized as it is (0.25 ms of its preprocessing).
    """

    resized: np.ndarray | None  # the network input when given (else resized from ``cropped`` for ``spec``)
    box: tuple[int, int, int, int]  # x0, y0, x1, y1: the part of the (reduced) crop the tensor shows
    scale: tuple[float, float]  # crop pixels per reduced pixel, x and y (1 unless reduced to MAX_LINE_PIXELS)
    ink: np.ndarray  # bool (y1 - y0, x1 - x0): that part's ink
    cropped: np.ndarray | None = None  # float ink map of that part, which the tensor is resized from
    spec: InputSpec | None = None  # the spec ``cropped`` is resized for when the input was not given

    @cached_property
    def tensor(self) -> np.ndarray:
        """float32 (height, width): the network input."""
        if self.resized is not None:
            return self.resized
        assert self.cropped is not None and self.spec is not None, "no network input and nothing to resize"
        return resize_to_height(self.cropped, self.spec).astype(np.float32)

    @property
    def width(self) -> int:
        """The network input's width (known without resizing)."""
        if self.resized is not None or self.cropped is None or self.spec is None:
            return int(self.tensor.shape[1])
        return input_width(self.cropped.shape, self.spec)

    def stretched(self, spec: InputSpec) -> PreparedLine:
        """The same crop resized for ``spec`` (another ``x_scale``): what ``prepare_line_parts`` would give."""
        if self.cropped is None:
            return self
        return replace(self, resized=None, spec=spec)


def prepare_line(image: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Any image array of one word or line -> float32 (height, width) network input."""
    return prepare_line_parts(image, spec).tensor


def prepare_line_parts(image: np.ndarray, spec: InputSpec) -> PreparedLine:
    """``prepare_line``'s tensor with the box, scale and ink it was made from."""
    if image is None or getattr(image, "size", 0) == 0:
        raise ImageError("the image is empty")
    gray = to_gray(np.asarray(image))
    if min(gray.shape) < 2:
        raise ImageError(f"the image is too small ({gray.shape[1]}x{gray.shape[0]} pixels)")
    small = reduce_huge(gray)
    scale = gray.shape[1] / small.shape[1], gray.shape[0] / small.shape[0]
    ink = normalize_illumination(small)
    ink, mask = without_rules(ink, ink > INK_LEVEL)
    box = _crop_box(ink, mask=mask)
    if box is None:
        return PreparedLine(np.zeros((spec.height, spec.min_width), dtype=np.float32), (0, 0, 0, 0), scale,
                            np.zeros((0, 0), bool))
    x0, y0, x1, y1 = box
    cropped = ink[y0:y1, x0:x1]
    return PreparedLine(None, box, scale, mask[y0:y1, x0:x1].copy(), cropped, spec)


def reduce_huge(gray: np.ndarray, max_pixels: int = MAX_LINE_PIXELS) -> np.ndarray:
    """A copy reduced to at most ``max_pixels`` (bounded memory; the network sees 32 px high anyway)."""
    h, w = gray.shape
    if h * w <= max_pixels:
        return gray
    s = (max_pixels / (h * w)) ** 0.5
    return cv2.resize(gray, (max(2, int(w * s)), max(2, int(h * s))), interpolation=cv2.INTER_AREA)


def has_ink(tensor: np.ndarray) -> bool:
    """True if a prepared tensor holds any ink."""
    return bool((tensor > 0.4).any())


def pad_batch(tensors: list[np.ndarray], spec: InputSpec, width: int | None = None) -> np.ndarray:
    """Stack prepared tensors into (n, height, width, 1), right-padded with paper (0)."""
    widest = max(t.shape[1] for t in tensors)
    width = width or widest
    step = spec.width_step
    width = max(spec.min_width, -(-width // step) * step)
    batch = np.zeros((len(tensors), spec.height, width, 1), dtype=np.float32)
    for i, t in enumerate(tensors):
        batch[i, :, : t.shape[1], 0] = t[:, :width]
    return batch
