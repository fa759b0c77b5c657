"""Text-line and word segmentation of a binary, upright page (see model.document.prepare_page).

Lines: the ink is smoothed with an anisotropic Gaussian sized from the line pitch (the scale-space idea of
Manmatha & Rothfuss, applied to lines); the ridges of the smoothed map, traced column by column, are the
lines' centre curves, so slightly rotated and curved lines are followed. Every connected component of ink
goes to the nearest centre curve; a component that spans two lines (a descender touching an ascender) is
split between them pixel by pixel. Ink in one band (a line image: no empty row between two stacked,
line-shaped blocks) is one line, its pitch taken from the band. Words: gaps in a line's column profile wider
than a threshold from the line's x-height.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from model.document import stroke_width

#: Smoothing of the ink for line finding, as fractions of the line pitch (chosen on generated pages).
SIGMA_X = 0.8
SIGMA_Y = 0.11
#: Word blobs: horizontal smoothing in x-heights and the blob level (chosen on IAM training-group lines).
WORD_SPREAD = 0.4
WORD_LEVEL = 0.3
#: A lone line's pitch in ink-band heights (the band holds 96 % of its ink).
BAND_PITCH = 1.3


@dataclass
class LineInk:
    """One text line on the prepared page: its box (x, y, w, h), ink pixels and word boxes."""

    box: tuple[int, int, int, int]
    ys: np.ndarray
    xs: np.ndarray
    words: list[tuple[int, int, int, int]] = field(default_factory=list)

    def mask(self) -> np.ndarray:
        """The line's ink as a uint8 mask the size of its box."""
        x, y, w, h = self.box
        m = np.zeros((h, w), np.uint8)
        m[self.ys - y, self.xs - x] = 1
        return m


def component_height(stats: np.ndarray) -> float:
    """Typical height of a character-sized ink component (median over the non-tiny ones)."""
    if len(stats) == 0:
        return 0.0
    areas = stats[:, cv2.CC_STAT_AREA]
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    keep = areas >= max(6.0, float(np.percentile(areas, 40)))
    return float(np.median(heights[keep])) if keep.any() else float(np.median(heights))


def _extent(weights: np.ndarray, share: float = 0.02) -> tuple[int, int]:
    """First and last index holding the middle ``1 - 2 * share`` of the weights."""
    mass = np.cumsum(weights) / max(float(weights.sum()), 1e-9)
    return int(np.searchsorted(mass, share)), int(np.searchsorted(mass, 1 - share))


def _under(cols: np.ndarray, other: np.ndarray, reach: int) -> bool:
    """Whether most of one block's ink (its column sums) lies in the other's columns (gaps up to ``reach`` bridged)."""
    covered = cv2.dilate((other > 0).astype(np.uint8).reshape(1, -1), np.ones((1, reach), np.uint8)).ravel()
    return bool((cols * covered).sum() >= 0.5 * cols.sum())


def _separate_lines(cols: tuple[np.ndarray, np.ndarray], rows: tuple[np.ndarray, np.ndarray],
                    char_height: float) -> bool:
    """Two ink blocks, one over the other (their column and row sums), are separate lines: one lies under the
    other's writing and the lighter is line-shaped.

    Side by side (a word written lower than the last) or a lone piece under a letter (a detached descender)
    are parts of one line.
    """
    reach = max(1, int(char_height)) | 1
    if not (_under(cols[0], cols[1], reach) or _under(cols[1], cols[0], reach)):
        return False
    light = 0 if rows[0].sum() < rows[1].sum() else 1
    (c0, c1), (r0, r1) = _extent(cols[light]), _extent(rows[light])
    return c1 - c0 >= 1.2 * (r1 - r0 + 1)


def band_extent(binary: np.ndarray, char_height: float) -> float | None:
    """Height of the rows holding 2-98 % of the ink when it lies in one band (one line), else None.

    Two bands: a nearly empty row (under a fifth of the lower side's peak) with at least 5 % of the ink on
    each side, and the two sides separate lines (``_separate_lines``).
    """
    rows = binary.sum(axis=1).astype(np.float64)
    if rows.sum() <= 0:
        return None
    profile = cv2.GaussianBlur(rows[:, None], (1, 0), sigmaX=0.1, sigmaY=max(1.0, char_height / 8)).ravel()
    mass = np.cumsum(profile) / profile.sum()
    above = np.maximum.accumulate(profile)
    below = np.maximum.accumulate(profile[::-1])[::-1]
    valley = (profile < 0.2 * np.minimum(above, below)) & (mass > 0.05) & (mass < 0.95)
    edges = np.diff(np.concatenate([[0], valley.astype(np.int8), [0]]))
    columns = binary.sum(axis=0).astype(np.float64)
    for a, b in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]):
        y = (a + b) // 2
        top = binary[:y].sum(axis=0).astype(np.float64)
        if _separate_lines((top, columns - top), (rows[:y], rows[y:]), char_height):
            return None
    lo, hi = _extent(rows)
    cols_lo, cols_hi = _extent(columns)
    return float(hi - lo + 1) if hi - lo + 1 < 0.5 * (cols_hi - cols_lo + 1) else None  # a line is wide


def line_pitch(binary: np.ndarray, char_height: float) -> float:
    """Distance between text lines: the first strong peak of the row profile's autocorrelation."""
    fallback = 2.2 * char_height
    profile = binary.sum(axis=1).astype(np.float64)
    profile -= profile.mean()
    n = len(profile)
    lo, hi = int(max(3, 0.9 * char_height)), int(min(n // 2, 6 * char_height))
    if hi <= lo + 2 or not profile.any():
        return fallback
    ac = np.correlate(profile, profile, mode="full")[n - 1:]
    ac /= ac[0]
    seg = ac[lo:hi]
    peaks = np.nonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:]))[0] + 1
    if len(peaks) == 0 or seg[peaks].max() < 0.15:
        return fallback
    # the first strong peak: later ones are multiples of the pitch
    first = peaks[seg[peaks] >= 0.6 * seg[peaks].max()][0]
    return float(lo + first)


def _ridge_seeds(smooth: np.ndarray, threshold: float) -> list[np.ndarray]:
    """Ridge points (local maxima along y above ``threshold``) grouped into connected curves."""
    up = np.vstack([smooth[:1] * 0, smooth[:-1]])
    down = np.vstack([smooth[1:], smooth[-1:] * 0])
    ridge = ((smooth >= up) & (smooth > down) & (smooth > threshold)).astype(np.uint8)
    ridge = np.asarray(cv2.dilate(ridge, np.ones((3, 3), np.uint8)), np.uint8)
    n, labels = cv2.connectedComponents(ridge, connectivity=8)
    ys, xs = np.nonzero(labels)  # row-major, as np.nonzero(labels == i) gives each component's points
    comp = labels[ys, xs]
    order = np.argsort(comp, kind="stable")
    points = np.stack([xs, ys], axis=1)[order]
    ends = np.cumsum(np.bincount(comp, minlength=n)[1:])
    return [p for p in np.split(points, ends[:-1])] if n > 1 else []


def _centre_curve(points: np.ndarray, width: int, weights: np.ndarray) -> np.ndarray:
    """Per-column y of a seed's ridge (weighted mean), NaN outside its x-range."""
    curve = np.full(width, np.nan)
    xs, ys = points[:, 0], points[:, 1]
    sums = np.bincount(xs, weights=ys * weights, minlength=width)
    norm = np.bincount(xs, weights=weights, minlength=width)
    have = norm > 0
    curve[have] = sums[have] / norm[have]
    return curve


def _merge_curves(curves: list[np.ndarray], pitch: float) -> list[np.ndarray]:
    """Join curves that are the same line: overlapping at about the same height, or end to end."""
    curves = sorted(curves, key=lambda c: -np.count_nonzero(~np.isnan(c)))
    merged: list[np.ndarray] = []
    for c in curves:
        target = None
        cx = np.nonzero(~np.isnan(c))[0]
        for m in merged:
            both = ~np.isnan(c) & ~np.isnan(m)
            if both.any():
                if np.nanmean(np.abs(c[both] - m[both])) < 0.4 * pitch:
                    target = m
                    break
                continue
            mx = np.nonzero(~np.isnan(m))[0]
            # end to end: compare heights at the closest ends
            if cx[0] > mx[-1]:
                dy, gap = abs(c[cx[0]] - m[mx[-1]]), cx[0] - mx[-1]
            else:
                dy, gap = abs(c[cx[-1]] - m[mx[0]]), mx[0] - cx[-1]
            if dy < 0.3 * pitch and gap < 2.5 * pitch:
                target = m
                break
        if target is None:
            merged.append(c.copy())
        else:
            fill = np.isnan(target) & ~np.isnan(c)
            target[fill] = c[fill]
    return merged


def _extend(curve: np.ndarray, reach: float) -> np.ndarray:
    """Fill a curve's gaps by interpolation and extend it by ``reach`` columns each side (inf beyond)."""
    xs = np.nonzero(~np.isnan(curve))[0]
    out = np.full(len(curve), np.inf)
    lo, hi = max(0, int(xs[0] - reach)), min(len(curve), int(xs[-1] + reach) + 1)
    out[lo:hi] = np.interp(np.arange(lo, hi), xs, curve[xs])
    return out


def find_centre_curves(binary: np.ndarray, pitch: float) -> list[np.ndarray]:
    """Centre curves (y per column, inf where the line is absent) of the text lines, top to bottom."""
    h, w = binary.shape
    f = max(1.0, pitch / 12.0)
    sw, sh = max(1, int(round(w / f))), max(1, int(round(h / f)))
    density = cv2.resize(binary.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    p = pitch / f
    smooth = cv2.GaussianBlur(density, (0, 0), sigmaX=SIGMA_X * p, sigmaY=SIGMA_Y * p)
    peak = float(np.percentile(smooth[smooth > 0], 99.5)) if (smooth > 0).any() else 0.0
    if peak <= 0:
        return []
    seeds = _ridge_seeds(smooth, 0.12 * peak)
    curves = []
    for pts in seeds:
        span = pts[:, 0].max() - pts[:, 0].min()
        strength = smooth[pts[:, 1], pts[:, 0]]
        if span < 0.3 * p and strength.max() < 0.35 * peak:
            continue
        curves.append(_centre_curve(pts, sw, strength) * f + f / 2)
    # back to full-resolution columns
    full = []
    cols = (np.arange(w) + 0.5) / f - 0.5
    for c in _merge_curves(curves, pitch):
        xs = np.nonzero(~np.isnan(c))[0]
        if len(xs) == 0:
            continue
        curve = np.full(w, np.nan)
        inside = (cols >= xs[0] - 0.5) & (cols <= xs[-1] + 0.5)
        curve[inside] = np.interp(cols[inside], xs, c[xs])
        if np.isnan(curve).all():
            continue
        full.append(_extend(curve, 1.0 * pitch))
    full.sort(key=lambda c: float(np.median(c[np.isfinite(c)])))
    return full


def _nearest_curve(ys: np.ndarray, xs: np.ndarray, curves: np.ndarray,
                   budget: int = 4_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Index of and distance to the nearest centre curve for each pixel (``budget`` distances at a time).

    The pixels are shared among as many threads as OpenCV may use here (numpy lets go of the GIL meanwhile):
    the window's process has its cores to itself while it segments a page, a worker process uses one.
    """
    threads = max(1, cv2.getNumThreads())
    chunk = max(1024, min(budget // max(1, len(curves)), -(-len(ys) // threads)))  # bounded memory
    idx = np.empty(len(ys), np.int32)
    dist = np.empty(len(ys), np.float32)

    def part(s: int) -> None:
        d = np.abs(curves[:, xs[s: s + chunk]] - ys[None, s: s + chunk]).astype(np.float32)
        idx[s: s + chunk] = np.argmin(d, axis=0)
        dist[s: s + chunk] = d[idx[s: s + chunk], np.arange(d.shape[1])]

    starts = range(0, len(ys), chunk)
    if threads > 1 and len(starts) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(part, starts))
    else:
        for s in starts:
            part(s)
    return idx, dist


Components = tuple[int, np.ndarray, np.ndarray]  # cv2.connectedComponentsWithStats(binary, connectivity=8)[:3]


def ink_components(binary: np.ndarray) -> Components:
    """The 8-connected components of a binary page: their number, label image and statistics."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    return n, labels, stats


def assign_ink(binary: np.ndarray, curves: list[np.ndarray], pitch: float,
               components: Components | None = None) -> list[LineInk]:
    """Give every ink component to its line; split components that clearly span two lines."""
    if not curves:
        return []
    n, labels, stats = components or ink_components(binary)
    ys, xs = np.nonzero(labels)
    if len(ys) == 0:
        return []
    comp = labels[ys, xs]
    stack = np.stack(curves)
    line, dist = _nearest_curve(ys, xs, stack)
    k = len(curves)
    counts = np.bincount(comp * k + line, minlength=n * k).reshape(n, k)
    owner = np.argmax(counts, axis=1)
    total = counts.sum(axis=1)
    share = counts / np.maximum(total, 1)[:, None]
    second = np.sort(share, axis=1)[:, -2] if k > 1 else np.zeros(n)
    spans = stats[:, cv2.CC_STAT_HEIGHT] > 1.2 * pitch
    split = spans & (second > 0.2)
    final = np.where(split[comp], line, owner[comp])
    near = np.isfinite(dist)
    # components far from every line (stray marks in a margin) are dropped
    mean_dist = np.bincount(comp, weights=np.where(near, dist, 1e6), minlength=n) / np.maximum(total, 1)
    # tall thin strokes across several lines are margin lines or folds, not writing
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    tall = (heights > 2.5 * pitch) & (widths < 0.2 * heights)
    keep = (mean_dist[comp] < 1.5 * pitch) & ~tall[comp]
    lines = []
    for i in range(k):
        sel = keep & (final == i)
        if not sel.any():
            continue
        ly, lx = ys[sel], xs[sel]
        box = (int(lx.min()), int(ly.min()), int(lx.max() - lx.min() + 1), int(ly.max() - ly.min() + 1))
        lines.append(LineInk(box, ly, lx))
    return lines


def x_height(mask: np.ndarray) -> float:
    """A line's core height: rows whose ink density is at least half the densest row's."""
    profile = mask.sum(axis=1).astype(np.float64)
    if not profile.any():
        return 0.0
    return float(max(1, int(np.count_nonzero(profile >= 0.5 * profile.max()))))


def gaussian_blur_f32(image: np.ndarray, sigma_x: float, sigma_y: float) -> np.ndarray:
    """``cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigma_x, sigma_y)`` without the float copy.

    The same kernels as OpenCV builds for a float image (+-4 sigma), applied by ``sepFilter2D`` straight from
    the 8-bit image: the same result, a third less time. (OpenCV's 8-bit row filter for a 5-tap kernel adds
    in another order: there the image is converted first, to stay bit-identical.)
    """
    h, w = image.shape[:2]

    def kernel(sigma: float, length: int) -> np.ndarray:
        size = 1 if length == 1 else int(np.rint(sigma * 8 + 1)) | 1  # as OpenCV's createGaussianKernels
        return cv2.getGaussianKernel(size, sigma, cv2.CV_32F)

    kx, ky = kernel(sigma_x, w), kernel(sigma_y, h)
    source = image.astype(np.float32) if len(kx) <= 5 else image
    return cv2.sepFilter2D(source, cv2.CV_32F, kx, ky)


def split_words(mask: np.ndarray, spread: float = WORD_SPREAD, level: float = WORD_LEVEL
                ) -> list[tuple[int, int, int, int]]:
    """Word boxes (x, y, w, h) in a line mask: blobs of the ink smoothed along the line (scale-space words).

    The mask is blurred with a Gaussian ``spread`` x-heights wide and half an x-height tall (Manmatha &
    Rothfuss's anisotropic filter); column runs where the blur exceeds ``level`` of its peak are words.
    """
    cols = np.asarray(mask.any(axis=0))
    if not cols.any():
        return []
    xh = x_height(mask)
    peaks = gaussian_blur_f32(mask, max(0.5, spread * xh), max(0.5, 0.5 * xh)).max(axis=0)  # per column
    on = peaks > level * peaks.max()
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    words = []
    for a, b in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]):
        ink_cols = np.nonzero(cols[a:b])[0]
        if len(ink_cols) == 0:
            continue
        x0, x1 = a + ink_cols[0], a + ink_cols[-1]
        rows = np.nonzero(mask[:, x0: x1 + 1].any(axis=1))[0]
        words.append((int(x0), int(rows[0]), int(x1 - x0 + 1), int(rows[-1] - rows[0] + 1)))
    return words


def _vertical_gap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Vertical distance between two boxes (negative when they overlap), inf if they share no columns."""
    if a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0]:
        return np.inf
    return max(a[1], b[1]) - min(a[1] + a[3], b[1] + b[3])


def merge_fragments(lines: list[LineInk], pitch: float, share: float = 0.15) -> list[LineInk]:
    """Give small pieces found between lines (a stray descender, a detached accent) to the line they touch."""
    if len(lines) < 2:
        return lines
    sizes = np.array([len(ln.ys) for ln in lines])
    typical = float(np.median(sizes))
    out = list(lines)
    for frag in sorted(lines, key=lambda ln: len(ln.ys)):
        if len(frag.ys) >= share * typical or frag.box[2] > 2 * pitch or len(out) < 2:
            continue
        others = [ln for ln in out if ln is not frag]
        gaps = [_vertical_gap(frag.box, ln.box) for ln in others]
        k = int(np.argmin(gaps))
        if gaps[k] > 0.3 * pitch:
            continue
        host = others[k]
        ys, xs = np.concatenate([host.ys, frag.ys]), np.concatenate([host.xs, frag.xs])
        box = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
        merged = LineInk(box, ys, xs)
        out = [merged if ln is host else ln for ln in out if ln is not frag]
    return out


#: A dash is one stroke thick in this share of its columns (a low word's letters are taller: "me", "on").
DASH_COLUMNS = 0.9
#: ... at most this many stroke widths of ink in such a column (seed-1 pages: rule dashes <= 1.44, words >= 1.67).
DASH_THICKNESS = 1.5


def flat_pieces(labels: np.ndarray, stats: np.ndarray, char_height: float, stroke: float) -> np.ndarray:
    """Per component: True for flat single-stroke pieces (dashes of broken or slanted ruled lines, hyphens).

    Flat, long and thin on average, and one stroke thick in nearly every column: a low written word ("me",
    "on", "we") has letters' upstrokes across its height, a dash has none.
    """
    widths = stats[:, cv2.CC_STAT_WIDTH]
    thickness = stats[:, cv2.CC_STAT_AREA] / np.maximum(widths, 1)  # mean ink per column: ~stroke for a dash
    flat = (stats[:, cv2.CC_STAT_HEIGHT] <= max(3.0, 0.5 * char_height)) & (widths >= 0.8 * char_height) & \
        (thickness <= 1.6 * max(1.0, stroke))
    flat[0] = False
    for i in np.flatnonzero(flat):
        x, y, w, h = (int(v) for v in stats[i, :4])
        columns = np.count_nonzero(labels[y: y + h, x: x + w] == i, axis=0)
        flat[i] = np.quantile(columns, DASH_COLUMNS) <= DASH_THICKNESS * max(1.0, stroke)
    return flat


def drop_rule_dashes(lines: list[LineInk], flat_mask: np.ndarray, char_height: float) -> list[LineInk]:
    """Drop lines made mostly of dashes; trim dashes lying beyond the ends of a line's writing."""
    out = []
    for ln in lines:
        flat = flat_mask[ln.ys, ln.xs]
        if flat.mean() >= 0.5:
            continue
        core = ln.xs[~flat]
        keep = ~flat | ((ln.xs >= core.min() - char_height) & (ln.xs <= core.max() + char_height))
        if not keep.all():
            ys, xs = ln.ys[keep], ln.xs[keep]
            box = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
            ln = LineInk(box, ys, xs)
        out.append(ln)
    return out


def segment_binary(binary: np.ndarray, min_ink: float = 0.25, components: Components | None = None,
                   ) -> list[LineInk]:
    """Lines (with word boxes) of an upright binary page, in reading order; ``components``: its ink_components."""
    n, labels, stats = components or ink_components(binary)
    if n <= 1:
        return []
    hc = max(3.0, component_height(stats[1:]))
    flat_mask = flat_pieces(labels, stats, hc, stroke_width(binary))[labels]
    band = band_extent(binary, hc)
    if band:  # one line: its letters' own rows, not other lines, make the autocorrelation's peaks
        pitch = max(2.2 * hc, BAND_PITCH * band)
        rows = binary.sum(axis=1)
        mass = np.cumsum(rows) / rows.sum()
        curves = [np.full(binary.shape[1], float(np.searchsorted(mass, 0.5)))]
    else:
        pitch = float(np.clip(line_pitch(binary, hc), 1.2 * hc, 4.0 * hc))
        curves = find_centre_curves(binary, pitch)
    lines = assign_ink(binary, curves, pitch, (n, labels, stats))
    lines = drop_rule_dashes(lines, flat_mask, hc)
    lines = [ln for ln in lines if len(ln.ys) >= min_ink * hc * hc and ln.box[3] >= 0.3 * hc]
    lines = merge_fragments(lines, pitch)
    for ln in lines:
        x, y, _, _ = ln.box
        ln.words = [(x + a, y + b, c, d) for a, b, c, d in split_words(ln.mask())]
    return lines
