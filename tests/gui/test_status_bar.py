"""The status bar: a long message stops before the zoom and model labels, elided, and is kept whole."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

LONG = "Exported 3 images to " + "W" * 200


def _ink_columns(image: QImage, left: int, right: int) -> int:
    """How many columns in [left, right) of ``image`` hold dark (text) pixels."""
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    pixels = np.frombuffer(image.constBits(), np.uint8, stride * height).reshape(height, stride)[:, :width]
    return int((pixels[:, left:right] < 100).any(axis=0).sum())


def test_long_message_stops_before_the_zoom_label(qtbot, window):
    window.resize(640, 480)
    window.status.show_zoom(0.41)
    bar = window.statusBar()
    bar.showMessage(LONG, 8000)
    zoom = window.status.zoom_label
    qtbot.waitUntil(lambda: zoom.isVisible() and zoom.x() > 100)
    shot = bar.grab().toImage()
    scale = shot.width() / bar.width()
    gap_right = int(zoom.x() * scale)
    assert _ink_columns(shot, 0, gap_right) > 100  # the message is there
    assert _ink_columns(shot, gap_right - int(8 * scale), gap_right) == 0  # and leaves a gap before "41%"
    assert bar.currentMessage() == LONG  # whole, for whoever reads it back


def test_message_timeout_and_clear(qtbot, window):
    bar = window.statusBar()
    bar.showMessage("short", 50)
    assert bar.currentMessage() == "short"
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=2000)
    bar.showMessage("stays")
    qtbot.wait(100)
    assert bar.currentMessage() == "stays"
    bar.clearMessage()
    assert bar.currentMessage() == ""


def test_status_tips_of_hovered_actions_are_elided_too(qtbot, window):
    from PySide6.QtGui import QStatusTipEvent
    from PySide6.QtWidgets import QApplication

    window.resize(640, 480)
    bar = window.statusBar()
    qtbot.waitUntil(lambda: window.status.zoom_label.isVisible())
    QApplication.sendEvent(window, QStatusTipEvent(LONG))
    assert bar.currentMessage() == LONG
    assert bar.message_label.shown_text().endswith("…")
    QApplication.sendEvent(window, QStatusTipEvent(""))  # the pointer left the menu
    assert bar.currentMessage() == ""


def test_a_recognition_that_went_well_is_called_finished(qtbot, window, line_file):
    window.open_paths([str(line_file)])
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "Recognition finished", timeout=15000)
