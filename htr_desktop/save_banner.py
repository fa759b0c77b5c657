"""A strip that stays above the image while the session cannot be saved, with the ways out."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class SaveBanner(QWidget):
    """``show_problem(text)`` until ``clear()``; buttons: save the session elsewhere, export all images' text."""

    save_elsewhere = Signal()
    export_all = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.elsewhere_button = QPushButton("Save session in another folder…")
        self.export_button = QPushButton("Export all…")
        self.elsewhere_button.clicked.connect(self.save_elsewhere)
        self.export_button.clicked.connect(self.export_all)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.elsewhere_button)
        layout.addWidget(self.export_button)
        self.setStyleSheet("SaveBanner { background: #c0392b; } QLabel { color: white; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.hide()

    def show_problem(self, text: str) -> None:
        """Show why saving fails; stays until ``clear``."""
        self.label.setText(f"{text} Your work is kept in this window until it can be saved.")
        self.show()

    def clear(self) -> None:
        """Saving works again."""
        self.hide()

    def text(self) -> str:
        """The problem shown."""
        return "" if self.isHidden() else self.label.text()
