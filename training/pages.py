"""Page generator: handwritten lines composed into page photos/scans with ground-truth line boxes and text.

Lines come from real line images (IAM groups you are allowed to use) or from synthetic rendering. Each page
gets margins, optional ruled paper, slight rotation, perspective, curved lines, uneven lighting, a shadow,
camera noise and JPEG compression; the ground truth is the axis-aligned box of every line's ink in the
final image, in reading order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from training.datasets import read_iam_gt, split_by_groups

LineSource = Callable[[random.Random], tuple[np.ndarray, str]]


@dataclass(frozen=True)
class PageStyle:
    """How a page is composed and degraded (ranges are sampled uniformly per page)."""

    lines: tuple[int, int] = (5, 12)
    width: int = 1500
    line_height: tuple[int, int] = (56, 80)  # px of a line image after scaling (IAM lines are 128 tall)
    spacing: tuple[float, float] = (1.05, 1.5)  # line pitch / line height
    size_jitter: float = 0.0  # each line's height varies by this fraction around the page's
    margin: tuple[int, int] = (40, 160)
    indent: tuple[int, int] = (0, 120)
    rotation: float = 3.0  # degrees, +-
    perspective: float = 0.0  # corner displacement as a fraction of the size
    curve: float = 0.0  # max vertical bend of a line as a fraction of its height
    ruled: float = 0.0  # probability of ruled paper
    lighting: float = 0.35  # strength of the uneven-light gradient
    shadow: float = 0.0  # probability of a dark shadow
    noise: float = 4.0  # camera noise sigma
    jpeg: tuple[int, int] = (55, 90)
    background: float = 0.0  # probability of showing the sheet on a dark desk (outline to find)


EVAL_STYLE = PageStyle()
PHOTO_STYLE = PageStyle(perspective=0.04, curve=0.25, ruled=0.5, shadow=0.7, background=0.5, lighting=0.5)


@dataclass
class GeneratedPage:
    """A page image with its lines' ground-truth boxes (x, y, w, h) and texts, in reading order."""

    image: np.ndarray
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)  # the undegraded line images ("perfect crops")

    @property
    def text(self) -> str:
        """The page's text: lines joined by newlines."""
        return "\n".join(self.texts)


def iam_source(gt_file: Path, groups: list[str]) -> LineSource:
    """Random real lines from IAM's ``gt_test.txt`` restricted to ``groups``."""
    samples = [s for s in split_by_groups(read_iam_gt(gt_file), groups) if s.path.exists() and s.text.strip()]
    if not samples:
        raise ValueError(f"no IAM lines of groups {', '.join(groups)} in {gt_file}")

    def pick(rng: random.Random) -> tuple[np.ndarray, str]:
        s = samples[rng.randrange(len(samples))]
        img = cv2.imread(str(s.path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise ValueError(f"cannot read {s.path}")
        return np.asarray(img), s.text

    pick.samples = samples  # type: ignore[attr-defined]
    return pick


def synth_source(font_files: list[Path], seed: int = 0) -> LineSource:
    """Random sentences rendered with handwriting fonts (``training.synth``)."""
    from model.charset import Charset
    from training.synth import TextSampler, can_render, load_fonts, render

    charset = Charset()
    fonts = load_fonts(font_files, charset)
    if not fonts:
        raise ValueError("no usable handwriting fonts")
    sampler = TextSampler(charset, seed=seed)

    def pick(rng: random.Random) -> tuple[np.ndarray, str]:
        while True:
            text = sampler.line(max_words=10)
            font = fonts[rng.randrange(len(fonts))]
            if len(text.split()) >= 3 and can_render(text, font):
                return render(text, font, rng), text

    return pick


def text_source(seed: int = 0) -> LineSource:
    """Lines drawn with OpenCV's script font (no fonts or data needed; for tests)."""
    words = ("the quick brown fox jumps over lazy dog while seven wizards quietly hex bold jumbo "
             "page line reading order handwriting letter morning garden river window").split()

    def pick(rng: random.Random) -> tuple[np.ndarray, str]:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 7)))
        scale, thick = 1.6, rng.choice((2, 3))
        (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, scale, thick)
        img = np.full((h + base + 24, w + 24), 255, np.uint8)
        cv2.putText(img, text, (12, h + 12), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, scale, 0, thick, cv2.LINE_AA)
        return img, text

    return pick


def _ink_box(img: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(img < 160)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def _bend(img: np.ndarray, amount: float, rng: random.Random) -> np.ndarray:
    """Bend a line image vertically along a smooth arc (curved handwriting)."""
    h, w = img.shape
    if amount <= 0:
        return img
    amp = rng.uniform(-amount, amount) * h
    phase = rng.uniform(0, np.pi)
    xs = np.arange(w, dtype=np.float32)
    shift = amp * np.sin(phase + np.pi * xs / max(w, 1)).astype(np.float32)
    pad = int(abs(amp)) + 2
    padded = cv2.copyMakeBorder(img, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=255)
    map_x = np.tile(xs, (h + 2 * pad, 1))
    map_y = np.arange(h + 2 * pad, dtype=np.float32)[:, None] + shift[None, :]
    return cv2.remap(padded, map_x, map_y, cv2.INTER_LINEAR, borderValue=255)


def _rules(canvas: np.ndarray, pitch: float, top: int, rng: random.Random) -> None:
    """Draw light ruled lines (and a margin line) under the writing, in place."""
    h, w = canvas.shape
    shade = rng.uniform(150, 200)
    y: float = top % max(int(pitch), 1)
    while y < h:
        cv2.line(canvas, (0, int(y)), (w - 1, int(y)), shade, rng.choice((1, 2)))
        y += pitch
    if rng.random() < 0.5:
        x = rng.randint(30, 90)
        cv2.line(canvas, (x, 0), (x, h - 1), shade, 2)


def _place_lines(source: LineSource, style: PageStyle, rng: random.Random
                 ) -> tuple[np.ndarray, list[np.ndarray], list[str], list[np.ndarray]]:
    """Write the lines on a flat sheet; returns the sheet, each line's ink points, texts and crops."""
    n = rng.randint(*style.lines)
    lh = rng.randint(*style.line_height)
    pitch = lh * rng.uniform(*style.spacing)
    margin = rng.randint(*style.margin)
    picked = []
    for _ in range(n):
        img, text = source(rng)
        box = _ink_box(img)
        if box is None:
            continue
        scale = lh * rng.uniform(1 - style.size_jitter, 1 + style.size_jitter) / img.shape[0]
        usable = style.width - 2 * margin - style.indent[1]
        if img.shape[1] * scale > usable:
            scale = usable / img.shape[1]
        picked.append((cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), text, img))
    top = margin + rng.randint(0, lh)
    height = int(top + pitch * len(picked) + lh + margin)
    sheet = np.full((height, style.width), rng.uniform(215, 250), np.float32)
    if rng.random() < style.ruled:
        _rules(sheet, pitch, top + int(lh * 0.8), rng)
    points, texts, crops = [], [], []
    for i, (img, text, original) in enumerate(picked):
        img = _bend(img, style.curve, rng)
        x = margin + rng.randint(*style.indent)
        y = int(top + i * pitch + rng.uniform(-0.05, 0.05) * lh)
        h, w = img.shape
        h, w = min(h, height - y), min(w, style.width - x)
        if h <= 0 or w <= 0:
            continue
        darkness = rng.uniform(0.75, 1.0)
        region = sheet[y: y + h, x: x + w]
        alpha = (1.0 - img[:h, :w].astype(np.float32) / 255.0) * darkness
        sheet[y: y + h, x: x + w] = region * (1 - alpha)
        ys, xs = np.nonzero(img[:h, :w] < 160)
        if len(xs) == 0:
            continue
        points.append(np.stack([xs + x, ys + y], axis=1).astype(np.float32))
        texts.append(text)
        crops.append(original)
    return sheet, points, texts, crops


def _geometry(h: int, w: int, style: PageStyle, rng: random.Random, desk: bool) -> tuple[np.ndarray, int, int]:
    """A homography (rotation + perspective, optionally onto a bigger desk) and the output size."""
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    d = style.perspective
    jitter = np.array([[rng.uniform(-d, d) * w, rng.uniform(-d, d) * h] for _ in range(4)], np.float32)
    angle = np.deg2rad(rng.uniform(-style.rotation, style.rotation))
    c, s = np.cos(angle), np.sin(angle)
    center = np.array([w / 2, h / 2], np.float32)
    dst = (src - center) @ np.array([[c, s], [-s, c]], np.float32) + center + jitter
    border = int(0.08 * max(h, w)) if desk else 0
    dst -= dst.min(axis=0) - border
    out_w, out_h = (np.ceil(dst.max(axis=0)) + border).astype(int)
    return cv2.getPerspectiveTransform(src, dst), int(out_w), int(out_h)


def _lighting(img: np.ndarray, style: PageStyle, rng: random.Random) -> np.ndarray:
    """Uneven light (a smooth gradient and vignette) and sometimes a soft dark shadow."""
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-1, 1), rng.uniform(-1, 1)
    grad = 1.0 - style.lighting * (0.5 + 0.5 * (gx * (xx / w - 0.5) + gy * (yy / h - 0.5)))
    light = grad * (1.0 - 0.25 * style.lighting * (((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) * 2))
    if rng.random() < style.shadow:
        # a shadow with a soft, straight edge (a hand or phone over the sheet)
        t = rng.uniform(0, np.pi)
        px, py = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        dist = (xx - px) * np.cos(t) + (yy - py) * np.sin(t)
        soft = max(8.0, 0.03 * max(h, w))
        light *= 1.0 - rng.uniform(0.35, 0.6) / (1.0 + np.exp(-dist / soft))
    return img * light


def compose_page(source: LineSource, style: PageStyle = EVAL_STYLE, seed: int = 0) -> GeneratedPage:
    """One page built from ``source`` lines, degraded per ``style``, with ground-truth boxes."""
    rng = random.Random(seed)
    sheet, points, texts, crops = _place_lines(source, style, rng)
    h, w = sheet.shape
    desk = rng.random() < style.background
    matrix, out_w, out_h = _geometry(h, w, style, rng, desk)
    desk_value = rng.uniform(40, 110) if desk else float(np.median(sheet))
    page = cv2.warpPerspective(sheet, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=desk_value)
    page = _lighting(page, style, rng)
    noise = np.random.default_rng(seed).normal(0, style.noise, page.shape).astype(np.float32)
    page = np.clip(cv2.GaussianBlur(page, (3, 3), 0.6) + noise, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(*style.jpeg)])
    decoded = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else None
    page = decoded if decoded is not None else page
    boxes = []
    for pts in points:
        mapped = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), matrix).reshape(-1, 2)
        x0, y0 = np.floor(mapped.min(axis=0)).astype(int)
        x1, y1 = np.ceil(mapped.max(axis=0)).astype(int)
        boxes.append((int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1)))
    return GeneratedPage(page, boxes, texts, crops)


def write_pages(pages: list[GeneratedPage], out: Path) -> None:
    """Save pages as ``page-NNN.png`` (already JPEG-degraded) with ``page-NNN.json`` ground truth (boxes, texts)."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(pages):
        cv2.imwrite(str(out / f"page-{i:03d}.png"), page.image)
        truth = {"lines": [{"box": list(b), "text": t} for b, t in zip(page.boxes, page.texts)]}
        (out / f"page-{i:03d}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
