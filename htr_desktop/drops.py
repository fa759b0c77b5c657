"""What a drop or a paste carries: local image files/folders, or image data from another application."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage


def accepts(mime: QMimeData) -> bool:
    """True when the data holds local files or an image."""
    return (mime.hasUrls() and any(u.isLocalFile() for u in mime.urls())) or mime.hasImage()


def local_paths(mime: QMimeData) -> list[str]:
    """Local file/folder paths among the data's URLs."""
    if not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]


def image(mime: QMimeData) -> QImage | None:
    """The image in the data (e.g. dragged from a browser or copied in an editor), if any."""
    if not mime.hasImage():
        return None
    data = mime.imageData()
    return data if isinstance(data, QImage) and not data.isNull() else None
