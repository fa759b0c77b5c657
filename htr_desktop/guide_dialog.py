"""Help ▸ User guide (F1): the short guide shipped in resources/docs, shown in the app."""

from __future__ import annotations

import logging
from importlib import resources

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

log = logging.getLogger(__name__)
GUIDE = "docs/user-guide.md"


def guide_text() -> str:
    """The guide's Markdown (a one-line note when the file is missing from a broken install)."""
    try:
        return (resources.files("resources") / GUIDE).read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError) as exc:
        log.warning("user guide missing: %s", exc)
        return "# htr-desktop\n\nThe user guide is missing from this installation."


class GuideDialog(QDialog):
    """A non-modal window with the user guide."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("htr-desktop user guide")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(guide_text())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(640, 560)
