"""Whole pages: segment into lines and words and recognize them in reading order (used by the CLI and GUI).

``segment_page(gray)`` gives line boxes with their word boxes (original image coordinates) for the
"Detect lines/words" action; ``read_page(gray, recognizer)`` segments and recognizes; ``choose_layout``
guesses whether an image is a page, a single line or a single word.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from model.document import INK_THRESHOLD, PreparedPage, prepare_page, remove_specks
from model.imageio import to_gray
from model.segment import LineInk, segment_binary, split_words

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Region:
    """A recognized region of a page: box (x, y, w, h) in page pixels."""

    box: Box
    text: str
    confidence: float
    kind: str = "line"  # "line" | "word"

    def to_json(self) -> dict[str, Any]:
        """The region as in the CLI's JSON output."""
        return {"box": list(self.box), "text": self.text, "confidence": round(self.confidence, 4), "kind": self.kind}


@dataclass(frozen=True)
class PageResult:
    """A page's text (lines joined by newlines) and its regions in reading order."""

    text: str
    confidence: float
    regions: tuple[Region, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LineBox:
    """A detected text line: its box and its words' boxes, (x, y, w, h) in original image pixels."""

    box: Box
    words: tuple[Box, ...] = ()


@dataclass
class Segmentation:
    """A prepared page and its lines (prepared-page coordinates), with boxes mapped to the original."""

    page: PreparedPage
    lines: list[LineInk]

    def line_boxes(self) -> list[LineBox]:
        """Lines and words in original coordinates, in reading order."""
        out = []
        for ln in self.lines:
            words = tuple(self._word_box(ln, w) for w in ln.words)
            out.append(LineBox(self._points_box(ln.xs, ln.ys), words))
        return out

    def _points_box(self, xs: np.ndarray, ys: np.ndarray) -> Box:
        step = max(1, len(xs) // 4000)
        pts = np.stack([xs[::step], ys[::step]], axis=1).astype(np.float64)
        # keep the extreme pixels so subsampling never shrinks the box
        ext = [np.argmin(xs), np.argmax(xs), np.argmin(ys), np.argmax(ys)]
        pts = np.vstack([pts, np.stack([xs[ext], ys[ext]], axis=1)]) + 0.5
        x, y, w, h = self.page.box_to_original(pts)
        return x, y, w, h

    def _word_box(self, ln: LineInk, word: Box) -> Box:
        x, y, w, h = word
        sel = (ln.xs >= x) & (ln.xs < x + w)
        return self._points_box(ln.xs[sel], ln.ys[sel])

    def line_crop(self, ln: LineInk, pad: int = 6) -> np.ndarray:
        """The line as a gray crop of the flattened, upright page; other lines' ink is painted white."""
        x, y, w, h = ln.box
        ph, pw = self.page.flat.shape
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(pw, x + w + pad), min(ph, y + h + pad)
        keep = np.zeros((y1 - y0, x1 - x0), np.uint8)
        keep[ln.ys - y0, ln.xs - x0] = 1
        keep = cv2.dilate(keep, np.ones((5, 5), np.uint8))
        crop = self.page.flat[y0:y1, x0:x1].copy()
        crop[keep == 0] = 255
        return crop


_last: tuple[tuple[Any, ...], Segmentation] | None = None


def _key(gray: np.ndarray) -> tuple[Any, ...]:
    data = np.ascontiguousarray(gray)
    return gray.shape, gray.dtype.str, hashlib.blake2b(data.data, digest_size=16).digest()


def clear_cache() -> None:
    """Forget the remembered segmentation (benchmarks time every run from scratch)."""
    global _last
    _last = None


def segment(gray: np.ndarray) -> Segmentation:
    """Prepare the page (flatten, deskew, bounded size) and find its lines and words.

    The last result is remembered, so ``choose_layout`` followed by ``read_page`` segments once.
    """
    global _last
    if gray.ndim != 2 or gray.dtype != np.uint8:
        gray = to_gray(gray)
    key = _key(gray)
    cached = _last
    if cached is not None and cached[0] == key:
        return cached[1]
    page = prepare_page(gray)
    result = Segmentation(page, segment_binary(page.binary))
    _last = (key, result)
    return result


def segment_page(gray: np.ndarray) -> list[LineBox]:
    """Line boxes with word boxes, (x, y, w, h) in ``gray``'s pixels, in reading order."""
    return segment(gray).line_boxes()


def segment_lines(gray: np.ndarray) -> list[Box]:
    """Line boxes (x, y, w, h) in reading order."""
    return [ln.box for ln in segment_page(gray)]


def segment_words(gray: np.ndarray, line_box: Box) -> list[Box]:
    """Word boxes (x, y, w, h, page pixels) inside one line box (e.g. a box the user drew or moved)."""
    if gray.ndim != 2 or gray.dtype != np.uint8:
        gray = to_gray(gray)
    x, y, w, h = (int(v) for v in line_box)
    H, W = gray.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return []
    page = prepare_page(gray[y0:y1, x0:x1], deskew=False, find_outline=False)
    mask = remove_specks(page.binary, 6)
    boxes = []
    for wx, wy, ww, wh in split_words(mask):
        (ox, oy), (ex, ey) = page.points_to_original(np.array([[wx, wy], [wx + ww, wy + wh]], np.float64))
        boxes.append((int(ox) + x0, int(oy) + y0, max(1, int(round(ex - ox))), max(1, int(round(ey - oy)))))
    return boxes


def choose_layout(gray: np.ndarray) -> str:
    """Guess "page", "line" or "word": several lines, or one line/word filling the image."""
    h, w = gray.shape[:2]
    if h < 12 or w < 12:
        return "word" if w / max(h, 1) < 3 else "line"
    seg = segment(gray)
    lines = seg.lines
    if len(lines) >= 2:
        return "page"
    if not lines:
        return "line" if w / max(h, 1) > 3 else "page"
    ph, pw = seg.page.ink.shape
    lx, ly, lw, lh = lines[0].box
    if lh < 0.3 * ph and lw * lh < 0.15 * pw * ph:
        return "page"  # a little writing on a big sheet: segment it
    return "word" if len(lines[0].words) <= 1 else "line"


def _assign_words(words: list[Any], n_boxes: int) -> list[list[Any]]:
    """Spread recognized words over word boxes in order (by character position when counts differ)."""
    if n_boxes == 0:
        return []
    if len(words) == n_boxes:
        return [[w] for w in words]
    groups: list[list[Any]] = [[] for _ in range(n_boxes)]
    total = sum(len(w.text) + 1 for w in words) or 1
    pos = 0
    for w in words:
        centre = (pos + len(w.text) / 2) / total
        groups[min(n_boxes - 1, int(centre * n_boxes))].append(w)
        pos += len(w.text) + 1
    return groups


def read_page(gray: np.ndarray, recognizer: Any) -> PageResult:
    """Segment a page and recognize each line (``recognizer`` is a model.recognizer.Recognizer)."""
    seg = segment(gray)
    if not seg.lines:
        return PageResult("", 0.0, ())
    crops = [seg.line_crop(ln) for ln in seg.lines]
    preds = recognizer.recognize(crops)
    regions: list[Region] = []
    for box, pred in zip(seg.line_boxes(), preds):
        regions.append(Region(box.box, pred.text, float(pred.confidence), "line"))
        for wbox, group in zip(box.words, _assign_words(list(pred.words), len(box.words))):
            text = " ".join(w.text for w in group)
            conf = float(np.mean([w.confidence for w in group])) if group else 0.0
            regions.append(Region(wbox, text, conf, "word"))
    lines = [r for r in regions if r.kind == "line"]
    conf = float(np.mean([r.confidence for r in lines])) if lines else 0.0
    return PageResult("\n".join(r.text for r in lines), conf, tuple(regions))


__all__ = ["INK_THRESHOLD", "LineBox", "PageResult", "Region", "choose_layout", "clear_cache", "read_page", "segment",
           "segment_lines", "segment_page", "segment_words"]
