"""Decoding image files and arrays into 8-bit grayscale, with clear errors for bad input."""

from __future__ import annotations

import os
import struct
from pathlib import Path

# OpenCV reads this once, before decoding its first image: refuse decompression bombs.
MAX_PIXELS = 120_000_000
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

HUGE_PIXELS = 30_000_000  # larger images are decoded straight to gray (bounded memory)
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_FILE_BYTES = 300 * 1024 * 1024
SUPPORTED_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".pbm", ".pgm", ".ppm", ".pdf")


class ImageError(ValueError):
    """An input that is not a usable image; the message is meant for users."""


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a file, turning OS errors into ImageError."""
    p = Path(path)
    if not p.exists():
        raise ImageError(f"{p.name}: file not found")
    if p.is_dir():
        raise ImageError(f"{p.name}: is a folder, not an image")
    size = p.stat().st_size
    if size == 0:
        raise ImageError(f"{p.name}: file is empty")
    if size > MAX_FILE_BYTES:
        raise ImageError(f"{p.name}: file is too large ({size / 1e6:.0f} MB)")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise ImageError(f"{p.name}: cannot be read ({exc.strerror or exc})") from None


def to_gray(image: np.ndarray) -> np.ndarray:
    """Any 2-D/3-D array (gray, BGR, BGRA, 16-bit, float) -> 8-bit gray, alpha composited on white."""
    if image is None or image.size == 0 or image.ndim not in (2, 3) or min(image.shape[:2]) == 0:
        raise ImageError("the image is empty")
    img = image
    if img.dtype == np.uint8:  # the common case: convert without a float copy (big photos)
        if img.ndim == 2:
            return img
        if img.shape[2] == 3:
            return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if img.shape[2] == 1:
            return img[:, :, 0]
    if img.dtype == np.uint16:
        img = (img / 257.0).astype(np.float32)
    elif img.dtype != np.uint8:
        img = img.astype(np.float32)
        if img.max(initial=0) <= 1.0:
            img = img * 255.0
    img = np.asarray(img, dtype=np.float32)
    if img.ndim == 3:
        channels = img.shape[2]
        if channels == 4:
            alpha = img[:, :, 3:4] / 255.0
            img = img[:, :, :3] * alpha + 255.0 * (1.0 - alpha)
            channels = 3
        if channels == 3:
            img = img @ np.array([0.114, 0.587, 0.299], dtype=np.float32)  # BGR
        elif channels == 1:
            img = img[:, :, 0]
        else:
            raise ImageError(f"unsupported image with {channels} channels")
    return np.clip(img, 0, 255).astype(np.uint8)


def _check_size(image: np.ndarray, name: str) -> None:
    h, w = image.shape[:2]
    if h * w > MAX_PIXELS:
        raise ImageError(f"{name}: image is too large ({w}x{h} pixels)")


def _huge_opaque_png(data: bytes) -> bool:
    """True for a PNG of more than HUGE_PIXELS pixels without alpha (read from its header)."""
    if data[:8] != PNG_MAGIC or len(data) < 26:
        return False
    width, height = struct.unpack(">II", data[16:24])
    return width * height > HUGE_PIXELS and data[25] not in (4, 6)  # colour types 4 and 6 carry alpha


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Encoded bytes -> 8-bit gray (EXIF orientation honoured; alpha on white; 16-bit scaled)."""
    if not data:
        raise ImageError(f"{name}: file is empty")
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        if data[:3] == JPEG_MAGIC or _huge_opaque_png(data):
            # Straight to gray (EXIF honoured): one decode, no colour copy (a 119-megapixel photo: 119 MB, not 800)
            image = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
        else:
            raw = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
            if raw is not None and raw.ndim == 3 and raw.shape[2] == 4:
                image = raw  # alpha must be kept; such files rarely carry EXIF rotation
            else:
                del raw
                image = cv2.imdecode(buf, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)
    except cv2.error as exc:
        msg = str(exc)
        if "imgcodecs" in msg and ("pixels" in msg or "limit" in msg.lower()):
            raise ImageError(f"{name}: image is too large") from None
        raise ImageError(f"{name}: not a readable image") from None
    if image is None:
        raise ImageError(f"{name}: not a readable image (corrupt, truncated or unsupported format)")
    _check_size(image, name)
    return to_gray(image)


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as 8-bit gray; raise ImageError with a clear message otherwise."""
    return decode_image(read_bytes(path), Path(path).name)


def load_pages(path: str | os.PathLike[str], dpi: int | None = None) -> list[np.ndarray]:
    """Read every page of an image file (multi-page TIFF and PDF give several) as 8-bit gray.

    PDF pages are rendered at ``dpi`` (model.pdf.DEFAULT_DPI when None).
    """
    return decode_pages(read_bytes(path), Path(path).name, dpi)


def decode_pages(data: bytes, name: str = "image", dpi: int | None = None) -> list[np.ndarray]:
    """Every page of encoded image or PDF bytes as 8-bit gray (see load_pages)."""
    from model.pdf import DEFAULT_DPI, is_pdf, render_pdf

    if is_pdf(data):
        return render_pdf(data, name, dpi or DEFAULT_DPI)
    if Path(name).suffix.lower() in (".tif", ".tiff") or data[:4] in (b"II*\x00", b"MM\x00*"):
        buf = np.frombuffer(data, dtype=np.uint8)
        try:
            ok, pages = cv2.imdecodemulti(buf, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)
        except cv2.error:
            ok, pages = False, []
        if ok and len(pages) > 1:
            for page in pages:
                _check_size(page, name)
            return [to_gray(p) for p in pages]
    return [decode_image(data, name)]
