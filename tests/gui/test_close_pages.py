"""File ▸ Close image / Close all images: corrected lines are never thrown away without asking."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox


@pytest.fixture
def answers(monkeypatch):
    """Record each question; answer with the button whose text is ``answers.click`` (else Cancel)."""
    asked: list[str] = []

    def exec_(box):
        asked.append(box.text())
        wanted = [b for b in box.buttons() if b.text() == exec_.click]
        (wanted[0] if wanted else box.button(QMessageBox.StandardButton.Cancel)).click()
        return 0

    exec_.click = ""
    exec_.asked = asked
    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return exec_


def _two_pages_one_corrected(qtbot, window, line_file, page_file):
    window.open_paths([str(line_file), str(page_file)])
    qtbot.waitUntil(lambda: all(p.regions and p.regions[0].confidence is not None for p in window.workspace.pages)
                    and not window.service.busy, timeout=15000)
    first = window.workspace.pages[0]
    window.workspace.set_current(first)
    window.results.rows[first.regions[0].id].edit.setPlainText("my careful correction")
    assert first.regions[0].edited
    return first


def test_closing_an_image_with_corrections_asks_and_cancel_keeps_it(qtbot, window, line_file, page_file, answers):
    first = _two_pages_one_corrected(qtbot, window, line_file, page_file)
    window.actions_["close_page"].trigger()
    assert answers.asked == [f"Close “{first.name}”? 1 line you corrected will be lost: closing cannot be undone "
                             "(export first to keep them)."]
    assert first in window.workspace.pages and window.workspace.current is first
    window.actions_["close_all"].trigger()
    assert len(window.workspace.pages) == 2 and answers.asked[-1].startswith("Close 2 images? 1 line you corrected")
    answers.click = "Close"
    window.actions_["close_page"].trigger()
    assert first not in window.workspace.pages and len(window.workspace.pages) == 1


def test_close_all_when_agreed_and_no_question_without_corrections(qtbot, window, line_file, page_file, answers):
    _two_pages_one_corrected(qtbot, window, line_file, page_file)
    window.workspace.set_current(window.workspace.pages[1])
    window.actions_["close_page"].trigger()  # the other image: nothing corrected there
    assert answers.asked == [] and len(window.workspace.pages) == 1
    answers.click = "Close all"
    window.actions_["close_all"].trigger()
    assert len(answers.asked) == 1 and window.workspace.pages == []
