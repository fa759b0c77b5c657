"""Whole pages: segment into lines and words and recognize them in reading order (used by the CLI and GUI).

``segment_page(gray)`` gives line boxes with their word boxes (original image coordinates) for the
"Detect lines/words" action; ``read_page(gray, recognizer)`` segments and recognizes; ``choose_layout``
guesses whether an image is a page, a single line or a single word.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from model.document import INK_THRESHOLD, PreparedPage, line_mask, map_points, prepare_page
from model.imageio import ImageError, to_gray
from model.segment import Components, LineInk, ink_components, segment_binary, split_words

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class WordResult:
    """One recognized word: its text, box (x, y, w, h in page pixels) and confidence (0..1)."""

    text: str
    box: Box
    confidence: float
    alternatives: tuple[str, ...] = ()  # the decoder's other readings, most likely first

    def to_json(self) -> dict[str, Any]:
        """The word as in the CLI's JSON output."""
        return {"text": self.text, "box": list(self.box), "confidence": round(self.confidence, 4)}


@dataclass(frozen=True)
class LineResult:
    """One recognized text line: its box, text, confidence and words in reading order."""

    box: Box
    text: str
    confidence: float
    words: tuple[WordResult, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The line as in the CLI's JSON output."""
        return {"box": list(self.box), "text": self.text, "confidence": round(self.confidence, 4),
                "words": [w.to_json() for w in self.words]}


@dataclass(frozen=True)
class PageResult:
    """A page's text (lines joined by newlines), mean line confidence and its lines in reading order."""

    text: str
    confidence: float
    lines: tuple[LineResult, ...] = field(default_factory=tuple)


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
        """The line as a gray crop of the flattened, upright page, cut like a line image of a data set.

        As tall as the line's ink (IAM's line images are: ``pad`` px more, only left and right, so the recognizer
        scales a page's lines as it scales them); its dots, commas and faint strokes kept; other lines' ink, long
        marks that are not its writing (rules, a desk's edge) and the paper around them painted white.
        """
        x, y, w, h = ln.box
        pw = self.page.flat.shape[1]
        window = (max(0, x - pad), y, min(pw, x + w + pad), y + h)
        x0, y0, x1, y1 = window
        crop = self.page.flat[y0:y1, x0:x1].copy()
        own = _near(_mask([ln], window))
        others = [o for o in self.lines if o is not ln and _overlaps(o.box, window)]
        crop[_near(_mask(others, window)) & ~own] = 255
        n, labels, stats, _ = cv2.connectedComponentsWithStats((crop < MARK_LEVEL).view(np.uint8), connectivity=8)
        away = (stats[:, cv2.CC_STAT_WIDTH] >= 0.3 * (x1 - x0)) | (stats[:, cv2.CC_STAT_HEIGHT] >= 0.8 * (y1 - y0))
        away[0] = True  # the paper
        crop[away[labels] & ~own] = 255
        return crop


#: Gray level (flattened page, paper ~255) under which a pixel is part of a mark in a line crop.
MARK_LEVEL = 225


def _overlaps(box: Box, window: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    return x < window[2] and x + w > window[0] and y < window[3] and y + h > window[1]


def _mask(lines: Sequence[LineInk], window: tuple[int, int, int, int]) -> np.ndarray:
    """The lines' ink inside ``window`` (x0, y0, x1, y1) as a 0/1 mask of its size."""
    x0, y0, x1, y1 = window
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for ln in lines:
        inside = (ln.xs >= x0) & (ln.xs < x1) & (ln.ys >= y0) & (ln.ys < y1)
        mask[ln.ys[inside] - y0, ln.xs[inside] - x0] = 1
    return mask


def _near(mask: np.ndarray) -> np.ndarray:
    """Pixels within two of the mask's (a 5 x 5 square), as bools."""
    return np.asarray(cv2.dilate(mask, np.ones((5, 5), np.uint8)), bool)


_last: tuple[tuple[Any, ...], Segmentation] | None = None


def _key(gray: np.ndarray) -> tuple[Any, ...]:
    data = np.ascontiguousarray(gray)
    return gray.shape, gray.dtype.str, hashlib.blake2b(data.data, digest_size=16).digest()


def clear_cache() -> None:
    """Forget the remembered segmentation (benchmarks time every run from scratch)."""
    global _last
    _last = None


NOISE_MIN_SPECKS = 1000


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
    components = ink_components(page.binary)  # found once for the noise check and the segmentation
    result = Segmentation(page, [] if is_noise(page.binary, components) else segment_binary(page.binary,
                                                                                            components=components))
    _last = (key, result)
    return result


def is_noise(binary: np.ndarray, components: Components | None = None) -> bool:
    """Noise or texture, not writing: thousands of ink specks and hardly a stroke-sized piece among them.

    Segmenting and reading such an image took seconds and gave garbage; it is answered "no writing found".
    """
    n, _, stats = components or ink_components(binary)
    if n < 100:
        return False
    areas = stats[1:, cv2.CC_STAT_AREA]
    strokes, median = int((areas >= 200).sum()), float(np.median(areas))
    if strokes == 0 and median < 15:  # only specks: faint noise, grain
        return True
    return n >= NOISE_MIN_SPECKS and median < 40 and strokes < 0.05 * len(areas)


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
    mask, to_crop = line_mask(gray[y0:y1, x0:x1])  # specks already removed
    boxes = []
    for wx, wy, ww, wh in split_words(mask):
        (ox, oy), (ex, ey) = map_points(np.array([[wx, wy], [wx + ww, wy + wh]], np.float64), to_crop)
        boxes.append((int(ox) + x0, int(oy) + y0, max(1, int(round(ex - ox))), max(1, int(round(ey - oy)))))
    return boxes


def _fragment(ln: LineInk, tallest: int, heaviest: int, page_height: int) -> bool:
    """A piece that is no line of its own: a stray bit, or a neighbouring field's ink cut by the image's edge."""
    x, y, w, h = ln.box
    edge = max(2.0, 0.05 * page_height)
    at_edge = y <= edge or y + h >= page_height - edge
    return len(ln.ys) < 0.1 * heaviest or (at_edge and h < 0.8 * tallest)


def _label(ln: LineInk, main: LineInk) -> bool:
    """A form's label over the written line: a word or two (at most 8 of its heights long), no longer than the
    line, starting at its left, in smaller letters."""
    x, y, w, h = ln.box
    mx, my, mw, mh = main.box
    return y + h <= my + mh / 2 and w <= min(8 * h, 1.1 * mw) and h <= 0.95 * mh and x <= mx + 0.25 * mw


def text_lines(lines: Sequence[LineInk], page_height: int) -> tuple[list[LineInk], list[LineInk]]:
    """The lines of writing, and those with their labels (a form field's printed "Name" over the name), without
    fragments."""
    if len(lines) < 2:
        return list(lines), list(lines)
    tallest = max(ln.box[3] for ln in lines)
    heaviest = max(len(ln.ys) for ln in lines)
    kept = [ln for ln in lines if not _fragment(ln, tallest, heaviest, page_height)]
    main = max(kept, key=lambda ln: (ln.box[3], len(ln.ys)))  # the writing: a label's print is smaller
    return [ln for ln in kept if ln is main or not _label(ln, main)], kept


def choose_layout(gray: np.ndarray) -> str:
    """Guess "page", "line" or "word": several lines, or one line/word (a form field: with its label) in the image."""
    h, w = gray.shape[:2]
    if h < 12 or w < 12:
        return "word" if w / max(h, 1) < 3 else "line"
    seg = segment(gray)
    ph, pw = seg.page.ink.shape
    lines, field_lines = text_lines(seg.lines, ph)
    if len(lines) >= 2:
        return "page"
    if not lines:
        return "line" if w / max(h, 1) > 3 else "page"
    lx, ly, lw, lh = _union_all([ln.box for ln in field_lines])
    room = 3 * lines[0].box[3]  # for lines over or under it (in the image: its prepared page may be padded)
    if max(ly, ph - ly - lh) >= room and h >= lh + room and lw * lh < 0.15 * pw * ph:
        return "page"  # a little writing on a big sheet: segment it
    return "word" if len(lines[0].words) <= 1 else "line"


def _assign_words(words: Sequence[str], n_boxes: int) -> list[list[int]]:
    """Spread recognized words (their indices) over word boxes in order (by character position when counts differ)."""
    if n_boxes == 0:
        return []
    if len(words) == n_boxes:
        return [[i] for i in range(n_boxes)]
    groups: list[list[int]] = [[] for _ in range(n_boxes)]
    total = sum(len(w) + 1 for w in words) or 1
    pos = 0
    for i, w in enumerate(words):
        centre = (pos + len(w) / 2) / total
        groups[min(n_boxes - 1, int(centre * n_boxes))].append(i)
        pos += len(w) + 1
    return groups


def _union_all(boxes: Sequence[Box]) -> Box:
    """The box around all the boxes."""
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def word_boxes(words: Sequence[str], boxes: Sequence[Box], line_box: Box) -> list[Box]:
    """One box per recognized word from the segmented word boxes.

    Boxes that got no word join the word before (or after) them; a box that got several words is split across
    them in proportion to their lengths. Without word boxes every word gets a share of the line box.
    """
    if not words:
        return []
    if not boxes:
        boxes = [line_box]
    groups = _assign_words(words, len(boxes))
    out: list[Box | None] = [None] * len(words)
    orphans: list[Box] = []
    for box, group in zip(boxes, groups):
        if not group:
            orphans.append(box)
            continue
        for b in orphans:  # boxes before the first word that got none
            box = _union(box, b)
        orphans = []
        x, y, w, h = box
        total = sum(len(words[i]) for i in group) or 1
        start = 0
        for i in group:
            x0 = x + round(w * start / total)
            start += len(words[i])
            x1 = x + round(w * start / total)
            out[i] = (x0, y, max(1, x1 - x0), h)
    last = max((i for i, b in enumerate(out) if b is not None), default=None)
    if last is not None:
        for b in orphans:  # trailing boxes without a word belong to the last word
            out[last] = _union(out[last], b)  # type: ignore[arg-type]
    return [b if b is not None else line_box for b in out]


def line_result(box: LineBox, prediction: Any) -> LineResult:
    """A LineResult from a line's boxes and the recognizer's Prediction for it."""
    texts = [w.text for w in prediction.words]
    boxes = word_boxes(texts, list(box.words), box.box)
    words = tuple(WordResult(w.text, b, float(w.confidence), tuple(getattr(w, "alternatives", ())))
                  for w, b in zip(prediction.words, boxes))
    return LineResult(box.box, prediction.text, float(prediction.confidence), words)


def read_page(gray: np.ndarray, recognizer: Any) -> PageResult:
    """Segment a page and recognize each line (``recognizer`` is a model.recognizer.Recognizer)."""
    seg = segment(gray)
    if not seg.lines:
        return PageResult("", 0.0, ())
    crops = [seg.line_crop(ln) for ln in seg.lines]
    if getattr(recognizer, "workers", 1) > 1:  # worker processes read the lines: map their boxes meanwhile
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as thread:
            boxes = thread.submit(seg.line_boxes)
            preds = recognizer.recognize(crops)
            line_boxes = boxes.result()
    else:
        preds, line_boxes = recognizer.recognize(crops), seg.line_boxes()
    lines = tuple(line_result(box, pred) for box, pred in zip(line_boxes, preds))
    conf = float(np.mean([ln.confidence for ln in lines])) if lines else 0.0
    return PageResult("\n".join(ln.text for ln in lines), conf, lines)


def crop_line(prediction: Any, crop: np.ndarray, offset: tuple[int, int] = (0, 0)) -> LineResult:
    """The LineResult of a crop read as one line (offset onto the page). Its words keep the boxes where the
    network read them; a prediction without them gets boxes from the crop's ink segmented into words."""
    h, w = crop.shape[:2]
    ox, oy = offset
    aligned: list[Box] = [b for b in (getattr(word, "box", None) for word in prediction.words) if b is not None]
    if aligned and len(aligned) == len(prediction.words):
        words = tuple(WordResult(word.text, (x + ox, y + oy, bw, bh), float(word.confidence),
                                 tuple(getattr(word, "alternatives", ())))
                      for word, (x, y, bw, bh) in zip(prediction.words, aligned))
        return LineResult((ox, oy, w, h), prediction.text, float(prediction.confidence), words)
    boxes = [] if not prediction.words else segment_words(crop, (0, 0, w, h))
    return line_result(LineBox((ox, oy, w, h), tuple((x + ox, y + oy, bw, bh) for x, y, bw, bh in boxes)),
                       prediction)


def read_image(gray: np.ndarray, recognizer: Any, layout: str = "auto") -> tuple[str, PageResult]:
    """Read an image as ``layout`` (auto | page | line | word): the layout used and the structured result."""
    if gray.ndim < 2 or min(gray.shape[:2]) < 2:  # the same answer for every layout
        raise ImageError(f"the image is too small ({gray.shape[1] if gray.ndim > 1 else 0}x{gray.shape[0]} pixels)")
    if layout == "auto":
        layout = choose_layout(gray)
    if layout == "page":
        return layout, read_page(gray, recognizer)
    if gray.ndim != 2 or gray.dtype != np.uint8:
        gray = to_gray(gray)
    (pred,) = recognizer.recognize([gray])
    line = crop_line(pred, gray)
    return layout, PageResult(line.text, line.confidence, (line,))


__all__ = ["INK_THRESHOLD", "LineBox", "LineResult", "PageResult", "WordResult", "choose_layout", "clear_cache",
           "crop_line", "is_noise", "line_result", "read_image", "read_page", "segment", "segment_lines",
           "segment_page", "segment_words", "word_boxes"]
