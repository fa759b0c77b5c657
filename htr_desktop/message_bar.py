"""A non-modal message strip above the image: clear words about bad input, hides itself after a while."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

STYLES = {"info": "#2d6cdf", "warning": "#b26a00", "error": "#c0392b"}
LISTED = 12  # errors named one per line in a message; the rest are counted


def listed(errors: list[str]) -> str:
    """Errors one per line (the first LISTED, then how many more)."""
    return "\n".join(errors if len(errors) <= LISTED else [*errors[:LISTED], f"and {len(errors) - LISTED} more"])


class MessageBar(QWidget):
    """``show_message(text, level)``; the latest message replaces the previous one."""

    def __init__(self) -> None:
        super().__init__()
        self.level = ""
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.button = QPushButton()
        self.button.clicked.connect(self._act)
        self._action: Callable[[], object] | None = None
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        layout.addWidget(close)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.hide)
        self.setAutoFillBackground(True)
        self.hide()

    def show_message(self, text: str, level: str = "info", seconds: int = 12,
                     action: tuple[str, Callable[[], object]] | None = None) -> None:
        """Show ``text`` (with a button for ``action``: label, callback); errors stay longer, ``seconds=0`` stays
        until closed or replaced."""
        if level == "error" == self.level and not self.isHidden():  # errors pile up, none is lost
            shown = self.label.text().split("\n")
            again = all(line in shown for line in text.split("\n"))  # the same error is shown once
            text = "\n".join(shown if again else [*shown[-11:], text])
        self.level = level
        self.label.setText(text)
        self._action = action[1] if action else None
        self.button.setText(action[0] if action else "")
        self.button.setVisible(action is not None)
        color = STYLES.get(level, STYLES["info"])
        self.setStyleSheet(f"MessageBar {{ background: {color}; }} QLabel, QToolButton {{ color: white; }}")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.show()
        self.timer.stop()
        if seconds > 0:
            self.timer.start((seconds * 2 if level == "error" else seconds) * 1000)

    def _act(self) -> None:
        if self._action is not None:
            self._action()

    def clear_error(self) -> None:
        """Hide an error once something succeeded."""
        if self.level == "error":
            self.hide()

    def text(self) -> str:
        """The message shown (or last shown)."""
        return self.label.text()
