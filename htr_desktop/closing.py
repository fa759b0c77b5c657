"""File ▸ Close image and Close all images: ask first when corrected text would be lost with them."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from htr_desktop.regions import Page
from htr_desktop.workspace import Workspace


def close_pages(parent: QWidget, workspace: Workspace, every: bool = False) -> bool:
    """Close the current image (``every``: all of them) unless corrected lines would go and the user keeps them."""
    pages = list(workspace.pages) if every else [p for p in [workspace.current] if p is not None]
    if not pages or not confirm(parent, pages, every):
        return False
    if every:
        workspace.close_all()
    else:
        workspace.close_page(pages[0])
    return True


def confirm(parent: QWidget, pages: list[Page], every: bool = False) -> bool:
    """True if no page holds a corrected line, or the user agrees to lose them (closing cannot be undone)."""
    edited = [p for p in pages if any(r.edited for r in p.regions)]
    if not edited:
        return True
    lines = sum(r.edited for p in edited for r in p.regions)
    what = f"“{edited[0].name}”" if len(pages) == 1 else f"{len(pages)} images"
    box = QMessageBox(QMessageBox.Icon.Warning, "Close with corrections?",
                      f"Close {what}? {lines} line{'s' if lines != 1 else ''} you corrected will be lost: closing "
                      "cannot be undone (export first to keep them).", QMessageBox.StandardButton.Cancel, parent)
    close = box.addButton("Close all" if every else "Close", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is close
