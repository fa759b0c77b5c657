"""Drag-and-drop recognition: files from a file manager and image data from other applications."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from htr_desktop.imaging import gray_to_qimage
from tests.conftest import render_text
from tests.gui.conftest import wait_recognized


def _drop(widget, mime):
    pos = QPoint(widget.width() // 2, widget.height() // 2)
    enter = QDragEnterEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop


def test_drop_file_urls_on_window_recognizes_at_once(qtbot, window, line_file):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(line_file))])
    drop = _drop(window, mime)
    assert drop.isAccepted()
    assert window.service.busy or window.workspace.current.regions  # recognition already started
    page = wait_recognized(qtbot, window)
    assert page.name == "note.png"
    assert page.regions[0].text.startswith("w")


def test_drop_on_image_view(qtbot, window, line_file, page_file):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(line_file)), QUrl.fromLocalFile(str(page_file))])
    _drop(window.view.viewport(), mime)
    assert [p.name for p in window.workspace.pages] == ["note.png", "page.png"]


def test_drop_image_data_from_another_application(qtbot, window):
    mime = QMimeData()
    mime.setImageData(gray_to_qimage(render_text("dragged")))
    _drop(window, mime)
    page = wait_recognized(qtbot, window)
    assert page.name == "dropped image"
    assert page.source == ""


def test_drop_of_text_is_refused(qtbot, window):
    mime = QMimeData()
    mime.setText("just text")
    enter = QDragEnterEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    enter.setAccepted(False)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()
    assert window.workspace.pages == []


def test_drop_of_a_web_address_says_it_is_not_downloaded(qtbot, window):
    """A link dragged from a browser without the image's data: a message, not a refused drop that says nothing."""
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/scan.jpg")])
    _drop(window, mime)
    assert window.workspace.pages == []
    assert window.messages.text() == ("htr-desktop works offline and does not download https://example.org/scan.jpg: "
                                      "save the image on this computer first, then open or drop that file.")
