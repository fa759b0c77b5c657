"""One result row's text editor: auto height, low-confidence words underlined, keyboard flow between rows."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QEvent, QMimeData, QPoint, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QFocusEvent,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QFrame, QMenu, QTextEdit, QToolTip

from htr_desktop.regions import Region, RegionWord


def low_color(palette: QPalette) -> QColor:
    """The colour of low-confidence words: a red that reads on the palette's text background (light or dark)."""
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    return QColor(255, 120, 110) if dark else QColor(190, 30, 30)


class ResultEdit(QTextEdit):
    """An auto-height plain-text editor for one region; shows word confidences in tooltips."""

    focused = Signal(int)  # region id
    edited = Signal(int, str)  # region id, text
    word_focused = Signal(int, int)  # region id, index of the word under the text cursor (-1: none)
    step = Signal(int, int)  # region id, +1 (next row) or -1 (previous row)
    entered = Signal(int)  # region id: Enter accepted this line's text (kept as a sample of the user's hand)

    def __init__(self, region_id: int) -> None:
        super().__init__()
        self.region_id = region_id
        self.spans: list[tuple[int, int] | None] = []  # each recognized word's (start, end) in the text
        self.words: list[RegionWord] = []  # the region's words when shown (for their alternatives)
        self.suggest: Callable[[RegionWord], list[str]] = lambda word: list(word.alternatives)
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
        """Never squeezed below its text's height; narrow enough to give way in a small window (the text wraps)."""
        return QSize(60, self.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
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
        """Undo/Redo keys are left to the window's undo stack."""
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and (
                event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)):
            event.ignore()
            return False
        return super().event(event)

    def viewportEvent(self, event: QEvent) -> bool:
        """Tooltip over the text (the viewport gets it): the confidence of the word under the mouse."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tip = self.cursorForPosition(event.pos()).charFormat().toolTip()
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter or Down on the last line goes to the next row, Up on the first line to the previous one."""
        key = event.key()
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # a row is one line: never a line break in it
            if plain:
                self.entered.emit(self.region_id)
                self.step.emit(self.region_id, 1)
            return
        if plain and key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            cursor = self.textCursor()
            down = key == Qt.Key.Key_Down
            if not cursor.movePosition(QTextCursor.MoveOperation.Down if down else QTextCursor.MoveOperation.Up):
                self.step.emit(self.region_id, 1 if down else -1)
                return
        if event.text().isprintable() and event.text():
            self.setCurrentCharFormat(QTextCharFormat())  # typed letters are the user's: never marked doubtful
        super().keyPressEvent(event)

    def insertFromMimeData(self, source: QMimeData) -> None:
        """Pasted text is plain too (no doubtful word's underline carried over) and one line: line breaks and tabs
        become spaces (several pasted lines would otherwise split the line in every export)."""
        self.setCurrentCharFormat(QTextCharFormat())
        if source.hasText():
            self.textCursor().insertText(re.sub(r"\s*[\r\n\t\v\f\u2028\u2029]+\s*", " ", source.text().strip("\r\n")))
            self.ensureCursorVisible()
            return
        super().insertFromMimeData(source)

    def word_under(self, point: QPoint) -> tuple[RegionWord, int, int] | None:
        """The recognized word at a viewport point and its (start, end) in the text, if any."""
        cursor = self.cursorForPosition(point)
        index = self.word_at(cursor.position())
        if index >= 0 and index < len(self.words) and self.spans[index] is not None:
            start, end = self.spans[index]  # type: ignore[misc]
            return self.words[index], start, end
        cursor.select(QTextCursor.SelectionType.WordUnderCursor)  # edited since: find the word by its text
        text = cursor.selectedText()
        word = next((w for w in self.words if w.text == text), None) if text else None
        return (word, cursor.selectionStart(), cursor.selectionEnd()) if word is not None else None

    def context_menu(self, point: QPoint) -> QMenu:
        """The editor's menu with the word's other readings on top; picking one replaces the word."""
        menu = self.createStandardContextMenu(point)
        for action in menu.actions():  # this editor's own undo is off: Edit > Undo covers text and boxes
            if action.objectName() in ("edit-undo", "edit-redo"):
                menu.removeAction(action)
        found = self.word_under(point)
        options = self.suggest(found[0]) if found is not None else []
        if found is not None:
            first = menu.actions()[0] if menu.actions() else QAction(menu)
            title = QAction(f"Other readings of “{found[0].text}”" if options else "No other readings", menu)
            title.setEnabled(False)
            menu.insertAction(first, title)
            for option in options:
                action = QAction(option, menu)
                action.triggered.connect(lambda _c=False, o=option, s=found[1], e=found[2]: self.replace(s, e, o))
                menu.insertAction(first, action)
            menu.insertSeparator(first)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Right-click: other readings of the word under the mouse, then the usual editing commands."""
        menu = self.context_menu(event.pos())
        menu.exec(event.globalPos())
        menu.deleteLater()

    def replace(self, start: int, end: int, text: str) -> None:
        """Replace the text from ``start`` to ``end`` (one undoable edit)."""
        cursor = self.textCursor()
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text, QTextCharFormat())
        self.setTextCursor(cursor)

    def next_low(self, after: int) -> tuple[int, int] | None:
        """(start, end) of the first low-confidence (underlined) word starting at or after ``after``."""
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                if frag.charFormat().underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline \
                        and frag.position() >= after:
                    return frag.position(), frag.position() + frag.length()
                it += 1
            block = block.next()
        return None

    def select(self, start: int, end: int) -> None:
        """Select the text from ``start`` to ``end`` and put the focus here."""
        cursor = self.textCursor()
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_region(self, region: Region, threshold: float) -> None:
        """Set the text; underline words whose confidence is below ``threshold`` and give every word a tooltip."""
        self.blockSignals(True)
        self.setPlainText(region.text)
        cursor = QTextCursor(self.document())
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.setCharFormat(QTextCharFormat())  # setPlainText gives all of it the format at the old cursor
        pos = 0
        self.spans = []
        self.words = list(region.words)
        low = low_color(self.palette())
        for word in region.words:
            start = region.text.find(word.text, pos)
            if start < 0:
                self.spans.append(None)
                continue
            pos = start + len(word.text)
            self.spans.append((start, pos))
            fmt = QTextCharFormat()
            fmt.setToolTip(f"confidence {word.confidence:.0%}")
            if word.confidence < threshold:
                fmt.setForeground(low)
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)  # not colour alone
                fmt.setUnderlineColor(low)
                fmt.setToolTip(f"low confidence: {word.confidence:.0%} (below {threshold:.0%})")
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
