"""Qt-free recognition steps shared by the worker and batch export: crops and whole pages -> Regions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from htr_desktop.regions import Region, RegionWord
from model.page import LineResult, crop_line, read_image

T = TypeVar("T")
R = TypeVar("R")
CHUNK = 8  # crops per recognizer call: the granularity of progress and Cancel


class Cancelled(Exception):
    """The user cancelled the running job."""


def region_from_line(line: LineResult) -> Region:
    """A line Region from model.page's structured line (box, text, confidence, boxed words)."""
    words = [RegionWord(w.text, w.confidence, w.box, w.alternatives) for w in line.words]
    return Region(box=line.box, text=line.text, confidence=line.confidence, words=words, kind="line")


def region_from(prediction: Any, crop: np.ndarray) -> Region:
    """A Region for a crop read as one line; its words get boxes from the crop's ink (crop coordinates)."""
    return region_from_line(crop_line(prediction, crop))


class ChunkedRecognizer:
    """Wraps a recognizer: recognizes in chunks, checks for Cancel between them, reports progress."""

    def __init__(self, recognizer: Any, should_stop: Callable[[], bool] = lambda: False,
                 on_progress: Callable[[int, int], None] = lambda done, total: None) -> None:
        self.recognizer = recognizer
        self.should_stop = should_stop
        self.on_progress = on_progress

    @property
    def info(self) -> Any:
        """The wrapped recognizer's model info."""
        return self.recognizer.info

    @property
    def workers(self) -> int:
        """The wrapped recognizer's worker processes (1: it reads in this process)."""
        return int(getattr(self.recognizer, "workers", 1))

    def recognize(self, images: Sequence[np.ndarray]) -> list[Any]:
        """Recognize ``images`` CHUNK per worker process at a time; raises Cancelled between chunks."""
        if self.workers > 1 and hasattr(self.recognizer, "map"):
            return self._spread(images)
        out: list[Any] = []
        step = CHUNK
        for start in range(0, len(images), step):
            if self.should_stop():
                raise Cancelled
            out.extend(self.recognizer.recognize(list(images[start: start + step])))
            self.on_progress(len(out), len(images))
        return out

    def _spread(self, images: Sequence[np.ndarray]) -> list[Any]:
        """On worker processes: a few crops at a time, widest first, the next to whichever worker is free."""
        # No worker waits for another (as with one share each), the narrow crops even out the end; Cancel between parts.
        if self.should_stop():
            raise Cancelled
        order = sorted(range(len(images)), key=lambda i: -images[i].shape[1] / max(1, images[i].shape[0]))
        size = max(1, min(CHUNK, -(-len(images) // (3 * self.workers))))
        parts = [order[k: k + size] for k in range(0, len(order), size)]
        out: list[Any] = [None] * len(images)
        done = 0
        for part, preds in zip(parts, self.map(recognize_images, [[images[i] for i in part] for part in parts])):
            for i, pred in zip(part, preds):
                out[i] = pred
            done += len(part)
            self.on_progress(done, len(images))
        return out

    def map(self, fn: Callable[[Any, T], R], items: Sequence[T]) -> Iterator[R]:
        """``fn(recognizer, item)`` for each item, on every core when the recognizer is a pool; Cancel between items."""
        run = getattr(self.recognizer, "map", None)
        results = run(fn, items) if run is not None else (fn(self.recognizer, item) for item in items)
        try:
            for result in results:
                yield result
                if self.should_stop():
                    raise Cancelled
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()  # a pool drops the items not started yet


    def map_files(self, fn: Callable[[Any, T], R], items: Sequence[T]) -> Iterator[R]:
        """``map`` for whole files (pages): the workers take one file each while every worker still gets one; the
        files left over (fewer than the workers) are read at once in a thread of this process with their lines
        spread over the workers, so no worker idles at the end while another reads a last page alone."""
        n = self.workers
        rest = len(items) % n if n > 1 and hasattr(self.recognizer, "map") else 0
        if not rest:
            yield from self.map(fn, items)
            return
        from concurrent.futures import ThreadPoolExecutor
        from threading import Event

        stop = Event()  # also stops the thread when this generator ends early (Cancel, an error)
        quiet = ChunkedRecognizer(self.recognizer, lambda: stop.is_set() or self.should_stop())
        with ThreadPoolExecutor(1) as thread:  # segments here while the workers read whole files
            last = thread.submit(lambda: [fn(quiet, item) for item in items[len(items) - rest:]])
            try:
                yield from self.map(fn, items[:len(items) - rest])
                yield from last.result()
            finally:
                stop.set()


def recognize_images(recognizer: Any, images: Sequence[np.ndarray]) -> list[Any]:
    """``recognizer.recognize(images)`` (a module-level function: worker processes run it)."""
    return list(recognizer.recognize(images))


def read_whole(gray: np.ndarray, recognizer: ChunkedRecognizer, layout: str = "auto") -> list[Region]:
    """Recognize a whole image: one line region, or one region per line of a page (model.page, reading order)."""
    _, result = read_image(gray, recognizer, layout)
    return [region_from_line(line) for line in result.lines]


def preprocess(gray: np.ndarray, invert: bool = False, denoise: bool = False) -> np.ndarray:
    """Apply the user's preprocessing toggles to a gray image (returns a new array when any is on)."""
    out = gray
    if denoise:
        import cv2

        out = cv2.medianBlur(out, 3)
    if invert:
        out = 255 - out
    return out
