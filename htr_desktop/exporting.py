"""File ▸ Export and Export all: the save dialog, the format it names, and the message afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from htr_desktop.regions import Page
from htr_desktop.settings import Settings
from htr_desktop.workspace import Workspace

Notify = Callable[[str, str], None]  # text, level


class Exporter(QObject):
    """Writes the current image or all open images to a file the user names."""

    def __init__(self, window: QWidget, workspace: Workspace, settings: Settings, notify: Notify,
                 model_version: Callable[[], str]) -> None:
        super().__init__(window)
        self.window = window
        self.workspace = workspace
        self.settings = settings
        self.notify = notify
        self.model_version = model_version

    def export(self, all_pages: bool = False) -> None:
        """Ask where and in which format, then write."""
        from htr_desktop import export

        current = self.workspace.current
        if current is None:
            return
        stem = "htr-export" if all_pages and len(self.workspace.pages) > 1 else Path(current.name).stem
        start = Path(self.settings.get("files/last_dir") or Path.home()) / f"{stem}.txt"
        path, chosen = QFileDialog.getSaveFileName(self.window, "Export all images" if all_pages else "Export text",
                                                   str(start), ";;".join(export.FORMATS.values()))
        if path:
            fmt = next((k for k, v in export.FORMATS.items() if v == chosen), None)
            if self._may_replace(path, all_pages, fmt):
                self.export_to(path, all_pages, fmt)

    def _may_replace(self, confirmed: str, all_pages: bool, fmt: str | None) -> bool:
        """Whether the files to write may replace those already there: the dialog asked only about the name typed,
        not about the one given a suffix (``letter`` -> ``letter.txt``) or one per page (``letter-p1.xml``)."""
        from htr_desktop import export

        path, fmt = _target(confirmed, fmt)
        there = [out for out, _ in export.targets(path, self._pages(all_pages), fmt)
                 if out.exists() and out != Path(confirmed)]
        if not there:
            return True
        names = ", ".join(p.name for p in there[:3]) + (f" and {len(there) - 3} more" if len(there) > 3 else "")
        answer = QMessageBox.question(
            self.window, "Replace files?", f"{names} already {'exists' if len(there) == 1 else 'exist'} in "
            f"{there[0].parent}. Replace {'it' if len(there) == 1 else 'them'}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _pages(self, all_pages: bool) -> list[Page]:
        return list(self.workspace.pages) if all_pages else [p for p in [self.workspace.current] if p is not None]

    def export_to(self, path: str, all_pages: bool = False, fmt: str | None = None) -> bool:
        """Write the current page (or all pages) to ``path``; the format from ``fmt`` or the suffix (else .txt)."""
        from htr_desktop import export

        path, fmt = _target(path, fmt)
        pages = self._pages(all_pages)
        try:
            written = export.write(path, pages, self.model_version(), fmt)
        except (OSError, ValueError) as exc:
            reason = export.write_error(exc, path) if isinstance(exc, OSError) else str(exc)
            self.notify(f"Cannot export to {Path(path).name}: {reason}", "error")
            return False
        self.settings.set("files/last_dir", str(Path(path).parent))
        names = ", ".join(p.name for p in written[:3]) + (f" and {len(written) - 3} more" if len(written) > 3 else "")
        self.notify(f"Exported {names} to {Path(path).parent}", "done")
        return True


def _target(path: str, fmt: str | None) -> tuple[str, str]:
    """The file to write and its format: ``fmt`` (its suffix added when missing), else from the suffix (else .txt)."""
    from htr_desktop import export

    if fmt is None:
        try:
            return path, export.fmt_of(path)
        except ValueError:
            return f"{path}.txt", "txt"
    if Path(path).suffix.lower() != export.suffix(fmt):
        path += export.suffix(fmt)
    return path, fmt
