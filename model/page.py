"""Whole pages: segment into lines/words and recognize them in reading order (contract used by CLI and GUI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.preprocess import normalize_illumination


@dataclass(frozen=True)
class Region:
    """A recognized region of a page: box (x, y, w, h) in page pixels."""

    box: tuple[int, int, int, int]
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


def choose_layout(gray: np.ndarray) -> str:
    """Guess whether an image is a page, a line or a word from its ink rows and aspect ratio."""
    h, w = gray.shape
    if h < 200 or w / max(h, 1) > 6:
        return "line"
    ink = normalize_illumination(gray) > 0.4
    rows = ink.mean(axis=1) > 0.002
    runs = np.diff(np.concatenate([[0], rows.astype(np.int8), [0]]))
    n_lines = int((runs == 1).sum())
    return "page" if n_lines >= 2 else "line"


def segment_lines(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Line boxes (x, y, w, h) top to bottom, from the horizontal ink projection."""
    ink = normalize_illumination(gray) > 0.4
    profile = ink.mean(axis=1)
    rows = profile > max(0.002, 0.1 * float(profile.max(initial=0)))
    boxes = []
    y = 0
    h = len(rows)
    while y < h:
        if rows[y]:
            y0 = y
            while y < h and rows[y]:
                y += 1
            band = ink[y0:y]
            cols = np.nonzero(band.any(axis=0))[0]
            if cols.size and y - y0 >= 4:
                boxes.append((int(cols[0]), y0, int(cols[-1] - cols[0] + 1), y - y0))
        y += 1
    return boxes


def read_page(gray: np.ndarray, recognizer: Any) -> PageResult:
    """Segment a page into lines and recognize each (``recognizer`` is a model.recognizer.Recognizer)."""
    boxes = segment_lines(gray)
    if not boxes:
        return PageResult("", 0.0, ())
    pad = [(max(0, x - 4), max(0, y - 4), w + 8, h + 8) for x, y, w, h in boxes]
    crops = [gray[y: y + h, x: x + w] for x, y, w, h in pad]
    preds = recognizer.recognize(crops)
    regions = tuple(Region(b, p.text, p.confidence, "line") for b, p in zip(pad, preds))
    conf = float(np.mean([r.confidence for r in regions]))
    return PageResult("\n".join(r.text for r in regions), conf, regions)
