"""The results panel: each region's text in reading order, editable, low-confidence words marked."""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QHelpEvent,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTextEdit,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from htr_desktop.regions import Box, Region

LOW_CONFIDENCE = 0.6
STRIP_GAP = 2  # pixels between the pieces of a wrapped line strip
StripSource = Callable[[Box], QImage | None]  # a line's image from its box
LOW_COLOR = QColor(200, 40, 40)


class ResultEdit(QTextEdit):
    """An auto-height plain-text editor for one region; shows word confidences in tooltips."""

    focused = Signal(int)  # region id
    edited = Signal(int, str)  # region id, text
    word_focused = Signal(int, int)  # region id, index of the word under the text cursor (-1: none)

    def __init__(self, region_id: int) -> None:
        super().__init__()
        self.region_id = region_id
        self.spans: list[tuple[int, int] | None] = []  # each recognized word's (start, end) in the text
        self._word = -1
        self.textChanged.connect(self._text_changed)
        self.cursorPositionChanged.connect(self._cursor_moved)
        self.setAcceptRichText(False)
        self.setUndoRedoEnabled(False)  # Ctrl+Z goes to the window's undo stack, which also undoes box changes
        self.setTabChangesFocus(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.document().documentLayout().documentSizeChanged.connect(self._size_changed)

    def _size_changed(self, _size: object) -> None:
        self.updateGeometry()

    def _text_changed(self) -> None:
        self.spans = []  # the user's text: recognized word positions no longer apply
        self.edited.emit(self.region_id, self.toPlainText())

    def word_at(self, position: int) -> int:
        """Index of the recognized word at text ``position`` (-1 when none)."""
        return next((i for i, span in enumerate(self.spans) if span and span[0] <= position <= span[1]), -1)

    def _cursor_moved(self) -> None:
        word = self.word_at(self.textCursor().position()) if self.hasFocus() else -1
        if word != self._word:
            self._word = word
            self.word_focused.emit(self.region_id, word)

    def sizeHint(self) -> QSize:
        """As tall as the text."""
        height = int(self.document().size().height()) + 2 * self.frameWidth() + 4
        return QSize(super().sizeHint().width(), max(height, self.fontMetrics().height() + 12))

    def minimumSizeHint(self) -> QSize:
        """Never squeezed below its text."""
        return self.sizeHint()

    def resizeEvent(self, event: QEvent) -> None:
        """Re-wrap, then recompute the height."""
        super().resizeEvent(event)
        self.updateGeometry()

    def focusInEvent(self, event: QFocusEvent) -> None:
        """Tell the panel this row is the current one."""
        super().focusInEvent(event)
        self.focused.emit(self.region_id)
        self._cursor_moved()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        """No word is marked on the image once the row loses focus."""
        super().focusOutEvent(event)
        self._cursor_moved()

    def event(self, event: QEvent) -> bool:
        """Tooltip: the confidence of the word under the mouse; Undo/Redo keys are left to the window."""
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and (
                event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)):
            event.ignore()
            return False
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tip = self.cursorForPosition(event.pos()).charFormat().toolTip()
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def show_region(self, region: Region, threshold: float) -> None:
        """Set the text; underline words whose confidence is below ``threshold`` and give every word a tooltip."""
        self.blockSignals(True)
        self.setPlainText(region.text)
        cursor = QTextCursor(self.document())
        pos = 0
        self.spans = []
        for word in region.words if not region.edited else []:
            start = region.text.find(word.text, pos)
            if start < 0:
                self.spans.append(None)
                continue
            pos = start + len(word.text)
            self.spans.append((start, pos))
            fmt = QTextCharFormat()
            fmt.setToolTip(f"confidence {word.confidence:.0%}")
            if word.confidence < threshold:
                fmt.setForeground(LOW_COLOR)
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                fmt.setUnderlineColor(LOW_COLOR)
            cursor.setPosition(start)
            cursor.setPosition(pos, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
        self.document().setModified(False)
        self.blockSignals(False)

    def low_words(self) -> list[str]:
        """The words currently marked as low-confidence (used by tests and accessibility)."""
        out = []
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                if frag.charFormat().underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline:
                    out.append(frag.text())
                it += 1
            block = block.next()
        return out


class LineStrip(QWidget):
    """The line's image at a readable height, right above its text; a long line wraps onto more strips."""

    clicked = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.image = QImage()
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The line on the image: click to show it there")
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (None hides the strip)."""
        self.image = image if image is not None and not image.isNull() else QImage()
        self.setVisible(not self.image.isNull())
        self.updateGeometry()
        self.update()

    def _layout(self, width: int) -> tuple[int, int, float]:
        """(strips, strip height, scale) for ``width`` pixels.

        The line fills the width at up to 2.2 text lines high; when that would make it lower than 1.5 text lines
        it is drawn at that height and wraps onto more strips.
        """
        if self.image.isNull() or width <= 0:
            return 0, 0, 1.0
        text = self.fontMetrics().height()
        iw, ih = self.image.width(), self.image.height()
        fit = width * ih / iw  # the height at which the whole line fills the width
        h = int(min(max(fit, 1.5 * text), 2.2 * text, 4 * ih))  # never blow a tiny crop up more than 4x
        scale = h / ih
        return max(1, math.ceil(iw * scale / width - 1e-6)), h, scale

    def hasHeightForWidth(self) -> bool:
        """Its height depends on its width (long lines wrap)."""
        return True

    def heightForWidth(self, width: int) -> int:
        """Strips stacked with a small gap."""
        n, h, _ = self._layout(width)
        return n * h + max(0, n - 1) * STRIP_GAP

    def sizeHint(self) -> QSize:
        """As wide as the row allows."""
        return QSize(200, self.heightForWidth(max(self.width(), 200)))

    def minimumSizeHint(self) -> QSize:
        """Never squeezed below its strips."""
        return QSize(50, self.heightForWidth(max(self.width(), 50)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-wrap (only when the number of strips changes, so layouts settle)."""
        super().resizeEvent(event)
        if self._layout(event.size().width())[0] != self._layout(event.oldSize().width())[0]:
            self.updateGeometry()

    def paintEvent(self, _event: QPaintEvent) -> None:
        """Each slice of the line, scaled to the strip height."""
        n, h, scale = self._layout(self.width())
        if not n:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        per_strip = self.width() / scale  # image pixels per strip
        for i in range(n):
            src = QRectF(i * per_strip, 0, min(per_strip, self.image.width() - i * per_strip), self.image.height())
            dst = QRectF(0, i * (h + STRIP_GAP), src.width() * scale, h)
            painter.drawImage(dst, self.image, src)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Clicking the strip selects the line (and its box on the image)."""
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)


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

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        # a scroll bar that comes and goes would change the width, the strips' wrapping and so the height
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.threshold = LOW_CONFIDENCE
        self.rows: dict[int, ResultRow] = {}
        self.current: int | None = None
        self.strip: StripSource | None = None
        self.container = QWidget()
        self.box = QVBoxLayout(self.container)
        self.box.setContentsMargins(2, 2, 2, 2)
        self.box.setSpacing(2)
        self.placeholder = QLabel("Open, drop, paste or scan an image.\nDraw boxes around words or lines, "
                                  "or use Detect lines.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
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
        for number, region in enumerate(regions, 1):
            row = ResultRow(number, region, self.threshold, self._strip(region))
            row.edit.edited.connect(self.text_edited)
            row.edit.focused.connect(self._activate)
            row.edit.word_focused.connect(self.word_activated)
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

    def selected_text(self) -> str:
        """Text selected in the focused editor, or "" when nothing is selected."""
        for row in self.rows.values():
            if row.edit.hasFocus() or row.edit.textCursor().hasSelection():
                selected = row.edit.textCursor().selectedText().replace("\u2029", "\n")
                if selected:
                    return selected
        return ""
