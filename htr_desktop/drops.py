"""What a drop or a paste carries: local image files/folders, or image data from another application."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage

WEB = ("http", "https", "ftp")


def accepts(mime: QMimeData) -> bool:
    """True when the data holds files (local ones are opened; web addresses get a message) or an image."""
    return (mime.hasUrls() and any(u.isLocalFile() or u.scheme() in WEB for u in mime.urls())) or mime.hasImage()


def web_addresses(mime: QMimeData) -> list[str]:
    """The web addresses (http, https, ftp) among the data's URLs: this offline app does not download them."""
    return [u.toString() for u in mime.urls() if u.scheme() in WEB] if mime.hasUrls() else []


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
