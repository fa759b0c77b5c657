"""File ▸ Export and Export all: the save dialog, the format it names, and the message afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

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
            self.export_to(path, all_pages, fmt)

    def export_to(self, path: str, all_pages: bool = False, fmt: str | None = None) -> bool:
        """Write the current page (or all pages) to ``path``; the format from ``fmt`` or the suffix (else .txt)."""
        from htr_desktop import export

        if fmt is None:
            try:
                fmt = export.fmt_of(path)
            except ValueError:
                fmt, path = "txt", f"{path}.txt"
        elif Path(path).suffix.lower() != export.suffix(fmt):
            path += export.suffix(fmt)
        pages = list(self.workspace.pages) if all_pages else [p for p in [self.workspace.current] if p is not None]
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
