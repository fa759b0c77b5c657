"""The results panel: each region's image strip and text in reading order, editable, low-confidence words marked."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPalette, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from htr_desktop.line_strip import LineStrip
from htr_desktop.regions import Box, Region, RegionWord
from htr_desktop.result_edit import ResultEdit
from model.decoder_config import DecoderConfig

LOW_CONFIDENCE = DecoderConfig.low_confidence  # until the model's own threshold arrives (model_ready)
StripSource = Callable[[Box], QImage | None]  # a line's image from its box


class ResultRow(QFrame):
    """Number, the line's image strip over its editor, and confidence of one region."""

    def __init__(self, number: int, region: Region, threshold: float, strip: QImage | None = None) -> None:
        super().__init__()
        self.region_id = region.id
        self.setFrameShape(QFrame.Shape.NoFrame)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.number = QLabel(f"{number}")
        self.number.setFixedWidth(24)
        self.number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.strip = LineStrip()
        self.strip.clicked.connect(self.edit_focus)
        self.edit = ResultEdit(region.id)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(self.strip)
        column.addWidget(self.edit)
        self.confidence = QLabel()
        self.confidence.setFixedWidth(44)
        self.confidence.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.number)
        layout.addLayout(column, 1)
        layout.addWidget(self.confidence)
        self.update_region(region, threshold, strip)
        self.edit.edited.connect(self._edited)

    def edit_focus(self) -> None:
        """Put the cursor in this row's text (selects its box on the image)."""
        self.edit.setFocus(Qt.FocusReason.MouseFocusReason)

    def _edited(self, _region_id: int, _text: str) -> None:
        self.confidence.setText("edited")

    def update_region(self, region: Region, threshold: float, strip: QImage | None = None) -> None:
        """Show the region's current text, image strip and confidence."""
        self.strip.set_image(strip)
        self.edit.show_region(region, threshold)
        if region.confidence is None:
            self.confidence.setText("…")
            self.confidence.setToolTip("not recognized yet")
        else:
            self.confidence.setText("edited" if region.edited else f"{region.confidence:.0%}")
            self.confidence.setToolTip(f"line confidence {region.confidence:.1%}")

    def set_highlighted(self, on: bool) -> None:
        """Mark the row that matches the selected region."""
        self.setStyleSheet("ResultRow { background: palette(highlight); }" if on else "")


class ResultsPanel(QScrollArea):
    """All regions of the current page, in reading order."""

    text_edited = Signal(int, str)  # region id, new text
    row_activated = Signal(int)  # region id
    word_activated = Signal(int, int)  # region id, word index (-1: none)
    line_entered = Signal(int)  # region id: Enter pressed in its row (its text is accepted)

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        # a scroll bar that comes and goes would change the width, the strips' wrapping and so the height
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.threshold = LOW_CONFIDENCE
        self.rows: dict[int, ResultRow] = {}
        self.current: int | None = None
        self.strip: StripSource | None = None
        self.suggest: Callable[[RegionWord], list[str]] | None = None  # other readings for the right-click menu
        self.container = QWidget()
        self.box = QVBoxLayout(self.container)
        self.box.setContentsMargins(2, 2, 2, 2)
        self.box.setSpacing(2)
        self.placeholder = QLabel("Open, drop, paste or scan an image.\nDraw boxes around words or lines, "
                                  "or use Detect lines.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.legend.hide()
        self.box.addWidget(self.legend)
        self.box.addWidget(self.placeholder)
        self.box.addStretch(1)
        self.setWidget(self.container)

    def set_regions(self, regions: list[Region], strip: StripSource | None = None) -> None:
        """Rebuild the rows; ``strip(box)`` gives each line's image (None: no strips)."""
        self.strip = strip
        for row in self.rows.values():
            self.box.removeWidget(row)
            row.deleteLater()
        self.rows.clear()
        self.placeholder.setVisible(not regions)
        self.legend.setVisible(bool(regions))
        self.legend.setText(f"Wavy underline: a word read with less than {self.threshold:.0%} confidence (hover a "
                            "word for its figure). Enter/↓ next line, ↑ previous, F3 next doubtful word.")
        for number, region in enumerate(regions, 1):
            row = ResultRow(number, region, self.threshold, self._strip(region))
            row.edit.edited.connect(self.text_edited)
            row.edit.focused.connect(self._activate)
            row.edit.word_focused.connect(self.word_activated)
            row.edit.step.connect(self.step)
            row.edit.entered.connect(self.line_entered)
            if self.suggest is not None:
                row.edit.suggest = self.suggest
            self.box.insertWidget(self.box.count() - 1, row)
            self.rows[region.id] = row
        if self.current in self.rows:
            self.highlight(self.current)

    def update_region(self, region: Region) -> None:
        """Refresh one row (after recognition)."""
        row = self.rows.get(region.id)
        if row is not None:
            row.update_region(region, self.threshold, self._strip(region))

    def _strip(self, region: Region) -> QImage | None:
        return self.strip(region.box) if self.strip is not None else None

    def _activate(self, region_id: int) -> None:
        self.highlight(region_id)
        self.row_activated.emit(region_id)

    def highlight(self, region_id: int | None) -> None:
        """Highlight one row and scroll to it."""
        self.current = region_id
        for rid, row in self.rows.items():
            row.set_highlighted(rid == region_id)
        if region_id in self.rows:
            self.ensureWidgetVisible(self.rows[region_id])

    def step(self, region_id: int, delta: int) -> None:
        """Move the text cursor to the next (+1) or previous (-1) row."""
        ids = list(self.rows)
        i = ids.index(region_id) + delta if region_id in ids else -1
        if 0 <= i < len(ids):
            edit = self.rows[ids[i]].edit
            edit.setFocus(Qt.FocusReason.OtherFocusReason)
            edit.moveCursor(QTextCursor.MoveOperation.Start if delta > 0 else QTextCursor.MoveOperation.End)

    def next_low_word(self) -> bool:
        """Select the next low-confidence word after the text cursor (all rows, wrapping round); False if none."""
        ids = list(self.rows)
        if not ids:
            return False
        start = ids.index(self.current) if self.current in ids else 0
        after = self.rows[ids[start]].edit.textCursor().selectionEnd() if self.current in ids else 0
        for k in range(len(ids) + 1):
            edit = self.rows[ids[(start + k) % len(ids)]].edit
            found = edit.next_low(after if k == 0 else 0)
            if found is not None:
                edit.select(*found)
                self.ensureWidgetVisible(edit)
                return True
        return False

    def selected_text(self) -> str:
        """Text selected in the focused editor, or "" when nothing is selected."""
        for row in self.rows.values():
            if row.edit.hasFocus() or row.edit.textCursor().hasSelection():
                selected = row.edit.textCursor().selectedText().replace("\u2029", "\n")
                if selected:
                    return selected
        return ""
