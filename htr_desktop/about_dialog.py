"""About: app and model versions, what the model was trained on and its validation figures (model.json)."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from htr_desktop import __version__


def _figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2%}" if 0 <= value <= 1 else f"{value:.3g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_figure(v)}" for k, v in value.items())
    return str(value)


def about_html(info: Any, model_error: str = "") -> str:
    """The About text for a ModelInfo (or None while loading / on error)."""
    parts = [f"<h3>htr-desktop {__version__}</h3>",
             "<p>Reads handwriting offline: no image leaves this computer.</p>"]
    if info is None:
        parts.append(f"<p><b>Model:</b> {html.escape(model_error or 'loading…')}</p>")
    else:
        parts.append(f"<p><b>Model</b> {html.escape(info.version)} · decoder {html.escape(info.decoder.name)}<br>"
                     f"trained on: {html.escape(', '.join(info.trained_on) or 'unknown')}</p>")
        if info.figures:
            rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_figure(v))}</td></tr>"
                           for k, v in info.figures.items())
            parts.append(f"<p><b>Validation figures</b></p><table cellspacing=4>{rows}</table>")
        else:
            parts.append("<p>No validation figures in this model's model.json.</p>")
    parts.append("<p>Qt for Python (PySide6), LiteRT, OpenCV, NumPy.</p>")
    return "".join(parts)


class AboutDialog(QDialog):
    """A small dialog showing about_html."""

    def __init__(self, info: Any, model_error: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About htr-desktop")
        self.text = QLabel(about_html(info, model_error))
        self.text.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
