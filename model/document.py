"""Page preparation: bounded working copy, page-outline perspective correction, flattening, deskew.

``prepare_page(gray)`` returns a ``PreparedPage`` whose ink map is flat (shadows and uneven light divided
out), upright (deskewed) and at a bounded size, plus the 3x3 matrix that maps its pixels back to the
original image, so boxes found on the prepared page are reported in the user's coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from model.preprocess import components, normalize_illumination

#: The working copy's longest side; larger images are reduced (bounded memory and time).
MAX_SIDE = 2200
#: Ink-map threshold that makes the binary page.
INK_THRESHOLD = 0.4


@dataclass(frozen=True)
class PreparedPage:
    """A flattened, deskewed working copy of a page and how to map it back to the original."""

    ink: np.ndarray  # float32 (h, w) ink = 1, paper = 0
    flat: np.ndarray  # uint8 (h, w) the page's gray with the light flattened (paper ~ 255), for line crops
    binary: np.ndarray  # uint8 (h, w) 1 where ink, specks and ruled lines removed
    to_original: np.ndarray  # 3x3 float64: prepared (x, y, 1) -> original (x, y, w)
    angle: float  # degrees the page was rotated by to make it upright
    perspective: bool  # True when a page outline was found and straightened
    original_shape: tuple[int, int]

    def points_to_original(self, points: np.ndarray) -> np.ndarray:
        """Map prepared-page points (n, 2) to original-image points (n, 2)."""
        return map_points(points, self.to_original)

    def box_to_original(self, points: np.ndarray) -> tuple[int, int, int, int]:
        """Axis-aligned box (x, y, w, h) in the original image around prepared-page points (n, 2)."""
        if len(points) == 0:
            return 0, 0, 0, 0
        mapped = self.points_to_original(points)
        h, w = self.original_shape
        x0, y0 = np.floor(mapped.min(axis=0))
        x1, y1 = np.ceil(mapped.max(axis=0))
        x0, x1 = int(np.clip(x0, 0, w - 1)), int(np.clip(x1, 0, w - 1))
        y0, y1 = int(np.clip(y0, 0, h - 1)), int(np.clip(y1, 0, h - 1))
        return x0, y0, x1 - x0 + 1, y1 - y0 + 1


def map_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Points (n, 2) mapped through a 3x3 perspective ``matrix``."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, matrix).reshape(-1, 2)


def _scale_matrix(s: float) -> np.ndarray:
    return np.diag([s, s, 1.0])


def reduce(gray: np.ndarray, max_side: int = MAX_SIDE) -> tuple[np.ndarray, float]:
    """A copy whose longest side is at most ``max_side`` and the scale factor applied."""
    h, w = gray.shape
    s = min(1.0, max_side / max(h, w))
    if s >= 1.0:
        return gray, 1.0
    size = (max(1, int(round(w * s))), max(1, int(round(h * s))))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), s


def _order_corners(quad: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    pts = quad.reshape(4, 2).astype(np.float32)
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32)


def _quad_of(mask: np.ndarray) -> np.ndarray | None:
    """The largest outer contour of ``mask`` if it is a quadrilateral covering 20-95 % of the image."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    total = mask.shape[0] * mask.shape[1]
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:3]:
        hull = cv2.convexHull(contour)
        area = cv2.contourArea(hull)
        if not 0.2 * total <= area <= 0.95 * total:
            continue
        quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(quad) == 4 and cv2.contourArea(quad) >= 0.85 * area:
            return quad
    return None


def _sheet_contrast(small: np.ndarray, quad: np.ndarray) -> float:
    """Brightness just inside minus just outside the quad, on its weakest side (a sheet on a desk: large)."""
    pts = quad.reshape(4, 2).astype(np.float64)
    centre = pts.mean(axis=0)
    d = 0.02 * max(small.shape)
    h, w = small.shape
    worst = np.inf
    for i in range(4):
        t = np.linspace(0.1, 0.9, 24)[:, None]
        along = pts[i] + t * (pts[(i + 1) % 4] - pts[i])
        towards = centre - along
        towards /= np.maximum(np.linalg.norm(towards, axis=1, keepdims=True), 1e-9)
        inner, outer = along + d * towards, along - d * towards
        ok = (outer[:, 0] >= 0) & (outer[:, 0] < w) & (outer[:, 1] >= 0) & (outer[:, 1] < h)
        if ok.sum() < 6:
            return 0.0  # the sheet runs out of the photo on this side: not an outline
        vi = small[inner[ok, 1].astype(int).clip(0, h - 1), inner[ok, 0].astype(int).clip(0, w - 1)]
        vo = small[outer[ok, 1].astype(int), outer[ok, 0].astype(int)]
        worst = min(worst, float(np.median(vi.astype(np.float64) - vo)))
    return worst


def find_page_outline(gray: np.ndarray) -> np.ndarray | None:
    """The four corners of a sheet on a darker background (a photo of a page), or None.

    Candidates are the bright region above the desk's level and the outline of the sheet's edges; one is
    kept only if the sheet is clearly brighter than its surround all along its border.
    """
    h, w = gray.shape
    f = 500.0 / max(h, w)
    small = cv2.resize(gray, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    sh, sw = small.shape
    b = max(2, int(0.03 * max(sh, sw)))
    if sh <= 2 * b or sw <= 2 * b:
        return None
    frame = np.concatenate([small[:b].ravel(), small[-b:].ravel(), small[:, :b].ravel(), small[:, -b:].ravel()])
    desk = float(np.median(frame))
    paper = float(np.percentile(small[b:-b, b:-b], 90))
    if paper - desk < 50:
        return None  # no darker surround: a scan, or a sheet filling the photo
    level = desk + 0.3 * (paper - desk)
    bright = cv2.morphologyEx(((small > level) * 255).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    edges = cv2.dilate(cv2.Canny(small, 20, 60), np.ones((3, 3), np.uint8))
    best, best_contrast = None, 20.0
    for mask in (edges, bright):
        quad = _quad_of(mask)
        contrast = _sheet_contrast(small, quad) if quad is not None else 0.0
        if contrast > best_contrast:
            best, best_contrast = quad, contrast
    return None if best is None else _order_corners(best) / f


def straighten(gray: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Warp the sheet inside ``corners`` to an upright rectangle; returns it and the warp matrix."""
    tl, tr, br, bl = corners
    width = int(round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    height = int(round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    warped = cv2.warpPerspective(gray, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    return warped, matrix.astype(np.float64)


def flatten_light(gray: np.ndarray) -> np.ndarray:
    """Divide the gray image by its paper brightness (shadows, uneven light) -> uint8, paper ~ 255, ink tones kept."""
    h, w = gray.shape
    f = max(1.0, min(h, w) / 150.0)
    small = cv2.resize(gray, (max(1, int(w / f)), max(1, int(h / f))), interpolation=cv2.INTER_AREA)
    k = max(3, int(min(small.shape) // 12) | 1)
    paper = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    paper = cv2.erode(paper, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    paper = cv2.blur(paper, (k, k)).astype(np.float32)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(gray.astype(np.float32) * 255.0 / np.maximum(paper, 1.0), 0, 255).astype(np.uint8)


def estimate_skew(binary: np.ndarray, max_angle: float = 8.0) -> float:
    """Angle (degrees) that makes text lines horizontal: the sharpest horizontal ink projection."""
    ys, xs = np.nonzero(binary)
    if len(xs) < 50:
        return 0.0
    if len(xs) > 60000:
        keep = np.random.default_rng(0).choice(len(xs), 60000, replace=False)
        ys, xs = ys[keep], xs[keep]
    xs = xs.astype(np.float64) - binary.shape[1] / 2
    ys = ys.astype(np.float64)

    def sharpness(angle: float) -> float:
        t = np.deg2rad(angle)
        proj = ys * np.cos(t) - xs * np.sin(t)
        hist = np.bincount((proj - proj.min()).astype(np.int64))
        return float(np.sum(hist.astype(np.float64) ** 2))

    coarse = np.arange(-max_angle, max_angle + 1e-6, 0.5)
    best = float(coarse[np.argmax([sharpness(a) for a in coarse])])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-6, 0.1)
    return float(fine[np.argmax([sharpness(a) for a in fine])])


def rotate(image: np.ndarray, angle: float, border: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Rotate by ``angle`` degrees (counter-clockwise on screen), enlarging the canvas; returns image, 3x3."""
    h, w = image.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(h * sin + w * cos)), int(np.ceil(h * cos + w * sin))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=border)
    return out, np.vstack([m, [0.0, 0.0, 1.0]])


FEW_SPECKS = 64  # up to this many specks are erased one by one


def remove_specks(binary: np.ndarray, min_area: int) -> np.ndarray:
    """Drop connected components smaller than ``min_area`` pixels (noise, JPEG artefacts)."""
    n, labels, stats = components(binary)
    if n <= 1:
        return binary
    keep = np.zeros(n, np.uint8)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
    if binary.dtype == np.uint8 and int(binary.max()) == 1:
        drop = np.flatnonzero(keep[1:] == 0) + 1
        if len(drop) == 0:
            return binary  # nothing to drop: the same 0/1 mask
        if len(drop) <= FEW_SPECKS:  # erase them inside their boxes: cheaper than relabelling every pixel
            out = binary.copy()
            for i in drop.tolist():
                x, y, w, h = stats[i, :4].tolist()
                part = out[y: y + h, x: x + w]
                part[labels[y: y + h, x: x + w] == i] = 0
            return out
    return keep[labels]


def binary_dilate(binary: np.ndarray) -> np.ndarray:
    """The mask grown by one pixel (keeps anti-aliased stroke edges)."""
    return cv2.dilate(binary, np.ones((3, 3), np.uint8))


def stroke_width(binary: np.ndarray) -> float:
    """Typical stroke thickness in pixels: twice the ink area over its edge length."""
    count = _count if binary.dtype == np.uint8 and binary.ndim == 2 and int(binary.max(initial=0)) <= 1 else _sum
    area = count(binary)
    if area == 0:
        return 0.0
    edges = area - count(cv2.erode(binary, np.ones((3, 3), np.uint8)))
    return 2.0 * area / max(edges, 1)


def _count(mask: np.ndarray) -> int:
    return cv2.countNonZero(mask)  # the sum of a 0/1 mask, 8x faster than numpy's


def _sum(mask: np.ndarray) -> int:
    return int(mask.sum())


def _cross_survivors(binary: np.ndarray, size: int) -> np.ndarray | None:
    """Pixels with ink all along the ``size``-long horizontal and vertical runs through them (None if none).

    Only these can survive an erosion by a size x size ellipse (which holds that cross).
    """
    across = cv2.erode(binary, cv2.getStructuringElement(cv2.MORPH_RECT, (size, 1)))
    if not cv2.countNonZero(across):
        return None
    down = cv2.erode(binary, cv2.getStructuringElement(cv2.MORPH_RECT, (1, size)))
    both = cv2.bitwise_and(across, down)
    return both if cv2.countNonZero(both) else None


def _survives_cross(binary: np.ndarray, size: int) -> bool:
    """Whether some pixel has ink all along the ``size``-long horizontal and vertical runs through it.

    Necessary for surviving an erosion by a size x size ellipse (which holds that cross), so a cheap
    test that the ellipse opening is empty when it is False.
    """
    return _cross_survivors(binary, size) is not None


MAX_CANDIDATES = 20_000  # beyond this many cross survivors, OpenCV's erosion is the faster test


def _eroded_by_ellipse(binary: np.ndarray, size: int, candidates: np.ndarray) -> np.ndarray | None:
    """OpenCV's erosion of a 0/1 mask by a size x size ellipse (the border counts as ink, as in cv2.erode), computed
    at the cross survivors only (no other pixel can survive it); None when nothing survives."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    if cv2.countNonZero(candidates) > MAX_CANDIDATES:
        eroded = cv2.erode(binary, kernel)
        return eroded if eroded.any() else None
    xs, ys = cv2.findNonZero(candidates).reshape(-1, 2).T
    dy, dx = np.nonzero(kernel)
    y = ys[:, None] + (dy - size // 2)[None, :]  # (candidates, kernel pixels)
    x = xs[:, None] + (dx - size // 2)[None, :]
    h, w = binary.shape
    inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
    ink = binary[np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)] > 0
    survive = (ink | ~inside).all(axis=1)
    if not survive.any():
        return None
    eroded = np.zeros_like(binary)
    eroded[ys[survive], xs[survive]] = 1
    return eroded


def _survives_ellipse(binary: np.ndarray, size: int, candidates: np.ndarray) -> bool:
    """Whether OpenCV's erosion by a size x size ellipse leaves any ink, tested at the cross survivors only."""
    return _eroded_by_ellipse(binary, size, candidates) is not None


def _dilated_by_ellipse(eroded: np.ndarray, size: int) -> tuple[np.ndarray, tuple[slice, slice]]:
    """``cv2.dilate(eroded, ellipse)`` (i.e. with the erosion: the opening), computed only in the window it can
    reach: that window of it and the window's slices."""
    ys, xs = np.nonzero(eroded.any(axis=1))[0], np.nonzero(eroded.any(axis=0))[0]
    r = size // 2
    h, w = eroded.shape
    window = (slice(max(0, ys[0] - r), min(h, ys[-1] + r + 1)), slice(max(0, xs[0] - r), min(w, xs[-1] + r + 1)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.dilate(np.ascontiguousarray(eroded[window]), kernel), window


def remove_dark_areas(binary: np.ndarray) -> np.ndarray:
    """Drop components that are mostly far thicker than pen strokes (a desk around the sheet, a gutter, a finger).

    ``binary`` is a 0/1 uint8 mask.
    """
    sw = stroke_width(binary)
    if sw <= 0:
        return binary
    size = max(7, int(3.5 * sw)) | 1
    candidates = _cross_survivors(binary, size)
    eroded = None if candidates is None else _eroded_by_ellipse(binary, size, candidates)
    if eroded is None:
        return binary  # no pixel whose size x size ellipse is all ink: nothing thick
    thick, window = _dilated_by_ellipse(eroded, size)  # the opening by the ellipse (zero outside the window)
    n, labels, stats = components(binary)
    total = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    solid = np.bincount(labels[window][thick > 0], minlength=n).astype(np.float64)
    drop = (solid > 0.4 * np.maximum(total, 1)) & (total > 4 * size * size)
    # long straight strokes: the sheet's edges, folds, rules at an angle (area ~ length x stroke width)
    h, w = binary.shape
    bw, bh = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    long = np.maximum(bw, bh) > 0.3 * max(h, w)  # long for the image: a line crop's letters span its height
    drop |= long & (total < 3.0 * max(sw, 1.0) * np.hypot(bw, bh))
    drop[0] = False
    if not drop.any():
        return binary
    out = binary.copy()
    out[drop[labels]] = 0
    return out


def _has_run(mask: np.ndarray, length: int) -> bool:
    """Whether some row of a 0/1 mask holds ``length`` consecutive ink pixels (doubling runs: cheap when none)."""
    run, covered = mask.astype(bool, copy=False), 1  # run[y, x]: ink all along [x, x + covered)
    while covered < length:
        step = min(covered, length - covered)
        run = run[:, :-step] & run[:, step:]
        covered += step
        if not run.any():
            return False
    return bool(run.any())


RULE_FAINT = 0.15  # ink level at which ruled lines are looked for
RULE_MIN, RULE_SPAN = 375, 0.8  # a rule runs a quarter of a page's width, and this much of a narrower image's


def remove_ruling(binary: np.ndarray, ink: np.ndarray | None = None, faint: float = RULE_FAINT,
                  source: np.ndarray | None = None) -> np.ndarray:
    """Erase ruled lines and margin lines: long thin horizontal or vertical straight runs.

    Runs are looked for in the ink map at a low level (``faint``) when given, so light rules that the
    binarisation broke into dashes are still found whole; ``source`` gives that 0/1 mask ready-made.
    """
    h, w = binary.shape
    if source is None:
        source = (ink > faint).astype(np.uint8) if ink is not None else binary
    out = binary.copy()
    bridge = max(9, min(h, w) // 100)
    across = max(w // 4, min(int(RULE_SPAN * w), RULE_MIN))  # on a line crop, a quarter is one bridged word
    for length, kernel, gap in ((across, (max(across, 1), 1), (bridge, 1)), (h // 4, (1, max(h // 4, 1)), (1, bridge))):
        if length < 40:
            continue
        joined = cv2.morphologyEx(source, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, gap))
        if not _has_run(joined if kernel[1] == 1 else joined.T, min(length - length // 2, length // 2 + 1)):
            continue  # no run long enough to survive the opening (even one touching the border): no rule
        lines = cv2.morphologyEx(joined, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        if lines.any():
            thin = cv2.morphologyEx(lines, cv2.MORPH_OPEN, np.ones((7, 7), np.uint8))
            lines[thin > 0] = 0  # thick dark areas (shadows, photos) are not rules
            out[cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0] = 0
    return out


def _ink_and_binary(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ink map (ink = 1) and binary mask (dark areas removed) of a reduced, upright gray image."""
    ink, binary = _unmasked_ink_and_binary(small)
    return ink * binary_dilate(binary), binary


#: Strokes are too thin for the median filter when it keeps less than this share of the ink (Kaggle training crops
#: TRAIN_00001-01000: median 0.78, 95th percentile 0.89; seed-1 composed pages: at least 0.94).
THIN_STROKES = 0.92


def _unmasked_ink_and_binary(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """As ``_ink_and_binary``, the ink map not yet limited to the grown binary mask.

    The ink is found on a median-filtered copy (noise and grain gone), and also in the image itself when the filter
    erases much of it: one- or two-pixel pen strokes of a small scan or a form field's crop.
    """
    if min(small.shape) < 3:
        ink = normalize_illumination(small)
        return ink, remove_dark_areas((ink > INK_THRESHOLD).view(np.uint8))
    ink = normalize_illumination(cv2.medianBlur(small, 3))
    binary = (ink > INK_THRESHOLD).view(np.uint8)
    raw = normalize_illumination(small)
    raw_binary = (raw > INK_THRESHOLD).view(np.uint8)
    if _count(cv2.bitwise_and(binary, raw_binary)) < THIN_STROKES * _count(raw_binary):
        ink = np.maximum(ink, raw, out=ink)
        binary = (ink > INK_THRESHOLD).view(np.uint8)
    return ink, remove_dark_areas(binary)


def line_mask(gray: np.ndarray, max_side: int = MAX_SIDE) -> tuple[np.ndarray, np.ndarray]:
    """A line crop's binary ink mask and the 3x3 matrix from its pixels to ``gray``'s.

    The same mask as ``prepare_page(gray, deskew=False, find_outline=False).binary``, without the flattened
    gray that only page segmentation needs.
    """
    small, s = reduce(gray, max_side)
    ink, binary = _unmasked_ink_and_binary(small)
    # (ink * grown mask > faint) without the float product: ink is in [0, 1], the grown mask 0 or 1
    source = cv2.bitwise_and((ink > RULE_FAINT).view(np.uint8), binary_dilate(binary))
    return remove_specks(remove_ruling(binary, source=source), 6), np.linalg.inv(_scale_matrix(s))


def prepare_page(gray: np.ndarray, max_side: int = MAX_SIDE, deskew: bool = True,
                 find_outline: bool = True) -> PreparedPage:
    """Reduce, straighten a photographed sheet, flatten the light, binarise, deskew, remove rules."""
    original_shape = gray.shape[:2]
    small, s = reduce(gray, max_side)
    to_work = _scale_matrix(s)
    perspective = False
    if find_outline:
        corners = find_page_outline(small)
        if corners is not None:
            small, warp = straighten(small, corners)
            to_work = warp @ to_work
            perspective = True
    flat = flatten_light(small)
    ink, binary = _ink_and_binary(small)
    angle = estimate_skew(remove_specks(binary, 4)) if deskew else 0.0
    if abs(angle) >= 0.2:
        ink, rot = rotate(ink, angle)
        flat, _ = rotate(flat, angle, border=255)
        to_work = rot @ to_work
        binary = (ink > INK_THRESHOLD).astype(np.uint8)
    binary = remove_specks(remove_ruling(binary, ink), 6)
    return PreparedPage(ink, flat, binary, np.linalg.inv(to_work), angle, perspective, original_shape)
