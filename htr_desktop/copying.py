"""Copy and Copy all: the selected text, the selected boxes' text, or the whole image's text to the clipboard."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QGuiApplication

from htr_desktop.image_view import ImageView
from htr_desktop.results import ResultsPanel
from htr_desktop.workspace import Workspace


class Copier(QObject):
    """Puts text on the clipboard and says how much (``status(text, milliseconds)``)."""

    def __init__(self, workspace: Workspace, results: ResultsPanel, view: ImageView,
                 status: Callable[[str, int], None]) -> None:
        super().__init__(workspace)
        self.workspace, self.results, self.view, self.status = workspace, results, view, status

    def copy_text(self, text: str) -> None:
        """Put ``text`` on the clipboard."""
        QGuiApplication.clipboard().setText(text)
        self.status(f"Copied {len(text)} characters", 3000)

    def copy_all(self) -> None:
        """Copy the whole text of the current image."""
        if self.workspace.current is not None:
            self.copy_text(self.workspace.current.text)

    def copy_selection(self) -> None:
        """Copy the selected text, the selected boxes' text, or everything."""
        selected = self.results.selected_text()
        page = self.workspace.current
        if not selected and page is not None:
            ids = self.view.selected_ids()
            selected = "\n".join(r.text for r in page.regions if r.id in ids)
        if selected:
            self.copy_text(selected)
        else:
            self.copy_all()
