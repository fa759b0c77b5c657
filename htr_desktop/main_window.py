"""The main window: actions, menus, docks and wiring between workspace, image view, results and worker."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QRectF, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from htr_desktop import drops, session
from htr_desktop.about_dialog import AboutDialog
from htr_desktop.actions import build_actions
from htr_desktop.autosave import Autosave
from htr_desktop.image_view import ImageView
from htr_desktop.message_bar import MessageBar
from htr_desktop.qt_fixes import guard_bool_refcounts
from htr_desktop.regions import Page
from htr_desktop.results import ResultsPanel
from htr_desktop.save_banner import SaveBanner
from htr_desktop.settings import Settings
from htr_desktop.settings_dialog import SettingsDialog
from htr_desktop.worker import Loader, RecognitionService
from htr_desktop.workspace import Workspace

if TYPE_CHECKING:
    from htr_desktop.guide_dialog import GuideDialog
    from htr_desktop.scan_dialog import ScanDialog

# Modules that pull in numpy, OpenCV, qimage2ndarray or model.* (export, imaging, loading, scanning, scan_dialog,
# model.imageio) are imported inside the methods that need them, so the window shows before they load.

log = logging.getLogger(__name__)
IMAGE_FILTER = "Images and PDF (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.pbm *.pgm *.ppm *.pdf);;All files (*)"


class MainWindow(QMainWindow):
    """Wiring only: behaviour lives in Workspace, ImageView, ResultsPanel and RecognitionService."""

    def __init__(self, settings: Settings, loader: Loader, session_dir: Path | None = None) -> None:
        super().__init__()
        guard_bool_refcounts()  # before any signal is emitted from Python (PySide6 6.12.0 bug, see qt_fixes)
        self.setWindowTitle("htr-desktop")
        self.setAcceptDrops(True)
        self.settings = settings
        self.session_dir = session_dir or Path(settings.get("session/folder") or session.default_folder())
        self.service = RecognitionService(loader, self)
        self.workspace = Workspace(self.service, settings, self)
        self.view = ImageView()
        self.results = ResultsPanel()
        self.messages = MessageBar()
        self.save_banner = SaveBanner()
        self.scan_dialog: ScanDialog | None = None
        self.guide: GuideDialog | None = None
        self._build_layout()
        self.actions_ = build_actions(self)
        self._add_undo_actions()
        self._build_menus()
        self.autosave = Autosave(self.session_dir, self._snapshot, self)
        self._wire()
        self._shut_down = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._update_actions()
        self.resize(1200, 780)
        geometry = settings.get("ui/geometry")
        if geometry:
            self.restoreGeometry(geometry)

    # --- construction --------------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        left = QWidget()
        box = QVBoxLayout(left)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.save_banner)
        box.addWidget(self.messages)
        box.addWidget(self.view, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.results)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([720, 480])
        self.setCentralWidget(self.splitter)
        self.page_list = QListWidget()
        self.pages_dock = QDockWidget("Images", self)
        self.pages_dock.setObjectName("images")
        self.pages_dock.setWidget(self.page_list)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.pages_dock)
        self.pages_dock.hide()
        self.model_label = QLabel("Loading model…")
        self.zoom_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.statusBar().addPermanentWidget(self.model_label)
        self.progress.hide()
        self.cancel_button.hide()

    def _add_undo_actions(self) -> None:
        from PySide6.QtGui import QAction, QKeySequence

        undo = self.workspace.undo.createUndoAction(self, "&Undo")
        undo.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
        redo = self.workspace.undo.createRedoAction(self, "&Redo")
        keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        redo.setShortcuts([*keys, *([QKeySequence("Ctrl+Shift+Z")] if QKeySequence("Ctrl+Shift+Z") not in keys
                                     else [])])
        draw = QAction("Dra&w boxes", self)
        draw.setCheckable(True)
        draw.setStatusTip("Every drag draws a box, also inside a line (Shift+drag does it once)")
        draw.toggled.connect(self.view.set_draw_mode)
        for action in (undo, redo, draw):
            self.addAction(action)
        self.actions_["undo"], self.actions_["redo"], self.actions_["draw_mode"] = undo, redo, draw

    def _build_menus(self) -> None:
        a = self.actions_
        menus = {
            "&File": ["open", "open_folder", "recent", "paste", "scan", None, "export", "batch", None, "close_page",
                      "close_all", None, "quit"],
            "&Edit": ["undo", "redo", None, "copy", "copy_all", None,
                      "delete_region", "move_up", "move_down", "sort", None, "settings"],
            "&Recognize": ["detect", "recognize", "rerecognize", "cancel", None, "next_low"],
            "&View": ["draw_mode", None, "zoom_in", "zoom_out", "fit", "actual", None, "next_page", "prev_page"],
            "&Help": ["guide", "about"],
        }
        for title, names in menus.items():
            menu = self.menuBar().addMenu(title)
            for name in names:
                if name is None:
                    menu.addSeparator()
                elif name == "recent":
                    self.recent_menu = menu.addMenu("Open &recent")
                    self.recent_menu.aboutToShow.connect(self._fill_recent)
                else:
                    menu.addAction(a[name])
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in ["open", "scan", "detect", "export", None, "undo", "redo", "draw_mode", None, "copy_all", None,
                     "fit", "actual"]:
            toolbar.addSeparator() if name is None else toolbar.addAction(a[name])

    def _wire(self) -> None:
        ws, view, res, svc = self.workspace, self.view, self.results, self.service
        ws.current_changed.connect(self._show_page)
        ws.pages_changed.connect(self._fill_page_list)
        ws.regions_changed.connect(self._show_regions)
        ws.region_updated.connect(self._region_updated)
        ws.message.connect(self.show_message)
        ws.modified.connect(self.autosave.changed)
        self.autosave.failed.connect(self.save_banner.show_problem)
        self.autosave.recovered.connect(self.save_banner.clear)
        self.save_banner.save_elsewhere.connect(self.save_session_elsewhere)
        self.save_banner.export_all.connect(self.export_all)
        view.region_drawn.connect(self.add_region_from_rect)
        view.region_changed.connect(self._region_moved)
        view.region_clicked.connect(res.highlight)
        view.delete_requested.connect(ws.delete_regions)
        view.files_dropped.connect(self.open_paths)
        view.image_dropped.connect(self._image_dropped)
        view.zoom_changed.connect(self._zoom_changed)
        res.text_edited.connect(ws.set_text)
        res.row_activated.connect(view.highlight)
        res.word_activated.connect(view.highlight_word)
        self.page_list.currentRowChanged.connect(self._page_row_changed)
        svc.model_ready.connect(self._model_ready)
        svc.model_failed.connect(self._model_failed)
        svc.progress.connect(self._progress)
        svc.item_progress.connect(self._item_progress)
        svc.idle.connect(self._recognition_idle)
        svc.job_done.connect(self._job_done)
        self.cancel_button.clicked.connect(self.cancel)

    def _region_moved(self, region_id: int, rect: QRectF) -> None:
        self.workspace.move_box(region_id, _box(rect))

    def _image_dropped(self, image: QImage) -> None:
        self.add_qimage(image, "dropped image")

    def _zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom:.0%}")

    def _model_ready(self, info: Any) -> None:
        self.model_label.setText(f"Model {info.version}")
        self.results.threshold = info.decoder.low_confidence  # chosen on validation data: docs/decoding.md

    # --- start, session ------------------------------------------------------------------------------------
    def start(self, paths: list[str] | None = None) -> None:
        """Deferred start-up: restore the last session, open ``paths``, load the model in the background."""
        self.service.preload()
        restored = self.autosave.open()
        pages = restored.pages
        if pages:
            self.workspace.add_pages(pages, recognize=False)
            self.workspace.set_current(pages[min(max(restored.current, 0), len(pages) - 1)])
            self.statusBar().showMessage(f"Restored {len(pages)} image(s) from the last session", 5000)
        if restored.problems:
            self.show_message(" ".join(restored.problems), "warning", seconds=0)
        if paths:
            self.open_paths(paths)

    def _snapshot(self) -> tuple[list[Page], int]:
        ws = self.workspace
        return list(ws.pages), ws.pages.index(ws.current) if ws.current in ws.pages else 0

    def save_session(self) -> bool:
        """Save now; False (and the save banner shows why) when it failed."""
        return self.autosave.save()

    def save_session_elsewhere(self) -> None:
        """The way out when the data folder cannot be written: keep saving the session in another folder."""
        folder = QFileDialog.getExistingDirectory(self, "Folder to save the session in",
                                                  self.settings.get("files/last_dir"))
        if folder:
            self.move_session(Path(folder))

    def move_session(self, folder: Path) -> bool:
        """Save the session in ``folder`` from now on (also at the next start)."""
        if not self.autosave.move_to(folder):
            return False
        self.session_dir = folder
        self.settings.set("session/folder", str(folder))
        self.show_message(f"The session is now saved in {folder}.", "info")
        return True

    def export_all(self) -> None:
        """Export the text of every open image to one file."""
        from htr_desktop import export

        path, _ = QFileDialog.getSaveFileName(self, "Export all images' text",
                                              str(Path(self.settings.get("files/last_dir")) / "htr-desktop.txt"),
                                              ";;".join(export.FORMATS.values()))
        if path:
            self.export_to(path, all_pages=True)

    def ask_unsaved(self) -> str:
        """At close, when the session cannot be saved: "elsewhere", "discard" or "cancel"."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Session not saved",
                          f"{self.autosave.error} Closing now loses the images, boxes and texts of this window.",
                          QMessageBox.StandardButton.Cancel, self)
        elsewhere = box.addButton("Save in another folder…", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Close without saving", QMessageBox.ButtonRole.DestructiveRole)
        box.exec()
        return "elsewhere" if box.clickedButton() is elsewhere else "discard" if box.clickedButton() is discard \
            else "cancel"

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save everything (asking for a way out when that fails), stop the worker."""
        while not self._shut_down and not self.save_session() and self.workspace.pages:
            answer = self.ask_unsaved()
            if answer == "discard":
                break
            folder = QFileDialog.getExistingDirectory(self, "Folder to save the session in") \
                if answer == "elsewhere" else ""
            if not folder:
                event.ignore()
                return
            if self.move_session(Path(folder)):
                break
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Save the session and geometry, stop the worker (on close, and on app quit with the window open)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.save_session()
        self.autosave.close()
        self.settings.set("ui/geometry", bytes(self.saveGeometry().data()))
        self.service.shutdown()
        self.view.dispose()

    # --- showing -------------------------------------------------------------------------------------------
    def show_message(self, text: str, level: str = "info", seconds: int = 12) -> None:
        """A non-modal message above the image and in the status bar (``seconds=0``: until closed)."""
        self.messages.show_message(text, level, seconds)
        self.statusBar().showMessage(text, 8000)

    def _show_page(self, page: Page | None) -> None:
        if page is None:
            self.view.set_image(None)
        else:
            from htr_desktop.imaging import display_image

            image, scale = display_image(page.gray)
            self.view.set_image(image, scale)
            if scale < 1:
                self.statusBar().showMessage(f"{page.name}: large image shown at {scale:.0%} "
                                             "(recognition uses full resolution)", 8000)
            index = self.workspace.pages.index(page)
            if self.page_list.currentRow() != index:
                self.page_list.setCurrentRow(index)
        self._show_regions(page)
        self.setWindowTitle(f"{page.name} – htr-desktop" if page else "htr-desktop")

    def _show_regions(self, page: Page | None) -> None:
        if page is not self.workspace.current:
            return
        regions = page.regions if page else []
        self.view.set_regions([(r.id, QRectF(*r.box), _state(r, self.results.threshold), _word_rects(r))
                               for r in regions])
        self.results.set_regions(regions, self._strip_source(page))
        self._update_actions()

    @staticmethod
    def _strip_source(page: Page | None) -> Any:
        if page is None:
            return None

        def strip(box: tuple[int, int, int, int]) -> QImage | None:
            from htr_desktop.imaging import gray_to_qimage
            from model.imageio import ImageError

            try:
                return gray_to_qimage(page.crop(box))
            except ImageError:
                return None
        return strip

    def _region_updated(self, page: Page, region: Any) -> None:
        if page is self.workspace.current:
            self.results.update_region(region)
            item = self.view.items_by_id.get(region.id)
            if item is not None:
                item.set_state(_state(region, self.results.threshold))
                item.set_words(_word_rects(region))

    def _fill_page_list(self) -> None:
        self.page_list.blockSignals(True)
        self.page_list.clear()
        self.page_list.addItems([p.name for p in self.workspace.pages])
        self.page_list.blockSignals(False)
        self.pages_dock.setVisible(len(self.workspace.pages) > 1)
        self._update_actions()

    def _page_row_changed(self, row: int) -> None:
        if 0 <= row < len(self.workspace.pages) and self.workspace.pages[row] is not self.workspace.current:
            self.workspace.set_current(self.workspace.pages[row])

    def _update_actions(self) -> None:
        has_page = self.workspace.current is not None
        for name in ("detect", "recognize", "export", "close_page", "close_all", "copy_all", "fit", "actual",
                     "zoom_in", "zoom_out", "rerecognize", "sort"):
            self.actions_[name].setEnabled(has_page)
        many = len(self.workspace.pages) > 1
        self.actions_["next_page"].setEnabled(many)
        self.actions_["prev_page"].setEnabled(many)

    def _model_failed(self, message: str) -> None:
        self.model_label.setText("No model")
        self.show_message(f"The model cannot be loaded: {message}. Images can still be opened and edited; "
                          "choose a model folder in Settings.", "error")

    def _progress(self, done: int, total: int) -> None:
        busy = total > 0
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"{done}/{total} jobs")

    def _item_progress(self, done: int, total: int) -> None:
        if total > 1:
            self.progress.setFormat(f"{self.service.done + 1}/{self.service.total} jobs · {done}/{total} lines")

    def _recognition_idle(self) -> None:
        self.statusBar().showMessage("Recognition finished", 3000)
        if self.settings.auto_copy and self.workspace.current is not None and self.workspace.current.text:
            self.copy_all()

    # --- file actions --------------------------------------------------------------------------------------
    def open_paths(self, paths: list[str]) -> None:
        """Open files or folders (the message bar reports the bad ones)."""
        pages = self.workspace.open_paths(paths)
        if pages and Path(paths[0]).parent.exists():
            self.settings.set("files/last_dir", str(Path(paths[0]).parent))

    def open_files(self) -> None:
        """File > Open."""
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", self.settings.get("files/last_dir"),
                                                IMAGE_FILTER)
        if paths:
            self.open_paths(paths)

    def open_folder(self) -> None:
        """File > Open folder."""
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", self.settings.get("files/last_dir"))
        if folder:
            self.open_paths([folder])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files():
            self.recent_menu.addAction(path, lambda p=path: self.open_paths([p]))
        if not self.settings.recent_files():
            self.recent_menu.addAction("(none)").setEnabled(False)

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

    def paste(self) -> None:
        """Edit > Paste image: an image or image files from the clipboard."""
        mime = QGuiApplication.clipboard().mimeData()
        paths = drops.local_paths(mime) if mime is not None else []
        image = drops.image(mime) if mime is not None else None
        if paths:
            self.open_paths(paths)
        elif image is not None:
            self.add_qimage(image, "pasted image")
        else:
            self.show_message("The clipboard holds no image.", "warning")

    def scan(self) -> None:
        """File > Scan: the scan dialog (SANE scanners and cameras)."""
        from htr_desktop.scan_dialog import ScanDialog
        from htr_desktop.scanning import scanners

        if self.scan_dialog is None:
            self.scan_dialog = ScanDialog(scanners(), self.settings, self)
            self.scan_dialog.scanned.connect(self.add_scan)
        self.scan_dialog.show()
        self.scan_dialog.find_devices()

    def add_scan(self, image: Any) -> None:
        """Add an acquired image as a page."""
        from htr_desktop.loading import page_from_array
        from model.imageio import ImageError

        try:
            page = page_from_array(image, f"scan {sum(p.name.startswith('scan') for p in self.workspace.pages) + 1}")
        except ImageError as exc:
            self.show_message(f"The scan is unusable: {exc}", "error")
            return
        self.workspace.add_pages([page])

    def export(self) -> None:
        """File > Export."""
        from htr_desktop import export

        if self.workspace.current is None:
            return
        stem = Path(self.workspace.current.name).stem
        path, _ = QFileDialog.getSaveFileName(self, "Export text", str(Path(self.settings.get("files/last_dir"))
                                                                       / f"{stem}.txt"),
                                              ";;".join(export.FORMATS.values()))
        if path:
            self.export_to(path)

    def export_to(self, path: str, all_pages: bool = False) -> bool:
        """Write the current page (or all pages) to ``path`` (.txt/.json/.csv)."""
        from htr_desktop import export

        pages = self.workspace.pages if all_pages else [self.workspace.current]
        if Path(path).suffix.lower() not in {export.suffix(f) for f in export.FORMATS}:
            path = f"{path}.txt"
        try:
            out = export.write(path, [p for p in pages if p is not None], self._model_version())
        except (OSError, ValueError) as exc:
            self.show_message(f"Cannot export to {Path(path).name}: {exc}", "error")
            return False
        self.statusBar().showMessage(f"Exported {', '.join(p.name for p in out)}", 5000)
        return True

    def batch(self) -> None:
        """File > Batch: recognize a folder, write one file per image or one CSV."""
        from htr_desktop import export

        folder = QFileDialog.getExistingDirectory(self, "Folder of images to recognize")
        if not folder:
            return
        out, fmt = QFileDialog.getSaveFileName(self, "Where to write (choose the format)",
                                               str(Path(folder) / "results"), ";;".join(export.FORMATS.values()))
        if out:
            mode = next(k for k, v in export.FORMATS.items() if v == fmt) if fmt in export.FORMATS.values() else "txt"
            self.start_batch(Path(folder), Path(out).parent, mode)

    def start_batch(self, folder: Path, out_dir: Path, mode: str) -> None:
        """Queue a batch job (runs in the worker with the loaded model)."""
        from functools import partial

        from htr_desktop import export
        from htr_desktop.worker import Task

        try:
            files = export.image_files(folder)
        except OSError as exc:
            self.show_message(f"Cannot read the folder {folder.name}: {exc}", "error")
            return
        if not files:
            self.show_message(f"No images in {folder}", "warning")
            return
        job = partial(export.batch, files, out_dir, mode, layout=self.settings.layout,
                      options=self.settings.preprocessing, on_file=self.service.file_progress.emit)
        self.service.submit(Task(page_id=0, job=lambda rec: job(recognizer=rec)))
        self.statusBar().showMessage(f"Batch: {len(files)} image(s) from {folder.name}…")

    def _job_done(self, task: Any) -> None:
        result = task.result or {}
        errors = result.get("errors", {})
        text = f"Batch done: wrote {len(result.get('written', []))} file(s)"
        if errors:
            first = next(iter(errors.values()))
            self.show_message(f"{text}; {len(errors)} image(s) could not be read ({first})", "warning")
        else:
            self.show_message(text, "info")

    def close_page(self) -> None:
        """File > Close image."""
        if self.workspace.current is not None:
            self.workspace.close_page(self.workspace.current)

    def close_all(self) -> None:
        """File > Close all."""
        self.workspace.close_all()

    # --- edit actions --------------------------------------------------------------------------------------
    def copy_text(self, text: str) -> None:
        """Put ``text`` on the clipboard."""
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage(f"Copied {len(text)} characters", 3000)

    def copy_all(self) -> None:
        """Copy the whole text of the current image."""
        if self.workspace.current is not None:
            self.copy_text(self.workspace.current.text)

    def copy_selection(self) -> None:
        """Copy the selected text, the selected region's text, or everything."""
        selected = self.results.selected_text()
        page = self.workspace.current
        if not selected and page is not None:
            ids = self.view.selected_ids()
            selected = "\n".join(r.text for r in page.regions if r.id in ids)
        if selected:
            self.copy_text(selected)
        else:
            self.copy_all()

    def add_region_from_rect(self, rect: QRectF) -> None:
        """A rubber band was drawn: add and recognize a region."""
        self.workspace.add_region(_box(rect))

    def _current_region(self) -> int | None:
        ids = self.view.selected_ids()
        return ids[0] if ids else self.results.current

    def delete_regions(self) -> None:
        """Delete the selected region(s)."""
        ids = self.view.selected_ids() or ([self.results.current] if self.results.current else [])
        self.workspace.delete_regions(ids)

    def move_up(self) -> None:
        """Earlier in reading order."""
        if (rid := self._current_region()) is not None:
            self.workspace.move_in_order(rid, -1)

    def move_down(self) -> None:
        """Later in reading order."""
        if (rid := self._current_region()) is not None:
            self.workspace.move_in_order(rid, +1)

    def sort_regions(self) -> None:
        """Sort regions in reading order."""
        self.workspace.sort_regions()

    def show_settings(self) -> None:
        """Settings dialog; reloads the model when it changed."""
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() and dialog.apply():
            from htr_desktop.app import model_loader

            self.model_label.setText("Loading model…")
            self.service.set_loader(model_loader(self.settings))

    def show_guide(self) -> None:
        """Help > User guide (F1)."""
        from htr_desktop.guide_dialog import GuideDialog

        if self.guide is None:
            self.guide = GuideDialog(self)
        self.guide.show()
        self.guide.raise_()

    def next_low_word(self) -> None:
        """Select the next low-confidence word (F3 / Ctrl+J)."""
        if not self.results.next_low_word():
            self.statusBar().showMessage("No doubtful words left", 3000)

    def show_about(self) -> None:
        """Help > About."""
        AboutDialog(self.service.info, self.service.error, self).exec()

    def _model_version(self) -> str:
        return self.service.info.version if self.service.info is not None else ""

    # --- recognition and view actions ----------------------------------------------------------------------
    def detect_lines(self) -> None:
        """Find lines on the page and recognize them."""
        self.workspace.detect_lines()

    def recognize_page(self) -> None:
        """Recognize the whole image (layout from Settings)."""
        if self.workspace.current is not None:
            self.workspace.recognize_whole(self.workspace.current)

    def recognize_regions(self) -> None:
        """Re-recognize every region."""
        self.workspace.recognize_all_regions()

    def cancel(self) -> None:
        """Stop recognition."""
        self.service.cancel()
        self.statusBar().showMessage("Cancelled", 3000)

    def zoom_in(self) -> None:
        """Zoom in."""
        self.view.zoom_by(1.25)

    def zoom_out(self) -> None:
        """Zoom out."""
        self.view.zoom_by(0.8)

    def fit(self) -> None:
        """Fit to window."""
        self.view.fit()

    def actual_size(self) -> None:
        """100 %."""
        self.view.actual_size()

    def _step_page(self, step: int) -> None:
        pages = self.workspace.pages
        if pages and self.workspace.current in pages:
            self.workspace.set_current(pages[(pages.index(self.workspace.current) + step) % len(pages)])

    def next_page(self) -> None:
        """Next image."""
        self._step_page(1)

    def prev_page(self) -> None:
        """Previous image."""
        self._step_page(-1)

    # --- drops on the whole window -------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept files and images anywhere on the window."""
        if drops.accepts(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open dropped files or image data; recognition starts at once."""
        mime = event.mimeData()
        paths = drops.local_paths(mime)
        image = drops.image(mime)
        if paths:
            self.open_paths(paths)
        elif image is not None:
            self.add_qimage(image, "dropped image")
        else:
            return
        event.acceptProposedAction()


def _box(rect: QRectF) -> tuple[int, int, int, int]:
    r = rect.normalized()
    return round(r.x()), round(r.y()), round(r.width()), round(r.height())


def _word_rects(region: Any) -> list[QRectF | None]:
    return [None if w.box is None else QRectF(*w.box) for w in region.words]


def _state(region: Any, threshold: float) -> str:
    if region.confidence is None:
        return "pending"
    return "low" if region.confidence < threshold and not region.edited else "done"
