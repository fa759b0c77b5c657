"""Keyboard flow: Enter/Down next line, Up previous, F3/Ctrl+J next doubtful word, Ctrl+, settings, F1 guide."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from htr_desktop.settings_dialog import SettingsDialog
from tests.gui.conftest import wait_recognized


def _rows(qtbot, window, page_file):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(page_file)])
    window.actions_["detect"].trigger()
    page = wait_recognized(qtbot, window, count=3)
    window.activateWindow()
    edits = [window.results.rows[r.id].edit for r in page.regions]
    edits[0].setFocus()
    qtbot.waitUntil(edits[0].hasFocus)
    return page, edits


def test_enter_down_up_move_between_lines(qtbot, window, page_file):
    page, edits = _rows(qtbot, window, page_file)
    QTest.keyClick(edits[0], Qt.Key.Key_Return)
    assert edits[1].hasFocus() and page.regions[0].text == edits[0].toPlainText()  # no newline typed
    assert window.view.items_by_id[page.regions[1].id].highlighted  # its box is selected on the image
    QTest.keyClick(edits[1], Qt.Key.Key_Down)
    assert edits[2].hasFocus()
    QTest.keyClick(edits[2], Qt.Key.Key_Down)  # the last line: stays
    assert edits[2].hasFocus()
    QTest.keyClick(edits[2], Qt.Key.Key_Up)
    assert edits[1].hasFocus()
    QTest.keyClicks(edits[1], "x")
    assert page.regions[1].text.endswith("x")  # Up puts the cursor at the end of the line above, ready to type


def test_f3_and_ctrl_j_select_the_next_doubtful_word(qtbot, window, page_file):
    page, edits = _rows(qtbot, window, page_file)
    low = [(i, len(r.text) - 3) for i, r in enumerate(page.regions)]  # the fake's second word "low" is doubtful
    none, ctrl = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier
    for key, mod in [(Qt.Key.Key_F3, none), (Qt.Key.Key_J, ctrl), (Qt.Key.Key_F3, none)]:
        QTest.keyClick(QApplication.focusWidget(), key, mod)
        focused = QApplication.focusWidget()
        i, start = low.pop(0)
        assert focused is edits[i]
        assert focused.textCursor().selectedText() == "low"
        assert focused.textCursor().selectionStart() == start
        assert window.view.items_by_id[page.regions[i].id].active_word == 1  # its word box is marked
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F3)  # wraps round to the first line
    assert QApplication.focusWidget() is edits[0]


def test_ctrl_comma_opens_settings_and_f1_the_guide(qtbot, window, monkeypatch):
    opened = []
    monkeypatch.setattr(SettingsDialog, "exec", lambda self: opened.append("settings") or 0)
    assert QKeySequence("Ctrl+,") in window.actions_["settings"].shortcuts()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    QTest.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert opened == ["settings"]
    QTest.keyClick(window, Qt.Key.Key_F1)
    assert window.guide is not None and window.guide.isVisible()
    assert "Enter or ↓" in window.guide.browser.toPlainText()


def test_word_tooltip_shows_its_confidence(qtbot, window, page_file):
    page, edits = _rows(qtbot, window, page_file)
    edit = edits[0]
    qtbot.waitExposed(window)
    qtbot.wait(50)  # the rows' final layout
    end = len(page.regions[0].text)
    a, b = (edit.cursorRect(_cursor_at(edit, p)) for p in (end - 2, end - 1))
    point = (a.center() + b.center()) / 2  # between two letters of "low", the doubtful word
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    assert edit.cursorForPosition(point).charFormat().toolTip().startswith("low confidence: 21%")
    QToolTip.hideText()
    event = QHelpEvent(QHelpEvent.Type.ToolTip, point, edit.viewport().mapToGlobal(point))
    QApplication.sendEvent(edit.viewport(), event)
    assert "21%" in QToolTip.text()


def _cursor_at(edit, position):
    cursor = edit.textCursor()
    cursor.setPosition(position)
    return cursor
