"""Copy to the clipboard and read it back; export .txt/.json/.csv and re-read them."""

from __future__ import annotations

import csv
import json

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from tests.gui.conftest import wait_recognized


def _two_regions(qtbot, window, page_file):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(page_file)])
    window.workspace.add_region((40, 80, 300, 80))
    window.workspace.add_region((40, 170, 250, 80))
    return wait_recognized(qtbot, window, 2)


def test_copy_all_and_selection(qtbot, window, page_file):
    page = _two_regions(qtbot, window, page_file)
    window.actions_["copy_all"].trigger()
    assert QGuiApplication.clipboard().text() == "w300 low\nw250 low"
    window.view.items_by_id[page.regions[1].id].setSelected(True)
    window.actions_["copy"].trigger()
    assert QGuiApplication.clipboard().text() == "w250 low"
    edit = window.results.rows[page.regions[0].id].edit
    edit.setFocus()
    cursor = edit.textCursor()
    cursor.setPosition(0)
    cursor.setPosition(4, cursor.MoveMode.KeepAnchor)
    edit.setTextCursor(cursor)
    assert window.results.selected_text() == "w300"


def test_auto_copy_after_recognition(qtbot, window, line_file):
    window.settings.set("clipboard/auto_copy", True)
    QGuiApplication.clipboard().setText("old")
    window.open_paths([str(line_file)])
    page = wait_recognized(qtbot, window)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == page.text)


def test_export_each_format_and_reread(qtbot, window, page_file, tmp_path, monkeypatch):
    page = _two_regions(qtbot, window, page_file)
    window.results.rows[page.regions[0].id].edit.setPlainText("corrected")
    out_txt = tmp_path / "out.txt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out_txt), ""))
    window.actions_["export"].trigger()
    assert out_txt.read_text(encoding="utf-8") == "corrected\nw250 low\n"
    assert window.export_to(str(tmp_path / "out.json"))
    doc = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    (jp,) = doc["pages"]
    assert jp["name"] == "page.png" and jp["text"] == "corrected\nw250 low"
    assert [r["box"] for r in jp["regions"]] == [[40, 80, 300, 80], [40, 170, 250, 80]]
    assert jp["regions"][0]["edited"] is True
    assert jp["regions"][1]["confidence"] == 0.62
    word = jp["regions"][1]["words"][1]
    assert (word["text"], word["confidence"]) == ("low", 0.21)
    x, y, w, h = word["box"]  # a drawn region's words get boxes from its ink, inside the region
    assert 40 <= x and x + w <= 290 and 170 <= y and y + h <= 250
    assert doc["model"] == "fake-1.0"
    assert window.export_to(str(tmp_path / "out.csv"))
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["region"], r["x"], r["y"], r["w"], r["h"], r["text"]) for r in rows] == [
        ("1", "40", "80", "300", "80", "corrected"), ("2", "40", "170", "250", "80", "w250 low")]
    assert rows[1]["confidence"] == "0.6200" and rows[0]["edited"] == "1"


def test_export_to_unwritable_place_says_so(qtbot, window, line_file, tmp_path):
    window.open_paths([str(line_file)])
    wait_recognized(qtbot, window)
    assert not window.export_to(str(tmp_path / "missing-folder" / "out.txt"))
    missing = tmp_path / "missing-folder"
    assert window.messages.text() == f"Cannot export to out.txt: the folder {missing} does not exist"
    (tmp_path / "taken.txt").mkdir()
    assert not window.export_to(str(tmp_path / "taken.txt"))
    assert window.messages.text().endswith("\nCannot export to taken.txt: taken.txt is a folder")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []  # no half-written file left
