"""An editable region rectangle on the image: select, move, resize by its edges, shows its reading-order number."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

EDGE_PX = 6  # how close (screen pixels) to an edge counts as grabbing it
COLORS = {"done": QColor(30, 120, 230), "pending": QColor(150, 150, 150), "low": QColor(220, 120, 0),
          "highlight": QColor(230, 40, 90)}
WORD_COLOR = QColor(230, 40, 90, 110)  # word boxes, drawn faintly inside the selected line only
LABEL_GAP_PX = 4  # screen pixels between the reading-order number and the box's left edge


class RegionItem(QGraphicsRectItem):
    """One region; ``on_change(region_id, rect)`` is called when the user finished moving or resizing it."""

    def __init__(self, region_id: int, rect: QRectF, on_change: Callable[[int, QRectF], None]) -> None:
        super().__init__(rect)
        self.region_id = region_id
        self.on_change = on_change
        self.state = "pending"
        self.highlighted = False
        self._grab: tuple[str, QPointF, QRectF] | None = None  # edges ("" = move), press point, start rect
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.word_rects: list[QRectF | None] = []  # one per recognized word; None when it has no box
        self.active_word = -1
        self.label = QGraphicsSimpleTextItem(self)
        self.label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        font = QFont()
        font.setBold(True)
        self.label.setFont(font)
        self.set_order(0)
        self.restyle()

    def set_order(self, number: int) -> None:
        """Show the reading-order number just left of the box (never over the writing)."""
        self.label.setText(str(number) if number else "")
        self._place_label()

    def _place_label(self) -> None:
        # the label ignores the view's zoom, so this offset is in screen pixels
        self.label.setPos(self.rect().topLeft())
        self.label.setTransform(QTransform.fromTranslate(-self.label.boundingRect().width() - LABEL_GAP_PX, 0))

    def set_words(self, rects: list[QRectF | None]) -> None:
        """Word boxes (image pixels, None: unknown) shown faintly inside the box while it is selected/highlighted."""
        self.word_rects = list(rects)
        self.active_word = -1
        self.update()

    def set_active_word(self, index: int) -> None:
        """Mark the word whose text has the cursor in the results panel (-1: none)."""
        self.active_word = index
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        """The box, and its word boxes when selected or highlighted."""
        super().paint(painter, option, widget)
        if self.word_rects and (self.highlighted or self.isSelected()):
            pen = QPen(WORD_COLOR, 1, Qt.PenStyle.DotLine)
            pen.setCosmetic(True)
            painter.setPen(pen)
            for i, rect in enumerate(self.word_rects):
                if rect is not None:
                    painter.setBrush(QBrush(WORD_COLOR) if i == self.active_word else Qt.BrushStyle.NoBrush)
                    painter.drawRect(rect)

    def set_state(self, state: str) -> None:
        """pending | done | low (low confidence)."""
        self.state = state
        self.restyle()

    def set_highlighted(self, on: bool) -> None:
        """Mark the region that matches the selected result."""
        self.highlighted = on
        self.restyle()

    def restyle(self) -> None:
        """Pen and fill from state, highlight and selection."""
        color = COLORS["highlight"] if self.highlighted or self.isSelected() else COLORS[self.state]
        pen = QPen(color, 2 if not self.highlighted else 3)
        pen.setCosmetic(True)  # constant on-screen width at any zoom
        if self.state == "pending":
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)
        fill = QColor(color)
        fill.setAlpha(45 if self.highlighted or self.isSelected() else 18)
        self.setBrush(QBrush(fill))
        self.label.setBrush(QBrush(color))

    def edge_zone(self) -> float:
        """How near an edge (image pixels) grabs it: EDGE_PX on screen at any zoom, but never more than a quarter
        of the box, so even a small box zoomed out keeps a middle that moves it."""
        scale = self.scene().views()[0].transform().m11() if self.scene() and self.scene().views() else 1.0
        r = self.rect()
        return min(EDGE_PX / max(scale, 1e-6), 0.25 * min(r.width(), r.height()))

    def _edges_at(self, pos: QPointF) -> str:
        tol = self.edge_zone()
        r = self.rect()
        edges = ""
        if abs(pos.x() - r.left()) <= tol:
            edges += "l"
        elif abs(pos.x() - r.right()) <= tol:
            edges += "r"
        if abs(pos.y() - r.top()) <= tol:
            edges += "t"
        elif abs(pos.y() - r.bottom()) <= tol:
            edges += "b"
        return edges

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        """Resize cursors over edges, a move cursor inside."""
        edges = self._edges_at(event.pos())
        shapes = {"l": Qt.CursorShape.SizeHorCursor, "r": Qt.CursorShape.SizeHorCursor,
                  "t": Qt.CursorShape.SizeVerCursor, "b": Qt.CursorShape.SizeVerCursor,
                  "lt": Qt.CursorShape.SizeFDiagCursor, "rb": Qt.CursorShape.SizeFDiagCursor,
                  "rt": Qt.CursorShape.SizeBDiagCursor, "lb": Qt.CursorShape.SizeBDiagCursor}
        self.setCursor(shapes.get(edges, Qt.CursorShape.SizeAllCursor))
        super().hoverMoveEvent(event)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """Start moving or resizing."""
        if event.button() == Qt.MouseButton.LeftButton:
            self._grab = (self._edges_at(event.pos()), event.pos(), QRectF(self.rect()))
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """Move or resize while dragging."""
        if self._grab is None:
            return
        edges, start, rect = self._grab
        d = event.pos() - start
        r = QRectF(rect)
        if not edges:
            r.translate(d)
        else:
            if "l" in edges:
                r.setLeft(min(rect.left() + d.x(), rect.right() - 1))
            if "r" in edges:
                r.setRight(max(rect.right() + d.x(), rect.left() + 1))
            if "t" in edges:
                r.setTop(min(rect.top() + d.y(), rect.bottom() - 1))
            if "b" in edges:
                r.setBottom(max(rect.bottom() + d.y(), rect.top() + 1))
        self.setRect(r)
        self.word_rects = []  # the words moved with the old box; recognition of the new box has none
        self._place_label()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """Report the new box once the drag ends."""
        grabbed, self._grab = self._grab, None
        super().mouseReleaseEvent(event)
        if grabbed is not None and self.rect() != grabbed[2]:
            self.on_change(self.region_id, self.rect())
