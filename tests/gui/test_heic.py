"""HEIC/HEIF photos in the window: offered by the open dialog, opened from it and by drag-and-drop."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtWidgets import QFileDialog

from tests.conftest import encode_heic, render_text
from tests.gui.conftest import wait_recognized
from tests.gui.test_drop import _drop


def test_open_dialog_offers_and_opens_heic(qtbot, window, tmp_path, monkeypatch):
    photo = tmp_path / "IMG_0042.HEIC"
    gray = render_text("from a phone")
    photo.write_bytes(encode_heic(gray))
    filters = []

    def dialog(*args, **kwargs):
        filters.append(args[3] if len(args) > 3 else kwargs.get("filter", ""))
        return [str(photo)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", dialog)
    window.actions_["open"].trigger()
    page = wait_recognized(qtbot, window)
    assert "*.heic" in filters[0] and "*.heif" in filters[0]
    assert page.name == "IMG_0042.HEIC" and page.gray.shape == gray.shape
    assert abs(int(page.gray.mean()) - int(gray.mean())) < 3


def test_dropped_heic_is_recognized(qtbot, window, tmp_path):
    photo = tmp_path / "scan.heif"
    photo.write_bytes(encode_heic(render_text("dropped")))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    assert _drop(window, mime).isAccepted()
    page = wait_recognized(qtbot, window)
    assert page.name == "scan.heif" and page.regions[0].text
