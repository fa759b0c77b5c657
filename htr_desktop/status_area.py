"""The status bar's permanent part: recognition progress (jobs, lines, batch images) with Cancel, zoom, model."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from htr_desktop.worker import RecognitionService


class StatusArea(QObject):
    """Follows the recognition service; Cancel calls ``cancel``."""

    def __init__(self, bar: QStatusBar, service: RecognitionService, cancel: Callable[[], None]) -> None:
        super().__init__(bar)
        self.service = service
        self.model_label = QLabel("Loading model…")
        self.zoom_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        for widget in (self.progress, self.cancel_button, self.zoom_label, self.model_label):
            bar.addPermanentWidget(widget)
        self.progress.hide()
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(cancel)
        service.model_ready.connect(lambda info: self.model_label.setText(f"Model {info.version}"))
        service.model_failed.connect(lambda _message: self.model_label.setText("No model"))
        service.progress.connect(self._progress)
        service.item_progress.connect(self._item_progress)
        service.file_progress.connect(self._file_progress)

    def show_zoom(self, zoom: float) -> None:
        """The view's zoom (1.0 = 100 %)."""
        self.zoom_label.setText(f"{zoom:.0%}")

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

    def _file_progress(self, done: int, total: int) -> None:
        self.progress.setFormat(f"batch · {done}/{total} images")
