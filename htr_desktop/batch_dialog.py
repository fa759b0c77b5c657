"""File ▸ Batch folder: choose input, output folder and format; never overwrite silently; per-file progress."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from htr_desktop.message_bar import listed
from htr_desktop.settings import Settings
from htr_desktop.worker import RecognitionService, Task

Notify = Callable[..., None]  # (text, level, action=(label, callback) | None)
FORMAT_NAMES = {"txt": "Text, one file per image", "json": "JSON, one file per image",
                "csv": "CSV, one table for all images", "page": "PAGE-XML, one file per page",
                "alto": "ALTO XML, one file per page"}


class BatchDialog(QDialog):
    """Where the images are, where the results go, and in which format."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch folder")
        last = settings.get("files/last_dir")
        self.source = QLineEdit(last)
        self.target = QLineEdit(settings.get("files/batch_out") or (str(Path(last) / "htr-output") if last else ""))
        self.fmt = QComboBox()
        for key, label in FORMAT_NAMES.items():
            self.fmt.addItem(label, key)
        self.csv_name = QLineEdit("results.csv")
        self.fmt.currentIndexChanged.connect(lambda _i: self.csv_name.setEnabled(self.fmt.currentData() == "csv"))
        self.csv_name.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Images in", self._with_browse(self.source, "Folder of images to recognize"))
        form.addRow("Write to", self._with_browse(self.target, "Folder for the results"))
        form.addRow("Format", self.fmt)
        form.addRow("CSV file name", self.csv_name)
        form.addRow(buttons)

    def _with_browse(self, edit: QLineEdit, title: str) -> QHBoxLayout:
        button = QPushButton("Choose…")
        button.clicked.connect(lambda: self._browse(edit, title))
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(button)
        return row

    def _browse(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, edit.text())
        if folder:
            edit.setText(folder)

    def choice(self) -> tuple[Path, Path, str, str]:
        """(images folder, output folder, format, CSV file name)."""
        name = self.csv_name.text().strip() or "results.csv"
        return (Path(self.source.text().strip()), Path(self.target.text().strip()), self.fmt.currentData(),
                name if name.lower().endswith(".csv") else f"{name}.csv")


class BatchRunner(QObject):
    """Runs one batch at a time in the recognition worker and reports per file, at the end and on Cancel."""

    def __init__(self, window: QWidget, service: RecognitionService, settings: Settings, notify: Notify) -> None:
        super().__init__(window)
        self.window = window
        self.service = service
        self.settings = settings
        self.notify = notify
        self.running: Task | None = None
        self.progress: QProgressDialog | None = None
        self.out_dir = Path()
        service.file_progress.connect(self._file_progress)
        service.job_done.connect(self._job_done)
        service.idle.connect(self._idle)
        service.task_failed.connect(self._failed)

    def ask(self) -> None:
        """File > Batch folder: the dialog, then the run."""
        dialog = BatchDialog(self.settings, self.window)
        if dialog.exec():
            self.start(*dialog.choice())

    def ask_overwrite(self, clash: list[Path], out_dir: Path) -> str:
        """"replace", "skip" or "cancel" when outputs exist already."""
        box = QMessageBox(QMessageBox.Icon.Question, "Files exist",
                          f"{len(clash)} file(s) in {out_dir} would be replaced, e.g. {clash[0].name}.",
                          parent=self.window)
        replace = box.addButton("Replace them", QMessageBox.ButtonRole.DestructiveRole)
        skip = box.addButton("Keep them, skip those images", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return "replace" if box.clickedButton() is replace else "skip" if box.clickedButton() is skip else "cancel"

    def start(self, folder: Path, out_dir: Path, fmt: str, csv_name: str = "results.csv") -> bool:
        """Queue a batch job; False when there is nothing to do or the user cancelled."""
        from htr_desktop import export

        if self.running is not None:
            self.notify("A batch is already running.", "warning")
            return False
        try:
            files = export.image_files(folder)
        except OSError as exc:
            self.notify(f"Cannot read the folder {folder}: {exc}", "error")
            return False
        if not files:
            self.notify(f"No images in {folder}", "warning")
            return False
        clash = export.existing(files, out_dir, fmt, csv_name) if out_dir.is_dir() else []
        answer = self.ask_overwrite(clash, out_dir) if clash else "replace"
        if answer == "cancel":
            return False
        job = partial(export.batch, files, out_dir, fmt, layout=self.settings.layout,
                      options=self.settings.preprocessing, on_file=self.service.file_progress.emit,
                      csv_name=csv_name, overwrite=answer == "replace", dpi=self.settings.get("files/pdf_dpi"))
        self.running = Task(page_id=-1, job=lambda rec: job(recognizer=rec))
        self.out_dir = out_dir
        self.settings.set("files/batch_out", str(out_dir))
        self.progress = QProgressDialog(f"Reading {len(files)} image(s) from {folder.name}…", "Cancel", 0,
                                        len(files), self.window)
        self.progress.setWindowTitle("Batch")
        self.progress.setWindowModality(Qt.WindowModality.NonModal)
        self.progress.setMinimumDuration(0)
        self.progress.canceled.connect(self.service.cancel)
        self.progress.show()
        self.service.submit(self.running)
        return True

    def _file_progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.setMaximum(max(total, 1))
            self.progress.setValue(done)
            self.progress.setLabelText(f"Image {min(done + 1, total)} of {total}…" if done < total else "Writing…")

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.canceled.disconnect(self.service.cancel)
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _job_done(self, task: Any) -> None:
        if self.running is None or task is not self.running:
            return
        self.running = None
        self._close_progress()
        result = task.result or {}
        written, skipped, errors = result.get("written", []), result.get("skipped", []), result.get("errors", {})
        text = f"Batch: wrote {len(written)} file(s) to {self.out_dir}"
        if skipped:
            text += f"; kept {len(skipped)} existing file(s)"
        if errors:
            text += f"; {len(errors)} image(s) could not be read:\n" + listed(list(errors.values()))
        self.notify(text, "warning" if errors else "done", action=("Open folder", self.open_folder))

    def _failed(self, page_id: int, message: str) -> None:
        if self.running is not None and page_id == self.running.page_id:
            self.running = None
            self._close_progress()
            self.notify(f"Batch stopped: {message}. The files written so far are in {self.out_dir}", "error",
                        action=("Open folder", self.open_folder))

    def _idle(self) -> None:
        if self.running is not None:  # the batch ended without a result: cancelled
            self.running = None
            self._close_progress()
            self.notify(f"Batch cancelled; the files written so far are in {self.out_dir}", "warning",
                        action=("Open folder", self.open_folder))

    def open_folder(self) -> None:
        """Show the output folder in the file manager."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.out_dir)))
