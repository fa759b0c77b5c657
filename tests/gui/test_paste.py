"""Paste (Ctrl+V): an image on the clipboard becomes a page and is recognized."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QGuiApplication

from htr_desktop.imaging import gray_to_qimage
from tests.conftest import render_text
from tests.gui.conftest import wait_recognized


def test_ctrl_v_pastes_clipboard_image(qtbot, window):
    image = render_text("pasted words")
    QGuiApplication.clipboard().setImage(gray_to_qimage(image))
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    page = wait_recognized(qtbot, window)
    assert page.name == "pasted image"
    assert page.gray.shape == image.shape
    assert abs(int(page.gray[5, 5]) - int(image[5, 5])) <= 1


def test_paste_files_from_clipboard(qtbot, window, line_file):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(line_file))])
    QGuiApplication.clipboard().setMimeData(mime)
    window.actions_["paste"].trigger()
    assert window.workspace.current.name == "note.png"


def test_paste_without_image_says_so(qtbot, window):
    QGuiApplication.clipboard().setText("no picture here")
    window.actions_["paste"].trigger()
    assert window.workspace.pages == []
    assert window.messages.isVisibleTo(window)
    assert "no image" in window.messages.text()
