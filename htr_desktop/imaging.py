"""The only place that converts between QImage and numpy (via qimage2ndarray, told to use PySide6)."""

from __future__ import annotations

import os

os.environ["QT_DRIVER"] = "PySide6"  # qimage2ndarray picks its Qt binding from this at import time

import numpy as np  # noqa: E402
import qimage2ndarray  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

from model.imageio import MAX_PIXELS, ImageError, to_gray  # noqa: E402

#: Images with more pixels than this are shown downscaled (regions stay in full-resolution pixels).
MAX_DISPLAY_PIXELS = 24_000_000


def qimage_to_gray(image: QImage) -> np.ndarray:
    """A QImage (any format) -> an owned 8-bit gray array, alpha composited on white (model.imageio.to_gray)."""
    if image.isNull() or image.width() == 0 or image.height() == 0:
        raise ImageError("the image is empty")
    if image.width() * image.height() > MAX_PIXELS:
        raise ImageError(f"image is too large ({image.width()}x{image.height()} pixels)")
    argb = image.convertToFormat(QImage.Format.Format_ARGB32)
    # byte_view is a view into argb's buffer: it does NOT keep argb alive under PySide6, so copy right here.
    bgra = np.array(qimage2ndarray.byte_view(argb), dtype=np.uint8, copy=True)
    return to_gray(bgra)


def gray_to_qimage(gray: np.ndarray) -> QImage:
    """An 8-bit gray array -> a QImage that owns its pixels (safe after ``gray`` is freed)."""
    if gray.ndim != 2 or gray.size == 0:
        raise ImageError("the image is empty")
    return qimage2ndarray.gray2qimage(np.ascontiguousarray(gray), normalize=False).copy()


def display_image(gray: np.ndarray, max_pixels: int | None = None) -> tuple[QImage, float]:
    """The QImage to show for ``gray`` and its scale (< 1 when a huge image was downscaled for display)."""
    max_pixels = max_pixels or MAX_DISPLAY_PIXELS
    h, w = gray.shape
    if h * w <= max_pixels:
        return gray_to_qimage(gray), 1.0
    step = int(np.ceil(np.sqrt(h * w / max_pixels)))
    small = gray[::step, ::step]
    return gray_to_qimage(small), small.shape[1] / w
