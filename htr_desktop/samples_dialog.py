"""Review the samples of the user's handwriting: see each crop and its text, delete, export, import."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from htr_desktop.corrections import Corrections

log = logging.getLogger(__name__)


class SamplesDialog(QDialog):
    """One row per sample (its crop and text); Delete, Export…, Import…."""

    def __init__(self, corrections: Corrections, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Samples of your handwriting")
        self.resize(720, 480)
        self.corrections = corrections
        self.summary = QLabel()
        self.list = QListWidget()
        self.list.setIconSize(QSize(360, 40))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)
        export = QPushButton("Export…")
        export.clicked.connect(self._export)
        imp = QPushButton("Import…")
        imp.clicked.connect(self._import)
        row = QHBoxLayout()
        for b in (self.delete_button, export, imp):
            row.addWidget(b)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addWidget(self.list, 1)
        box.addLayout(row)
        box.addWidget(self.status)
        box.addWidget(close)
        self.fill()

    def fill(self) -> None:
        """(Re)list the stored samples."""
        from htr_desktop.imaging import gray_to_qimage

        self.list.clear()
        rows = self.corrections.all()
        for c in rows:
            item = QListWidgetItem(c.text + (f"   (read as: {c.model_text})" if c.model_text and
                                             c.model_text != c.text else ""))
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            try:
                item.setIcon(QIcon(QPixmap.fromImage(gray_to_qimage(self.corrections.image(c)))))
            except ValueError as exc:
                item.setText(f"{item.text()}   [{exc}]")
            self.list.addItem(item)
        self.summary.setText(f"{len(rows)} line{'s' if len(rows) != 1 else ''} of your handwriting")
        self.delete_button.setEnabled(bool(rows))

    def selected_ids(self) -> list[int]:
        """Ids of the selected samples."""
        return [int(i.data(Qt.ItemDataRole.UserRole)) for i in self.list.selectedItems()]

    def delete_selected(self) -> None:
        """Delete the selected samples."""
        ids = self.selected_ids()
        if ids:
            n = self.corrections.delete(ids)
            self.status.setText(f"Deleted {n} sample{'s' if n != 1 else ''}.")
            self.fill()

    def export_to(self, folder: Path) -> None:
        """Write every sample to ``folder`` (PNG + .txt)."""
        try:
            n = self.corrections.export(folder)
            self.status.setText(f"Exported {n} samples to {folder}.")
        except (OSError, sqlite3.Error) as exc:
            self.status.setText(f"Export failed: {exc}")

    def import_from(self, folder: Path) -> None:
        """Add the images with ``.txt`` sidecars of ``folder``."""
        problems: list[str] = []
        try:
            n = self.corrections.import_folder(folder, problems)
        except (OSError, ValueError, sqlite3.Error) as exc:
            self.status.setText(f"Import failed: {exc}")  # the samples added before it stay
            return
        skipped = f" Skipped {len(problems)}: " + "; ".join(problems[:5]) if problems else ""
        self.status.setText(f"Imported {n} sample{'s' if n != 1 else ''} from {folder}.{skipped}")
        self.fill()

    def _export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export samples to folder")
        if folder:
            self.export_to(Path(folder))

    def _import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import samples (images with .txt sidecars)")
        if folder:
            self.import_from(Path(folder))
