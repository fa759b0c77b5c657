"""Getting images in: Open dialogs, recent files, drops and pastes (one handler), scans."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData, QObject
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from htr_desktop import drops
from htr_desktop.settings import Settings
from htr_desktop.workspace import Workspace

if TYPE_CHECKING:
    from htr_desktop.scan_dialog import ScanDialog

IMAGE_FILTER = ("Images and PDF (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.pbm *.pgm *.ppm *.heic *.heif *.pdf);;"
                "All files (*)")


class Intake(QObject):
    """Turns files, folders, clipboard and drop data, and scans into open pages."""

    def __init__(self, window: QWidget, workspace: Workspace, settings: Settings,
                 show_message: Callable[[str, str], None]) -> None:
        super().__init__(window)
        self.window = window
        self.workspace = workspace
        self.settings = settings
        self.show_message = show_message
        self.scan_dialog: ScanDialog | None = None

    def open_paths(self, paths: list[str]) -> None:
        """Open files or folders (the message bar reports the bad ones)."""
        pages = self.workspace.open_paths(paths)
        if pages and Path(paths[0]).parent.exists():
            self.settings.set("files/last_dir", str(Path(paths[0]).parent))

    def open_files(self) -> None:
        """File > Open."""
        paths, _ = QFileDialog.getOpenFileNames(self.window, "Open images", self.settings.get("files/last_dir"),
                                                IMAGE_FILTER)
        if paths:
            self.open_paths(paths)

    def open_folder(self) -> None:
        """File > Open folder."""
        folder = QFileDialog.getExistingDirectory(self.window, "Open a folder of images",
                                                  self.settings.get("files/last_dir"))
        if folder:
            self.open_paths([folder])

    def fill_recent(self, menu: QMenu) -> None:
        """File > Open recent."""
        menu.clear()
        for path in self.settings.recent_files():
            menu.addAction(path, partial(self.open_paths, [path]))
        if not self.settings.recent_files():
            menu.addAction("(none)").setEnabled(False)

    def take(self, mime: QMimeData | None, origin: str) -> bool:
        """Open what a drop or the clipboard carries: files first, else image data; False when neither."""
        paths = drops.local_paths(mime) if mime is not None else []
        image = drops.image(mime) if mime is not None and not paths else None
        if paths:
            self.open_paths(paths)
        elif image is not None:
            self.add_qimage(image, f"{origin} image")
        elif mime is not None and (web := drops.web_addresses(mime)):
            self.show_message(f"htr-desktop works offline and does not download {web[0]}: save the image on "
                              "this computer first, then open or drop that file.", "warning")
            return True
        return bool(paths) or image is not None

    def paste(self) -> None:
        """Edit > Paste image: an image or image files from the clipboard."""
        if not self.take(QGuiApplication.clipboard().mimeData(), "pasted"):
            self.show_message("The clipboard holds no image.", "warning")

    def add_qimage(self, image: QImage, name: str) -> None:
        """Add a pasted or dropped image as a page."""
        from htr_desktop.loading import page_from_qimage
        from model.imageio import ImageError

        try:
            page = page_from_qimage(image, name)
        except ImageError as exc:
            self.show_message(f"Cannot use the {name}: {exc}", "error")
            return
        self.workspace.add_pages([page])

    def scan(self) -> None:
        """File > Scan: the scan dialog (SANE scanners and cameras)."""
        from htr_desktop.scan_dialog import ScanDialog
        from htr_desktop.scanning import scanners

        if self.scan_dialog is None:
            self.scan_dialog = ScanDialog(scanners(), self.settings, self.window)
            self.scan_dialog.scanned.connect(self.add_scan)
        self.scan_dialog.show()
        self.scan_dialog.find_devices()

    def add_scan(self, image: Any) -> None:
        """Add an acquired image as a page."""
        from htr_desktop.loading import page_from_array
        from model.imageio import ImageError

        count = sum(p.name.startswith("scan") for p in self.workspace.pages) + 1
        try:
            page = page_from_array(image, f"scan {count}")
        except ImageError as exc:
            self.show_message(f"The scan is unusable: {exc}", "error")
            return
        self.workspace.add_pages([page])
