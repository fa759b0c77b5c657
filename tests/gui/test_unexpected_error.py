"""A bug in an event handler is said in the window (and logged), not only printed on a console nobody sees."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QTimer


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_handler_shows_in_the_message_bar(qtbot, window, monkeypatch, caplog):
    from htr_desktop.app import report_unexpected_errors

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    report_unexpected_errors(window)

    def broken() -> None:
        raise ValueError("a bug")

    QTimer.singleShot(0, broken)
    qtbot.waitUntil(lambda: window.messages.isVisible(), timeout=5000)
    assert window.messages.level == "error"
    assert window.messages.text() == ("Something went wrong (ValueError: a bug); that action was not completed. "
                                      "Your images and texts are kept.")
    assert "a bug" in caplog.text
