"""The status bar's permanent part: recognition progress (jobs, lines, batch images) with Cancel, zoom, model."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent, QStatusTipEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from htr_desktop.worker import RecognitionService


class MessageLabel(QLabel):
    """One line of text that ends in "…" where it does not fit (the whole text in its tooltip)."""

    def minimumSizeHint(self) -> QSize:
        """As narrow as needed: the permanent widgets keep their room."""
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        """No wider than the bar gives it."""
        return QSize(0, super().sizeHint().height())

    def shown_text(self) -> str:
        """The text as painted: elided to the label's width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, _event: QPaintEvent) -> None:
        """Paint the elided text."""
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        align = Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(self.contentsRect(), align | Qt.TextFlag.TextSingleLine, self.shown_text())


class StatusBar(QStatusBar):
    """A status bar whose messages stop, elided, before the permanent widgets (zoom, model) instead of running
    into them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_label = MessageLabel()
        self.message_label.setContentsMargins(2, 0, 12, 0)
        self.addWidget(self.message_label, 1)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.clearMessage)
        if parent is not None:
            parent.installEventFilter(self)  # menu and toolbar status tips: elided like any other message

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Show the window's status tips (hovered actions) here, so that they are elided too."""
        if isinstance(event, QStatusTipEvent):
            self.showMessage(event.tip())
            return True
        return super().eventFilter(watched, event)

    def showMessage(self, text: str, timeout: int | None = 0) -> None:
        """Show ``text`` for ``timeout`` ms (0: until the next message)."""
        self.message_label.setText(text)
        self.message_label.setToolTip(text if text else "")
        self._timer.stop()
        if timeout and timeout > 0 and text:
            self._timer.start(timeout)
        self.messageChanged.emit(text)

    def clearMessage(self) -> None:
        """Remove the message."""
        self.showMessage("")

    def currentMessage(self) -> str:
        """The whole message, however it is elided on screen."""
        return self.message_label.text()


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
        service.idle.connect(self._idle)

    def _idle(self) -> None:
        if not self.service.failed:  # (a failure says so above the image: never "finished" then)
            bar = self.parent()
            if isinstance(bar, QStatusBar):
                bar.showMessage("Recognition finished", 3000)

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
