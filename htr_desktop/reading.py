"""Qt-free recognition steps shared by the worker and batch export: crops and whole pages -> Regions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from htr_desktop.page_lines import line_regions
from htr_desktop.regions import Region, RegionWord
from model.page import choose_layout, read_page

CHUNK = 8  # crops per recognizer call: the granularity of progress and Cancel


class Cancelled(Exception):
    """The user cancelled the running job."""


def region_from(prediction: Any, box: tuple[int, int, int, int], kind: str = "line") -> Region:
    """A Region from a model Prediction (text, confidence, words)."""
    words = [RegionWord(w.text, float(w.confidence)) for w in getattr(prediction, "words", ())]
    return Region(box=box, text=prediction.text, confidence=float(prediction.confidence), words=words, kind=kind)


class ChunkedRecognizer:
    """Wraps a recognizer: recognizes in chunks, checks for Cancel, reports progress, records predictions."""

    def __init__(self, recognizer: Any, should_stop: Callable[[], bool] = lambda: False,
                 on_progress: Callable[[int, int], None] = lambda done, total: None) -> None:
        self.recognizer = recognizer
        self.should_stop = should_stop
        self.on_progress = on_progress
        self.predictions: list[Any] = []

    @property
    def info(self) -> Any:
        """The wrapped recognizer's model info."""
        return self.recognizer.info

    def recognize(self, images: Sequence[np.ndarray]) -> list[Any]:
        """Recognize ``images`` CHUNK at a time; raises Cancelled between chunks."""
        out: list[Any] = []
        for start in range(0, len(images), CHUNK):
            if self.should_stop():
                raise Cancelled
            out.extend(self.recognizer.recognize(list(images[start: start + CHUNK])))
            self.on_progress(len(out), len(images))
        self.predictions.extend(out)
        return out


def read_whole(gray: np.ndarray, recognizer: ChunkedRecognizer, layout: str = "auto") -> list[Region]:
    """Recognize a whole image: one line region, or one region per line of a page (model.page, reading order).

    A page line's words keep their confidences and word boxes; words are never regions of their own.
    """
    if layout == "auto":
        layout = choose_layout(gray)
    h, w = gray.shape
    if layout != "page":
        (pred,) = recognizer.recognize([gray])
        return [region_from(pred, (0, 0, w, h), "line")]
    before = len(recognizer.predictions)
    result = read_page(gray, recognizer)
    return line_regions(result.regions, recognizer.predictions[before:])


def preprocess(gray: np.ndarray, invert: bool = False, denoise: bool = False) -> np.ndarray:
    """Apply the user's preprocessing toggles to a gray image (returns a new array when any is on)."""
    out = gray
    if denoise:
        import cv2

        out = cv2.medianBlur(out, 3)
    if invert:
        out = 255 - out
    return out
