"""Turning paths, clipboard/drop images and scans into Pages (decoding goes through model.imageio)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from htr_desktop.export import image_files
from htr_desktop.imaging import qimage_to_gray
from htr_desktop.regions import Page
from model.imageio import SUPPORTED_SUFFIXES, ImageError, load_pages, to_gray

MAX_FILES = 500


def expand(paths: list[str]) -> list[Path]:
    """Files as given, folders replaced by the images directly inside them."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        out.extend(image_files(path) if _is_dir(path) else [path])  # a bad path is reported when it is read
    return out[:MAX_FILES]


def _is_dir(path: Path) -> bool:
    try:
        return bool(str(path)) and path.is_dir()
    except OSError:  # a name too long, a link loop…
        return False


def pages_from_file(path: Path, dpi: int | None = None) -> list[Page]:
    """Every page of an image file (multi-page TIFF and PDF give several; PDF at ``dpi``); raises ImageError."""
    if path.suffix and path.suffix.lower() not in SUPPORTED_SUFFIXES and not _is_dir(path):
        # still try to decode: the suffix may lie; but give a clear message when it is not an image
        try:
            grays = load_pages(path, dpi)
        except ImageError as exc:
            if "not a readable image" not in str(exc):  # a clearer reason: empty, too large, a HEIC photo…
                raise
            raise ImageError(f"{path.name}: not an image (supported: "
                             f"{', '.join(s.lstrip('.') for s in SUPPORTED_SUFFIXES)})") from None
    else:
        grays = load_pages(path, dpi)
    if len(grays) == 1:
        return [Page(name=path.name, gray=grays[0], source=str(path))]
    return [Page(name=f"{path.name} p{i}", gray=g, source=str(path)) for i, g in enumerate(grays, 1)]


def page_from_qimage(image: QImage, name: str) -> Page:
    """A page from a pasted or dropped QImage; raises ImageError."""
    return Page(name=name, gray=qimage_to_gray(image))


def page_from_array(image: np.ndarray, name: str) -> Page:
    """A page from a scanned/captured array (gray, BGR or BGRA); raises ImageError."""
    return Page(name=name, gray=to_gray(image))
