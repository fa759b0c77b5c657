"""Rebuild IAM line images from IAM word crops pasted at their form coordinates (cached on disk)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from training.datasets import Sample, WordBox, group_lines, line_text

log = logging.getLogger(__name__)

MARGIN = 12  # px of paper around the rebuilt line


def compose_line(crops: list[tuple[np.ndarray, tuple[int, int, int, int]]], margin: int = MARGIN) -> np.ndarray:
    """Paste gray word crops at their (x, y, w, h) boxes on white paper; overlaps keep the darker pixel."""
    x0 = min(b[0] for _, b in crops) - margin
    y0 = min(b[1] for _, b in crops) - margin
    x1 = max(b[0] + b[2] for _, b in crops) + margin
    y1 = max(b[1] + b[3] for _, b in crops) + margin
    page = np.full((y1 - y0, x1 - x0), 255, np.uint8)
    for crop, (x, y, _, _) in crops:
        h, w = crop.shape
        region = page[y - y0: y - y0 + h, x - x0: x - x0 + w]
        np.minimum(region, crop[: region.shape[0], : region.shape[1]], out=region)
    return page


def rebuild_line(words: list[WordBox]) -> np.ndarray | None:
    """The line image of ``words``, or None if any word lacks a box or a readable crop."""
    crops = []
    for w in words:
        if min(w.box) < 0 or w.box[2] == 0 or w.box[3] == 0:
            return None
        crop = cv2.imread(str(w.path), cv2.IMREAD_GRAYSCALE) if w.path.exists() else None
        if crop is None or crop.size == 0:
            return None
        crops.append((crop, w.box))
    return compose_line(crops) if crops else None


def rebuild_iam_lines(words: list[WordBox], cache: Path) -> list[Sample]:
    """Rebuilt line images (written once to ``cache`` as PNG) with their joined texts.

    Lines are skipped when a word has no box or no readable crop, or when the crop folder holds a word of
    the line that the listing lacks (a cut-off ``words.txt``): the text would then miss a word.
    """
    cache.mkdir(parents=True, exist_ok=True)
    samples, skipped = [], 0
    for line_id, line_words in group_lines(words).items():
        path = cache / f"{line_id}.png"
        on_disk = {p.stem for p in line_words[0].path.parent.glob(f"{line_id}-*.png")}
        if on_disk - {w.ident for w in line_words}:
            skipped += 1
            continue
        if not path.exists():
            image = rebuild_line(line_words)
            if image is None:
                skipped += 1
                continue
            tmp = path.with_suffix(".tmp.png")
            cv2.imwrite(str(tmp), image)
            tmp.replace(path)
        text = line_text(line_words)
        if text:
            samples.append(Sample(path, text))
    if skipped:
        log.info("rebuilt IAM lines: %d skipped (a word without box, crop or label)", skipped)
    return samples
