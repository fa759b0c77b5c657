"""Image acquisition behind one small interface: SANE scanners and OpenCV cameras (other platforms add adapters)."""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)


class ScannerUnavailable(RuntimeError):
    """The backend or device cannot be used here; the message says why, for users."""


@dataclass(frozen=True)
class ScanSettings:
    """What to acquire: a device id, a resolution (dpi) and colour or gray."""

    device: str
    resolution: int = 150
    color: bool = False


class Scanner(Protocol):
    """An image source: lists its devices and acquires one image (8-bit gray or BGR numpy array)."""

    name: str

    def devices(self) -> list[tuple[str, str]]:
        """(device id, label) pairs; raises ScannerUnavailable when the backend is missing."""
        ...

    def scan(self, settings: ScanSettings) -> np.ndarray:
        """Acquire one image; raises ScannerUnavailable with a user-facing message."""
        ...


class SaneScanner:
    """Scanners through SANE (python-sane, optional: ``pip install htr-desktop[scan]``)."""

    name = "Scanner (SANE)"
    # SANE backends need not be reentrant, and a dialog's device search can still be running when a newer one (or a
    # scan) starts: starting SANE and every call into it take this lock.
    _lock = threading.Lock()
    _initialised = False

    def _sane(self):  # noqa: ANN202 - the optional module
        try:
            import sane
        except ImportError:
            raise ScannerUnavailable("Scanning needs SANE and python-sane, which are not installed here "
                                     "(on Linux: apt-get install libsane1, then pip install 'htr-desktop[scan]').") \
                from None
        with self._lock:
            if not SaneScanner._initialised:
                try:
                    sane.init()
                except Exception as exc:
                    raise ScannerUnavailable(f"SANE cannot be started: {exc}") from None
                SaneScanner._initialised = True
        return sane

    def devices(self) -> list[tuple[str, str]]:
        """The scanners SANE finds (its ``test`` device can be typed in by name)."""
        sane = self._sane()
        try:
            with self._lock:
                found = sane.get_devices()
        except Exception as exc:
            raise ScannerUnavailable(f"SANE cannot list scanners: {exc}") from None
        return [(dev[0], f"{dev[1]} {dev[2]} ({dev[0]})") for dev in found]

    def scan(self, settings: ScanSettings) -> np.ndarray:
        """Open the device, set mode and resolution where it allows, and acquire one page."""
        sane = self._sane()
        if not settings.device:
            raise ScannerUnavailable("No scanner was chosen (none found: is it connected and switched on?)")
        with self._lock:
            try:
                dev = sane.open(settings.device)
            except Exception as exc:
                raise ScannerUnavailable(f"Scanner {settings.device!r} cannot be opened: {exc}") from None
            try:
                self._configure(dev, settings)
                image = np.asarray(dev.arr_scan())
            except ScannerUnavailable:
                raise
            except Exception as exc:
                raise ScannerUnavailable(f"Scanning failed on {settings.device!r}: {exc}") from None
            finally:
                dev.close()
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        if image.ndim == 3 and image.shape[2] == 3:
            image = image[:, :, ::-1].copy()  # SANE gives RGB; the model's decoders expect BGR
        return image

    @staticmethod
    def _configure(dev: Any, settings: ScanSettings) -> None:
        options = getattr(dev, "opt", {})
        if "mode" in options:
            modes = options["mode"].constraint or []
            wanted = "Color" if settings.color else "Gray"
            if wanted in modes:
                dev.mode = wanted
        if "depth" in options and 8 in (options["depth"].constraint or [8]):
            dev.depth = 8
        if "resolution" in options:
            allowed = options["resolution"].constraint
            res = settings.resolution
            if isinstance(allowed, tuple):
                res = int(min(max(res, allowed[0]), allowed[1]))
            elif isinstance(allowed, list) and allowed:
                res = int(min(allowed, key=lambda r: abs(r - res)))
            dev.resolution = res


class CameraScanner:
    """Webcams and document cameras through OpenCV's VideoCapture."""

    name = "Camera"

    def devices(self) -> list[tuple[str, str]]:
        """Camera indices that look present (Linux: /dev/video*; elsewhere index 0 is offered)."""
        if sys.platform.startswith("linux"):
            nodes = sorted(Path("/dev").glob("video*"))
            if not nodes:
                raise ScannerUnavailable("No camera found (no /dev/video* device).")
            return [(node.name.removeprefix("video"), f"Camera {node.name}") for node in nodes
                    if node.name.removeprefix("video").isdigit()]
        return [("0", "Default camera")]

    def scan(self, settings: ScanSettings) -> np.ndarray:
        """Grab one frame (after a few warm-up frames so exposure settles)."""
        import cv2

        try:
            index = int(settings.device or 0)
        except ValueError:
            raise ScannerUnavailable(f"{settings.device!r} is not a camera number") from None
        cap = cv2.VideoCapture(index)
        try:
            if not cap.isOpened():
                raise ScannerUnavailable(f"Camera {index} cannot be opened (missing, or used by another program).")
            frame = None
            for _ in range(5):
                ok, grabbed = cap.read()
                if ok:
                    frame = grabbed
            if frame is None:
                raise ScannerUnavailable(f"Camera {index} gave no picture.")
            return frame if settings.color else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        finally:
            cap.release()


def scanners() -> list[Scanner]:
    """Every acquisition backend this build knows."""
    return [SaneScanner(), CameraScanner()]
