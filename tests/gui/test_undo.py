"""Undo/redo (Edit menu, Ctrl+Z / Ctrl+Shift+Z) for text edits, boxes and Detect lines."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QRectF, Qt
from PySide6.QtTest import QTest

from tests.gui.conftest import wait_recognized


def _open(window, path):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(path)])
    return window.workspace.current


def test_text_edit_undo_redo_with_the_keyboard(qtbot, window, page_file):
    page = _open(window, page_file)
    region = window.workspace.add_region((40, 80, 300, 80))
    wait_recognized(qtbot, window, 1)
    edit = window.results.rows[region.id].edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    QTest.keyClicks(edit, "er")
    assert page.regions[0].text == "w300 lower" and page.regions[0].edited
    assert window.results.rows[region.id].confidence.text() == "edited"  # at once, not after a restart
    # the words follow the edit: "low" became "lower", typed by a person
    assert [(w.text, w.confidence) for w in page.regions[0].words] == [("w300", 0.97), ("lower", 1.0)]
    assert edit.low_words() == ["low"]  # typed letters do not take on the doubtful word's underline
    QTest.keyClick(edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert page.regions[0].text == "w300 low" and not page.regions[0].edited
    assert window.results.rows[region.id].edit.toPlainText() == "w300 low"
    assert window.results.rows[region.id].edit.low_words() == ["low"]
    assert [w.confidence for w in page.regions[0].words] == [0.97, 0.21]
    QTest.keyClick(window.results.rows[region.id].edit, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert page.regions[0].text == "w300 lower" and page.regions[0].edited
    assert window.results.rows[region.id].edit.toPlainText() == "w300 lower"
    assert window.results.rows[region.id].edit.low_words() == []  # "lower" was typed: not doubtful


def test_pasted_and_picked_text_is_not_marked_doubtful(qtbot, window, page_file):
    _open(window, page_file)
    region = window.workspace.add_region((40, 80, 300, 80))
    wait_recognized(qtbot, window, 1)
    edit = window.results.rows[region.id].edit
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    mime = QMimeData()
    mime.setText("er")
    edit.insertFromMimeData(mime)  # what Ctrl+V and a drop of text do
    assert edit.toPlainText() == "w300 lower" and edit.low_words() == ["low"]
    edit.replace(5, 10, "law")  # a reading picked from the right-click menu
    assert edit.toPlainText() == "w300 law" and edit.low_words() == []


def test_undo_draw_move_resize_delete(qtbot, window, page_file):
    page = _open(window, page_file)
    undo, redo = window.actions_["undo"], window.actions_["redo"]
    region = window.workspace.add_region((40, 80, 300, 80))
    wait_recognized(qtbot, window, 1)
    window.view.region_changed.emit(region.id, QRectF(60, 90, 300, 80))  # moved
    wait_recognized(qtbot, window, 1)
    window.view.region_changed.emit(region.id, QRectF(60, 90, 200, 80))  # resized
    wait_recognized(qtbot, window, 1)
    assert page.regions[0].text == "w200 low"
    window.view.items_by_id[region.id].setSelected(True)
    window.actions_["delete_region"].trigger()
    assert page.regions == []
    assert undo.text() == "&Undo Delete box"
    undo.trigger()
    assert [(r.box, r.text) for r in page.regions] == [((60, 90, 200, 80), "w200 low")]
    assert len(window.view.items_by_id) == 1 and len(window.results.rows) == 1
    undo.trigger()  # the resize
    assert [(r.box, r.text) for r in page.regions] == [((60, 90, 300, 80), "w300 low")]
    undo.trigger()  # the move
    assert page.regions[0].box == (40, 80, 300, 80)
    undo.trigger()  # the drawing
    assert page.regions == [] and not undo.isEnabled()
    for _ in range(3):
        redo.trigger()
    assert [(r.box, r.text) for r in page.regions] == [((60, 90, 200, 80), "w200 low")]


def test_undo_a_move_before_its_result_arrives_keeps_the_old_text(qtbot, window, page_file):
    page = _open(window, page_file)
    region = window.workspace.add_region((40, 80, 300, 80))
    wait_recognized(qtbot, window, 1)
    window.workspace.move_box(region.id, (40, 80, 250, 80))
    window.actions_["undo"].trigger()  # the re-recognition of the resized box is still queued
    wait_recognized(qtbot, window, 1)
    assert [(r.box, r.text) for r in page.regions] == [((40, 80, 300, 80), "w300 low")]


def test_undo_detect_lines_brings_back_the_boxes_before(qtbot, window, page_file):
    page = _open(window, page_file)
    window.workspace.add_region((40, 80, 300, 80))
    wait_recognized(qtbot, window, 1)
    window.results.rows[page.regions[0].id].edit.setPlainText("kept by hand")
    window.workspace.add_region((40, 170, 300, 60))
    wait_recognized(qtbot, window, 2)
    before = [(r.box, r.text) for r in page.regions]
    window.actions_["detect"].trigger()
    wait_recognized(qtbot, window, 4)
    assert len(page.regions) == 4  # the corrected box stays, three detected lines join it
    assert window.actions_["undo"].text() == "&Undo Detect lines"
    window.actions_["undo"].trigger()
    assert [(r.box, r.text) for r in page.regions] == before


def test_each_image_has_its_own_undo_history(qtbot, window, page_file, line_file):
    _open(window, page_file)
    window.workspace.add_region((40, 80, 300, 80))
    window.open_paths([str(line_file)])
    assert not window.actions_["undo"].isEnabled()
    window.actions_["prev_page"].trigger()
    assert window.actions_["undo"].isEnabled()


def test_undo_names_the_recognition_of_an_opened_image_as_such(qtbot, window, page_file):
    """Opening an image reads it whole: Edit > Undo says so, not "Detect lines" (which the user did not ask for)."""
    window.open_paths([str(page_file)])
    wait_recognized(qtbot, window)
    assert window.actions_["undo"].text() == "&Undo Recognize image"


def test_a_row_stays_one_line_whatever_is_pasted_or_typed(qtbot, window, page_file, tmp_path):
    """Pasted lines join with spaces and Shift+Enter breaks nothing: a line break would split the line in the
    text export (and PAGE-XML/ALTO) into lines that are not on the image."""
    _open(window, page_file)
    region = window.workspace.add_region((40, 80, 300, 80))
    wait_recognized(qtbot, window, 1)
    edit = window.results.rows[region.id].edit
    edit.setFocus()
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    mime = QMimeData()
    mime.setText(" one\ntwo\r\n\tthree\n")
    edit.insertFromMimeData(mime)
    qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert edit.toPlainText() == "w300 low one two three"
    qtbot.waitUntil(lambda: region.text == "w300 low one two three")
    assert window.export_to(str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines() == ["w300 low one two three"]
