"""Opening images: the Open action (file dialog), folders, multi-page TIFF, recent files; recognition starts."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtWidgets import QFileDialog

from tests.conftest import render_text
from tests.gui.conftest import wait_recognized


def test_open_action_opens_and_recognizes(qtbot, window, line_file, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(line_file)], ""))
    window.actions_["open"].trigger()
    page = wait_recognized(qtbot, window)
    assert page.name == "note.png"
    assert page.gray.shape == cv2.imread(str(line_file), cv2.IMREAD_GRAYSCALE).shape
    region = page.regions[0]
    assert region.box == (0, 0, page.size[0], page.size[1])
    assert region.text == f"w{page.size[0]} low"
    row = window.results.rows[region.id]
    assert row.edit.toPlainText() == region.text
    assert window.view.pixmap_item is not None
    assert window.settings.recent_files() == [str(line_file)]
    assert window.windowTitle().startswith("note.png")


def test_open_folder_and_multipage_tiff(qtbot, window, tmp_path):
    folder = tmp_path / "letters"
    folder.mkdir()
    for i in range(2):
        cv2.imwrite(str(folder / f"{i}.jpg"), render_text(f"line {i}"))
    pages = [render_text("first page"), render_text("second page")]
    assert cv2.imwritemulti(str(folder / "multi.tiff"), pages)
    (folder / "readme.txt").write_text("not an image")
    window.open_paths([str(folder)])
    names = [p.name for p in window.workspace.pages]
    assert names == ["0.jpg", "1.jpg", "multi.tiff p1", "multi.tiff p2"]
    assert window.pages_dock.isVisibleTo(window)
    assert window.page_list.count() == 4
    qtbot.waitUntil(lambda: all(p.regions and p.regions[0].confidence is not None for p in window.workspace.pages),
                    timeout=10000)
    window.actions_["next_page"].trigger()
    assert window.workspace.current.name == "1.jpg"


def test_supported_formats(qtbot, window, tmp_path):
    img = render_text("formats")
    paths = []
    for ext in ("png", "jpg", "tif", "bmp", "webp"):
        path = tmp_path / f"f.{ext}"
        assert cv2.imwrite(str(path), img)
        paths.append(str(path))
    window.open_paths(paths)
    assert len(window.workspace.pages) == 5
    for page in window.workspace.pages:
        assert np.abs(page.gray.astype(int) - img.astype(int)).mean() < 4


def test_recent_files_menu_reopens(qtbot, window, line_file):
    window.settings.add_recent(str(line_file))
    window.recent_menu.aboutToShow.emit()
    actions = window.recent_menu.actions()
    assert actions[0].text() == str(line_file)
    actions[0].trigger()
    assert window.workspace.current.name == "note.png"
