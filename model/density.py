"""How densely a line is written, guessed from its ink before the network reads it."""

from __future__ import annotations

import cv2
import numpy as np


def strokes(ink: np.ndarray) -> float:
    """The mean number of ink runs along the busiest eighth of a bool ink map's rows (strokes crossing its body)."""
    if ink.shape[0] == 0 or ink.shape[1] < 2:
        return float(ink.any())
    u = ink.view(np.uint8)
    starts = cv2.compare(u[:, 1:], u[:, :-1], cv2.CMP_GT)  # 255 where a run starts after the first column
    runs = cv2.reduce(starts, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255 + u[:, 0]
    top = max(1, ink.shape[0] // 8)
    return float(np.partition(runs, runs.size - top)[-top:].mean())
