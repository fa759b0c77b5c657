"""Hard augmentation of grayscale crops (ink dark on light paper), applied before preprocessing."""

from __future__ import annotations

import cv2
import numpy as np

#: The horizontal scale range of ``_geometry`` unless a run sets its own (``augment_x_scale``).
X_SCALE = (0.75, 1.25)


def _geometry(img: np.ndarray, rng: np.random.Generator, x_scale: tuple[float, float] = X_SCALE) -> np.ndarray:
    """Slant, rotation, horizontal scale (uniform in ``x_scale``) and a mild perspective in one warp."""
    h, w = img.shape
    pad = h // 2
    img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    H, W = img.shape
    shear = rng.uniform(-0.45, 0.45)
    limit = min(2.5, np.rad2deg(np.arctan(0.25 * h / max(w, 1))))
    angle = np.deg2rad(rng.uniform(-limit, limit))
    sx = rng.uniform(*x_scale)
    a = np.array([[sx * np.cos(angle), -np.sin(angle) + shear, 0], [np.sin(angle), np.cos(angle), 0]])
    a[:, 2] = np.array([W / 2, H / 2]) - a[:, :2] @ np.array([W / 2, H / 2])
    src = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float32)
    dst = np.asarray(np.c_[src, np.ones(4)] @ a.T, np.float32)
    dst += rng.uniform(-0.03, 0.03, dst.shape).astype(np.float32) * h
    m = cv2.getPerspectiveTransform(src, dst)
    out_w = int(W * sx + abs(shear) * H) + 2
    m[0, 2] += (out_w - W) / 2
    return cv2.warpPerspective(img, m, (out_w, H), flags=cv2.INTER_LINEAR, borderValue=255)


def _elastic(img: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Smooth random displacement field (handwriting wobble)."""
    h, w = img.shape
    gh, gw = max(2, h // 16), max(2, w // 16)
    dx = cv2.resize(rng.normal(0, strength, (gh, gw)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(rng.normal(0, strength, (gh, gw)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, xs + dx, ys + dy, cv2.INTER_LINEAR, borderValue=255)


def _stroke(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Thicker or thinner strokes."""
    r = rng.random()
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(rng.integers(2, 4)),) * 2)
    if r < 0.25:
        return cv2.erode(img, k)  # ink grows
    if r < 0.45:
        return cv2.dilate(img, k)  # ink shrinks
    return img


def _ink_gaps(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pen skips and faded stretches: ink lifted back to paper in soft blobs about a stroke wide, so strokes break
    where a dry pen, a pencil or a thin font leaves gaps. Paper is never touched."""
    ink = img < 128
    if not ink.any():
        return img
    stroke = max(1.0, 2.0 * float(np.median(cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, 3)[ink])))
    noise = rng.normal(0, 1, img.shape).astype(np.float32)
    field = np.asarray(cv2.GaussianBlur(noise, (0, 0), rng.uniform(1.0, 2.0) * stroke), np.float32)
    field = field / (float(field.std()) + 1e-6)
    level = rng.uniform(1.3, 2.3)  # higher: fewer, smaller gaps
    lift = np.clip((field - level) / 0.4, 0.0, 1.0)
    return (img + (255.0 - img) * lift).astype(np.uint8)


def core_rows(img: np.ndarray) -> tuple[int, int] | None:
    """The rows of a crop's core (the x-height band: rows holding at least half the busiest row's ink, smoothed over
    3 rows), as (first, end); None without ink."""
    rows = (img < 128).sum(axis=1).astype(np.float32)
    if not rows.any():
        return None
    rows = np.convolve(rows, np.ones(3, np.float32) / 3, mode="same")
    core = np.flatnonzero(rows >= 0.5 * rows.max())
    return int(core[0]), int(core[-1]) + 1


def _zones(img: np.ndarray, rng: np.random.Generator, scale: tuple[float, float] = (0.6, 1.6)) -> np.ndarray:
    """Lower case drawn smaller or larger beside the capitals and ascenders: the core rows (``core_rows``) scaled by
    a log-uniform factor in ``scale``, the rows above and below it squeezed or stretched to keep the crop's height."""
    h, w = img.shape
    band = core_rows(img)
    if band is None:
        return img
    top, end = band
    core = end - top
    rest = h - core
    if core < 3 or rest < 2:
        return img
    k = float(np.exp(rng.uniform(np.log(scale[0]), np.log(scale[1]))))
    k = min(k, (h - 0.3 * rest) / core)  # the rows outside the core keep at least 30 % of their height
    s = (h - k * core) / rest
    # output row -> source row: piecewise linear through the core's new edges
    out_top = top * s
    src = np.interp(np.arange(h, dtype=np.float32) + 0.5, [0.0, out_top, out_top + k * core, float(h)],
                    [0.0, float(top), float(end), float(h)]) - 0.5
    map_y = np.repeat(src.astype(np.float32)[:, None], w, axis=1)
    map_x = np.repeat(np.arange(w, dtype=np.float32)[None, :], h, axis=0)
    return cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _photometric(img: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Ink and paper tone, paper texture, illumination gradient, blur, noise, JPEG."""
    h, w = img.shape
    f = img.astype(np.float32) / 255.0
    ink = rng.uniform(0.0, 0.45 * strength)
    paper = rng.uniform(1.0 - 0.35 * strength, 1.0)
    f = ink + (paper - ink) * f
    if rng.random() < 0.5 * strength:
        tex = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(1, 6))
        f += tex * rng.uniform(0.02, 0.1) * strength
    if rng.random() < 0.6 * strength:
        gx, gy = np.meshgrid(np.linspace(-1, 1, w, dtype=np.float32), np.linspace(-1, 1, h, dtype=np.float32))
        a, b = rng.uniform(-1, 1, 2)
        f *= 1.0 - 0.35 * strength * rng.random() * (0.5 + 0.5 * np.clip(a * gx + b * gy, -1, 1))
    if rng.random() < 0.4:
        f = np.asarray(cv2.GaussianBlur(f, (0, 0), rng.uniform(0.3, 1.2)), f.dtype)
    if rng.random() < 0.5:
        f += rng.normal(0, rng.uniform(0.005, 0.05) * strength, f.shape).astype(np.float32)
    out = np.clip(f * 255.0, 0, 255).astype(np.uint8)
    if rng.random() < 0.4 * strength:
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 90))])
        if ok:
            out = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE)
    return out


def augment(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0, gaps: float = 0.0,
            x_scale: tuple[float, float] = X_SCALE, zones: float = 0.0) -> np.ndarray:
    """Randomly distort a uint8 gray crop; ``strength`` 0..1 scales the photometric part, ``gaps`` is the chance of
    breaking strokes, ``zones`` that of resizing the lower case against the capitals (``_zones``; 0 for either: the
    random draws are exactly those of before it existed), ``x_scale`` the range of horizontal scales (letters drawn
    narrower or wider than the hand drew them)."""
    if zones and rng.random() < zones:
        img = _zones(img, rng)
    if rng.random() < 0.85:
        img = _geometry(img, rng, x_scale)
    if rng.random() < 0.5:
        img = _elastic(img, rng, rng.uniform(0.5, 2.0))
    img = _stroke(img, rng)
    if gaps and rng.random() < gaps:
        img = _ink_gaps(img, rng)
    return _photometric(img, rng, strength)
