"""Export of the current or all images after edits; an error bar clears after the next success; 800x600 layout."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QFileDialog

from tests.gui.conftest import wait_recognized


def test_export_current_and_all_follow_the_edits(qtbot, window, line_file, page_file, tmp_path, monkeypatch):
    window.open_paths([str(line_file), str(page_file)])
    qtbot.waitUntil(lambda: all(p.regions and p.regions[0].confidence is not None for p in window.workspace.pages)
                    and not window.service.busy, timeout=15000)
    page = window.workspace.current
    edit = window.results.rows[page.regions[0].id].edit
    edit.setPlainText("hello brave world")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "one"), "JSON with boxes "
                                                                         "and confidences (*.json)"))
    window.actions_["export"].trigger()
    doc = json.loads((tmp_path / "one.json").read_text(encoding="utf-8"))
    (only,) = doc["pages"]
    region = only["regions"][0]
    assert region["text"] == "hello brave world" and region["edited"] is True
    assert [w["text"] for w in region["words"]] == ["hello", "brave", "world"]  # the words follow the edit
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "all.xml"),
                                                                         "ALTO XML (*.xml)"))
    window.actions_["export_all"].trigger()
    assert sorted(p.name for p in tmp_path.glob("all-p*.xml")) == ["all-p1.xml", "all-p2.xml"]
    assert "<String" in (tmp_path / "all-p1.xml").read_text(encoding="utf-8")


def test_error_bar_clears_after_the_next_success(qtbot, window, line_file, tmp_path):
    window.open_paths([str(line_file)])
    wait_recognized(qtbot, window)
    assert not window.export_to(str(tmp_path / "missing-folder" / "x.txt"))
    assert window.messages.isVisible() and window.messages.level == "error"
    assert window.export_to(str(tmp_path / "x.txt"))
    assert not window.messages.isVisible()
    assert (tmp_path / "x.txt").read_text(encoding="utf-8").startswith("w")


def test_layout_holds_at_800_by_600(qtbot, window, page_file):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(page_file)])
    window.actions_["detect"].trigger()
    page = wait_recognized(qtbot, window, count=3)
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800 and window.height() == 600)
    assert window.minimumSizeHint().width() <= 800 and window.minimumSizeHint().height() <= 600
    assert window.view.width() >= 300 and window.results.width() >= 250  # both sides keep usable room
    for region in page.regions:
        row = window.results.rows[region.id]
        edit = row.edit
        qtbot.waitUntil(lambda edit=edit: edit.height() >= edit.document().size().height())  # text not clipped
        assert edit.width() >= 150 and row.strip.isVisible()
        assert row.geometry().right() <= window.results.viewport().width()  # no row sticks out sideways
