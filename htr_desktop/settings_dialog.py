"""The Settings dialog: model folder, decoder, layout, preprocessing toggles, auto-copy and auto-recognize."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from htr_desktop.arguments import PDF_DPI
from htr_desktop.settings import Settings
from model.decoder_config import CHOICE_LABELS

DECODER_CHOICES = [("", "Model default"), *CHOICE_LABELS.items()]
LAYOUT_CHOICES = [("auto", "Automatic"), ("page", "Page (find lines)"), ("line", "Single line or word")]


class SettingsDialog(QDialog):
    """Edits Settings; ``apply()`` writes them back (called on OK)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None, in_use: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.model_path = QLineEdit(settings.model_path)
        self.model_path.setPlaceholderText("bundled model")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        reset = QPushButton("Bundled")
        reset.clicked.connect(self.model_path.clear)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_path, 1)
        model_row.addWidget(browse)
        model_row.addWidget(reset)
        self.decoder = self._combo(DECODER_CHOICES, settings.decoder or "")
        self.layout_choice = self._combo(LAYOUT_CHOICES, settings.layout)
        self.auto = QCheckBox("Recognize images as soon as they are opened")
        self.auto.setChecked(settings.auto_recognize)
        self.invert = QCheckBox("Invert (light writing on a dark background)")
        self.invert.setChecked(settings.get("preprocess/invert"))
        self.denoise = QCheckBox("Remove speckle (median filter)")
        self.denoise.setChecked(settings.get("preprocess/denoise"))
        self.pdf_dpi = QSpinBox()
        self.pdf_dpi.setRange(*PDF_DPI)
        self.pdf_dpi.setSingleStep(50)
        self.pdf_dpi.setSuffix(" dpi")
        self.pdf_dpi.setValue(settings.get("files/pdf_dpi"))
        self.auto_copy = QCheckBox("Copy the text to the clipboard after recognition")
        self.auto_copy.setChecked(settings.auto_copy)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        if in_use:
            self.in_use = QLabel(f"In use: {in_use}")
            self.in_use.setWordWrap(True)
            form.addRow("Model", self.in_use)
        form.addRow("Model folder", model_row)
        form.addRow("Decoder", self.decoder)
        form.addRow("Layout", self.layout_choice)
        form.addRow("", self.auto)
        form.addRow("Preprocessing", self.invert)
        form.addRow("", self.denoise)
        form.addRow("PDF pages at", self.pdf_dpi)
        form.addRow("Clipboard", self.auto_copy)
        form.addRow(buttons)

    @staticmethod
    def _combo(choices: list[tuple[str, str]], current: str) -> QComboBox:
        combo = QComboBox()
        for value, label in choices:
            combo.addItem(label, value)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        return combo

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model bundle folder (with model.json)")
        if folder:
            self.model_path.setText(folder)

    def apply(self) -> bool:
        """Write the choices; True when the model or decoder changed (the model must be reloaded)."""
        before = (self.settings.model_path, self.settings.get("model/decoder"))
        self.settings.set("model/path", self.model_path.text().strip())
        self.settings.set("model/decoder", self.decoder.currentData())
        self.settings.set("recognition/layout", self.layout_choice.currentData())
        self.settings.set("recognition/auto", self.auto.isChecked())
        self.settings.set("preprocess/invert", self.invert.isChecked())
        self.settings.set("preprocess/denoise", self.denoise.isChecked())
        self.settings.set("clipboard/auto_copy", self.auto_copy.isChecked())
        self.settings.set("files/pdf_dpi", self.pdf_dpi.value())
        return before != (self.settings.model_path, self.settings.get("model/decoder"))
