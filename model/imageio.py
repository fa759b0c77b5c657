"""Decoding image files and arrays into 8-bit grayscale, with clear errors for bad input."""

from __future__ import annotations

import errno
import os
import stat
import struct
from pathlib import Path
from typing import BinaryIO

# OpenCV reads this once, before decoding its first image: refuse decompression bombs.
MAX_PIXELS = 120_000_000
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

if "OPENCV_LOG_LEVEL" not in os.environ:  # a bad file gets our one-line error, not OpenCV's warnings on stderr
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

HUGE_PIXELS = 30_000_000  # larger images are decoded straight to gray (bounded memory)
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_FILE_BYTES = 300 * 1024 * 1024
SUPPORTED_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".pbm", ".pgm", ".ppm", ".heic",
                      ".heif", ".pdf")


class ImageError(ValueError):
    """An input that is not a usable image; the message is meant for users."""


def display_name(path: str | os.PathLike[str], full: bool = False) -> str:
    """A path's name (or the whole path) as printable text: bytes that are not UTF-8 appear as ``\\xNN``."""
    text = os.fspath(path) if full else Path(path).name
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a regular file, turning every OS error into an ImageError that says what is wrong."""
    if not os.fspath(path):
        raise ImageError("no file name given (an empty path)")
    p = Path(path)
    name = display_name(p) or display_name(p, full=True)
    try:
        info = os.stat(p)
    except FileNotFoundError:
        raise ImageError(f"{name}: {'broken link' if os.path.islink(p) else 'file not found'}") from None
    except OSError as exc:
        reasons = {errno.ELOOP: "the link points to itself (a symbolic link loop)",
                   errno.ENAMETOOLONG: "the file name is too long", errno.EACCES: "permission denied",
                   errno.ENOTDIR: "part of the path is not a folder"}
        reason = reasons.get(exc.errno or 0, f"cannot be read ({exc.strerror or exc})")
        raise ImageError(f"{name}: {reason}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{name}: is a folder, not an image")
    if not stat.S_ISREG(info.st_mode):
        kind = "a pipe" if stat.S_ISFIFO(info.st_mode) else "a device" if stat.S_ISCHR(info.st_mode) or \
            stat.S_ISBLK(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file"
        raise ImageError(f"{name}: not an image file ({kind})")
    if info.st_size > MAX_FILE_BYTES:
        raise ImageError(f"{name}: file is too large ({info.st_size / 1e6:.0f} MB)")
    try:
        with open(p, "rb") as fh:
            data = read_bounded(fh, info.st_size)
    except OSError as exc:
        raise ImageError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise ImageError(f"{name}: file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"{name}: file is too large (over {MAX_FILE_BYTES / 1e6:.0f} MB)")
    return data


def read_bounded(fh: BinaryIO, size: int) -> bytes:
    """``fh.read(MAX_FILE_BYTES + 1)`` of a file said to be ``size`` bytes long: its size plus one byte first, the
    rest only if there was more (a file under /proc says 0, a file may grow); a read of the bound itself would
    set aside 300 MB for every image (0.05 ms of a line's 0.13 in reading its file)."""
    first = min(size, MAX_FILE_BYTES) + 1
    data = fh.read(first)
    return data + fh.read(MAX_FILE_BYTES + 1 - first) if len(data) == first else data


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
        if img.dtype.kind not in "biuf":
            raise ImageError(f"unsupported pixel type {img.dtype} (numbers expected)")
        img = img.astype(np.float32)
        if not np.isfinite(img).all():
            raise ImageError("the image has NaN or infinite pixel values")
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


def _heif_kind(data: bytes) -> str | None:
    """"HEIC" or "AVIF" for a phone's HEIF photo (an ISO media file of that brand), else None (AVIF is not read)."""
    if data[4:8] != b"ftyp":
        return None
    brands = data[8:12] + data[16:min(len(data), 64)]  # major brand, then the compatible ones
    if any(b in brands for b in (b"avif", b"avis")):
        return "AVIF"
    if any(b in brands for b in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")):
        return "HEIC"
    return None


def decode_heif(data: bytes, name: str) -> np.ndarray:
    """A HEIC/HEIF photo's primary image as 8-bit gray, upright, through ``pi_heif`` (libheif; imported only now).

    Its size is checked before the pixels are decoded (a decompression bomb is refused unread).
    """
    try:
        import pi_heif
    except ImportError:
        raise ImageError(f"{name}: HEIC images cannot be read here (the pi-heif package is missing): convert it to "
                         "JPEG or PNG first") from None
    import io

    try:
        heif = pi_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        w, h = heif.size
        if w * h > MAX_PIXELS:
            raise ImageError(f"{name}: image is too large ({w}x{h} pixels)")
        pixels = np.asarray(heif)
    except ImageError:
        raise
    except MemoryError:
        raise ImageError(f"{name}: not enough memory to decode this image") from None
    except Exception:  # noqa: BLE001 - libheif's errors (RuntimeError, ValueError, …) all mean a damaged file
        raise ImageError(f"{name}: not a readable HEIC image (damaged, truncated or of an unsupported kind)") from None
    if pixels.ndim == 3 and pixels.shape[2] in (3, 4):  # RGB(A) -> OpenCV's BGR(A)
        pixels = pixels[:, :, [2, 1, 0, 3][: pixels.shape[2]]]
    return to_gray(pixels)


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Encoded bytes -> 8-bit gray (EXIF orientation honoured; alpha on white; 16-bit scaled)."""
    if not data:
        raise ImageError(f"{name}: file is empty")
    if _heif_kind(data) == "HEIC":
        return decode_heif(data, name)
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
        if (kind := _heif_kind(data)) is not None:
            raise ImageError(f"{name}: {kind} images cannot be read: convert it to JPEG or PNG first")
        raise ImageError(f"{name}: not a readable image (corrupt, truncated or unsupported format)")
    _check_size(image, name)
    return to_gray(image)


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as 8-bit gray; raise ImageError with a clear message otherwise."""
    return decode_image(read_bytes(path), display_name(path))


def load_pages(path: str | os.PathLike[str], dpi: int | None = None) -> list[np.ndarray]:
    """Read every page of an image file (multi-page TIFF and PDF give several) as 8-bit gray.

    PDF pages are rendered at ``dpi`` (model.pdf.DEFAULT_DPI when None).
    """
    return decode_pages(read_bytes(path), display_name(path), dpi)


def decode_pages(data: bytes, name: str = "image", dpi: int | None = None) -> list[np.ndarray]:
    """Every page of encoded image or PDF bytes as 8-bit gray (see load_pages)."""
    from model.pdf import DEFAULT_DPI, is_pdf, render_pdf

    if is_pdf(data):
        return render_pdf(data, name, dpi or DEFAULT_DPI)
    if Path(name).suffix.lower() in (".tif", ".tiff") or data[:4] in (b"II*\x00", b"MM\x00*"):
        pages = _tiff_pages(data, name)
        if len(pages) > 1:
            return pages
    return [decode_image(data, name)]


def _tiff_pages(data: bytes, name: str) -> list[np.ndarray]:
    """Every page of a TIFF as 8-bit gray, decoded one at a time (all of a 60-page A4 scan at once in colour took
    3.1 GB); at most MAX_PAGES, as for a PDF."""
    from model.pdf import MAX_PAGES

    buf = np.frombuffer(data, dtype=np.uint8)
    pages: list[np.ndarray] = []
    while True:
        try:
            n = len(pages)
            ok, mats = cv2.imdecodemulti(buf, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR, None, (n, n + 1))
        except cv2.error as exc:
            if pages:  # a page after the first: say which, never drop it and those after it silently
                too_large = "pixels" in str(exc) or "limit" in str(exc).lower()
                raise ImageError(f"{name}: page {len(pages) + 1} " + ("is too large" if too_large else
                                                                      "cannot be read (damaged)")) from None
            ok, mats = False, []
        if not ok or not mats:
            return pages
        if len(pages) == MAX_PAGES:
            raise ImageError(f"{name}: the TIFF has more than {MAX_PAGES} pages; at most {MAX_PAGES} can be opened "
                             "at once (split it into smaller files)")
        _check_size(mats[0], name)
        pages.append(to_gray(mats[0]))
        del mats
