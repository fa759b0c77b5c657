"""The main window: actions, menus, docks and wiring between workspace, image view, results and worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from htr_desktop import drops, session
from htr_desktop.actions import NEED_PAGE, build_actions, fill_menus
from htr_desktop.alternatives import Suggester
from htr_desktop.autosave import Autosave
from htr_desktop.batch_dialog import BatchRunner
from htr_desktop.closing import close_pages
from htr_desktop.copying import Copier
from htr_desktop.exporting import Exporter
from htr_desktop.image_view import ImageView
from htr_desktop.intake import Intake
from htr_desktop.message_bar import MessageBar
from htr_desktop.personal import Personal, describe_model
from htr_desktop.presenter import Presenter, rect_box
from htr_desktop.qt_fixes import guard_bool_refcounts
from htr_desktop.regions import Page
from htr_desktop.results import ResultsPanel
from htr_desktop.save_banner import SaveBanner
from htr_desktop.settings import Settings
from htr_desktop.status_area import StatusArea, StatusBar
from htr_desktop.worker import Loader, RecognitionService, no_model_text
from htr_desktop.workspace import Workspace

if TYPE_CHECKING:
    from htr_desktop.guide_dialog import GuideDialog

# Modules that pull in numpy, OpenCV, qimage2ndarray or model.* (export, imaging, loading, scanning, scan_dialog,
# model.imageio) are imported inside the methods that need them, so the window shows before they load.

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Wiring only: behaviour lives in Workspace, Intake, Exporter, BatchRunner, Presenter and the widgets."""

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
        self.guide: GuideDialog | None = None
        self._build_layout()
        self.intake = Intake(self, self.workspace, settings, self.show_message)
        self.exporter = Exporter(self, self.workspace, settings, self.show_message, self._model_version)
        self.batch = BatchRunner(self, self.service, settings, self.show_message)
        self.setStatusBar(StatusBar(self))
        self.status = StatusArea(self.statusBar(), self.service, self.cancel)
        self.results.suggest = self.suggester = Suggester(settings)
        self.copier = Copier(self.workspace, self.results, self.view, self.statusBar().showMessage)
        self.model_label = self.status.model_label
        self.presenter = Presenter(self.workspace, self.view, self.results, self.page_list,
                                   self.statusBar().showMessage)
        made = {"undo": self.workspace.undo.createUndoAction(self, "&Undo"),
                "redo": self.workspace.undo.createRedoAction(self, "&Redo")}
        self.actions_ = build_actions(self, self._slots(), made)
        self.recent_menu = fill_menus(self, self.actions_, self.intake.fill_recent)
        self.autosave = Autosave(self.session_dir, self._snapshot, self)
        self.personal = Personal(self)
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
    def _slots(self) -> dict[str, Callable[..., object]]:
        ws, view = self.workspace, self.view
        return {
            "open": self.intake.open_files, "open_folder": self.intake.open_folder, "paste": self.intake.paste,
            "scan": self.intake.scan, "export": self.exporter.export,
            "export_all": lambda: self.exporter.export(all_pages=True), "batch": self.batch.ask,
            "close_page": lambda: close_pages(self, ws), "close_all": lambda: close_pages(self, ws, every=True),
            "quit": self.close, "copy": self.copier.copy_selection,
            "copy_all": self.copier.copy_all,
            "delete_region": self.presenter.delete_selected,
            "move_up": lambda: self.presenter.move_selected(-1), "move_down": lambda: self.presenter.move_selected(+1),
            "sort": ws.sort_regions, "settings": self.show_settings,
            "detect": ws.detect_lines, "recognize": lambda: ws.recognize_whole(ws.current) if ws.current else None,
            "rerecognize": ws.recognize_all_regions, "cancel": self.cancel, "next_low": self.presenter.next_low_word,
            "draw_mode": view.set_draw_mode, "zoom_in": lambda: view.zoom_by(1.25),
            "zoom_out": lambda: view.zoom_by(0.8), "fit": view.fit, "actual": view.actual_size,
            "next_page": lambda: self.presenter.step_page(1), "prev_page": lambda: self.presenter.step_page(-1),
            "guide": self.show_guide, "about": self.show_about,
        }

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

    def _wire(self) -> None:
        ws, view, res, svc = self.workspace, self.view, self.results, self.service
        ws.pages_changed.connect(self._pages_changed)
        ws.current_changed.connect(self._page_shown)
        ws.regions_changed.connect(self._update_actions)
        ws.message.connect(self.show_message)
        ws.modified.connect(self.autosave.changed)
        self.autosave.failed.connect(self.save_banner.show_problem)
        self.autosave.recovered.connect(self.save_banner.clear)
        self.save_banner.save_elsewhere.connect(self.save_session_elsewhere)
        self.save_banner.export_all.connect(lambda: self.exporter.export(all_pages=True))
        view.region_drawn.connect(lambda rect: ws.add_region(rect_box(rect)))
        view.region_changed.connect(lambda region_id, rect: ws.move_box(region_id, rect_box(rect)))
        view.region_clicked.connect(res.highlight)
        view.delete_requested.connect(ws.delete_regions)
        view.dropped.connect(lambda mime: self.intake.take(mime, "dropped"))
        view.zoom_changed.connect(self.status.show_zoom)
        res.text_edited.connect(ws.set_text)
        res.row_activated.connect(view.highlight)
        res.word_activated.connect(view.highlight_word)
        svc.model_ready.connect(self._model_ready)
        svc.model_failed.connect(self._model_failed)
        svc.idle.connect(self._recognition_idle)

    # --- start, session ------------------------------------------------------------------------------------
    def start(self, paths: list[str] | None = None) -> None:
        """Deferred start-up: restore the last session, open ``paths``, load the model in the background."""
        self.service.preload()
        restored = self.autosave.open()
        self.personal.refresh()
        pages = restored.pages
        if pages:
            self.workspace.add_pages(pages, recognize=False)
            self.workspace.set_current(pages[min(max(restored.current, 0), len(pages) - 1)])
            self.statusBar().showMessage(f"Restored {len(pages)} image(s) from the last session", 5000)
        if restored.problems:
            self.show_message(" ".join(restored.problems), "warning", seconds=0)
        elif restored.notices:
            self.show_message(" ".join(restored.notices), "info")
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
        self.personal.refresh()
        self.show_message(f"The session is now saved in {folder}.", "info")
        return True

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
        self.personal.shutdown()
        self.save_session()
        self.autosave.close()
        self.settings.set("ui/geometry", bytes(self.saveGeometry().data()))
        self.service.shutdown()
        self.view.dispose()

    # --- showing -------------------------------------------------------------------------------------------
    def show_message(self, text: str, level: str = "info", seconds: int = 12,
                     action: tuple[str, Callable[[], object]] | None = None) -> None:
        """A message above the image and in the status bar (``seconds=0``: until closed); "done" (a success)
        clears an error bar."""
        if level == "done":
            self.messages.clear_error()
            if action is None:
                self.statusBar().showMessage(text, 8000)
                return
            level = "info"
        self.messages.show_message(text, level, seconds, action=action)
        self.statusBar().showMessage(text, 8000)

    def _page_shown(self, page: Any) -> None:
        self.setWindowTitle(f"{page.name} – htr-desktop" if page else "htr-desktop")
        self._update_actions()

    def _pages_changed(self) -> None:
        self.pages_dock.setVisible(len(self.workspace.pages) > 1)
        self._update_actions()

    def _update_actions(self) -> None:
        has_page = self.workspace.current is not None
        for name in NEED_PAGE:
            self.actions_[name].setEnabled(has_page)
        for name in ("next_page", "prev_page"):
            self.actions_[name].setEnabled(len(self.workspace.pages) > 1)

    def _model_ready(self, info: Any) -> None:
        self.results.threshold = info.decoder.low_confidence  # chosen on validation data: docs/decoding.md
        self.suggester.info = info

    def _model_failed(self, message: str) -> None:
        if self.personal.fall_back(message):
            return
        self.show_message(no_model_text(message), "error")

    def _recognition_idle(self) -> None:
        if self.settings.auto_copy and self.workspace.current is not None and self.workspace.current.text:
            self.copier.copy_all()

    # --- actions -------------------------------------------------------------------------------------------
    def open_paths(self, paths: list[str]) -> None:
        """Open files or folders (the message bar reports the bad ones)."""
        self.intake.open_paths(paths)

    def export_to(self, path: str, all_pages: bool = False, fmt: str | None = None) -> bool:
        """Write the current page (or all pages) to ``path``; see Exporter.export_to."""
        return self.exporter.export_to(path, all_pages, fmt)

    def start_batch(self, folder: Path, out_dir: Path, fmt: str, csv_name: str = "results.csv") -> bool:
        """Recognize a folder into ``out_dir``; see BatchRunner.start."""
        return self.batch.start(folder, out_dir, fmt, csv_name)

    def show_settings(self) -> None:
        """Settings dialog; reloads the model when it changed."""
        from htr_desktop.settings_dialog import SettingsDialog

        in_use = describe_model(self.settings.model_path, self.service.info)
        dialog = SettingsDialog(self.settings, self, in_use=in_use)
        if dialog.exec() and dialog.apply():
            from htr_desktop.app import model_loader

            self.status.model_label.setText("Loading model…")
            self.service.set_loader(model_loader(self.settings))
            self.personal.refresh()

    def show_guide(self) -> None:
        """Help > User guide (F1): one non-modal window."""
        from htr_desktop.guide_dialog import GuideDialog

        self.guide = self.guide or GuideDialog(self)
        self.guide.show()
        self.guide.raise_()

    def show_about(self) -> None:
        """Help > About."""
        from htr_desktop.about_dialog import AboutDialog

        AboutDialog(self.service.info, self.service.error, self).exec()

    def _model_version(self) -> str:
        return self.service.info.version if self.service.info is not None else ""

    def cancel(self) -> None:
        """Stop recognition."""
        self.service.cancel()
        self.statusBar().showMessage("Cancelled", 3000)

    # --- drops on the whole window -------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept files and images anywhere on the window."""
        if drops.accepts(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open dropped files or image data; recognition starts at once."""
        if self.intake.take(event.mimeData(), "dropped"):
            event.acceptProposedAction()
