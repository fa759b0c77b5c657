"""The image view: zoom (wheel, pinch, fit, 100 %), pan, rubber-band regions, editable region items, drops."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGestureEvent,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QPinchGesture,
)

from htr_desktop import drops
from htr_desktop.region_item import RegionItem

MIN_ZOOM, MAX_ZOOM = 0.02, 32.0


class ImageView(QGraphicsView):
    """Scene coordinates are full-resolution image pixels, even when a huge image is shown downscaled."""

    region_drawn = Signal(QRectF)
    region_changed = Signal(int, QRectF)
    region_clicked = Signal(int)
    delete_requested = Signal(list)  # region ids
    dropped = Signal(QMimeData)  # files or image data (valid only during the emit)
    zoom_changed = Signal(float)  # 1.0 = one image pixel per physical screen pixel

    def __init__(self) -> None:
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setBackgroundBrush(self.palette().dark())
        self.setAcceptDrops(True)
        self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        self.pixmap_item: QGraphicsPixmapItem | None = None
        self.items_by_id: dict[int, RegionItem] = {}
        self._band_start: QPointF | None = None
        self._band: QGraphicsRectItem | None = None
        self._panning: QPoint | None = None
        self.fit_mode = True
        self.draw_mode = False  # every left drag draws a box, also over existing boxes (e.g. a word in a line)
        self.scene().selectionChanged.connect(self._on_selection)

    # --- image and regions -------------------------------------------------------------------------------
    def set_image(self, image: QImage | None, scale: float = 1.0) -> None:
        """Show ``image`` (a display copy ``scale`` times the real size); None clears the view."""
        self.dispose()
        if image is None:
            return
        self.pixmap_item = self.scene().addPixmap(QPixmap.fromImage(image))
        self.pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.pixmap_item.setScale(1.0 / scale)
        self.scene().setSceneRect(self.pixmap_item.sceneBoundingRect())
        self.fit_mode = True
        self.fit()

    def dispose(self) -> None:
        """Take every item out of the scene before dropping it.

        Items deleted by the scene in C++ would leave dangling Python wrappers (QGraphicsItems are no QObjects).
        """
        for item in [*self.items_by_id.values(), self._band, self.pixmap_item]:
            if item is not None and item.scene() is self.scene():
                self.scene().removeItem(item)
        self.items_by_id.clear()
        self._band = None
        self.pixmap_item = None

    def set_regions(self, regions: list[tuple[int, QRectF, str, list[QRectF | None]]]) -> None:
        """Replace the region items: (region id, rect, state, word rects; image pixels) in reading order."""
        for item in self.items_by_id.values():
            self.scene().removeItem(item)
        self.items_by_id.clear()
        for number, (region_id, rect, state, words) in enumerate(regions, 1):
            item = RegionItem(region_id, rect, self.region_changed.emit)
            item.setAcceptHoverEvents(not self.draw_mode)
            item.set_order(number)
            item.set_state(state)
            item.set_words(words)
            self.scene().addItem(item)
            self.items_by_id[region_id] = item

    def highlight(self, region_id: int | None) -> None:
        """Highlight one region (and scroll it into view); None clears."""
        for rid, item in self.items_by_id.items():
            item.set_highlighted(rid == region_id)
        if region_id in self.items_by_id:
            self.ensureVisible(self.items_by_id[region_id], 20, 20)

    def highlight_word(self, region_id: int, index: int) -> None:
        """Mark one word box of a region (-1 clears)."""
        item = self.items_by_id.get(region_id)
        if item is not None:
            item.set_active_word(index)

    def selected_ids(self) -> list[int]:
        """Ids of the selected region items."""
        return [item.region_id for item in self.items_by_id.values() if item.isSelected()]

    def _on_selection(self) -> None:
        for item in self.items_by_id.values():
            item.restyle()
        ids = self.selected_ids()
        if len(ids) == 1:
            self.region_clicked.emit(ids[0])

    def set_draw_mode(self, on: bool) -> None:
        """Draw mode: left drags draw boxes even inside other boxes (moving/resizing needs draw mode off)."""
        self.draw_mode = on
        if on:
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.viewport().unsetCursor()
        for item in self.items_by_id.values():
            item.setAcceptHoverEvents(not on)

    # --- zoom -----------------------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        """Image pixels per physical screen pixel (1.0 = 100 %)."""
        return self.transform().m11() * self.devicePixelRatioF()

    def set_zoom(self, zoom: float) -> None:
        """Zoom to ``zoom`` (1.0 = 100 %, high-DPI aware)."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        factor = zoom / max(self.zoom, 1e-9)
        self.scale(factor, factor)
        self.fit_mode = False
        self.zoom_changed.emit(self.zoom)

    def zoom_by(self, factor: float) -> None:
        """Zoom in (>1) or out (<1) around the mouse or the centre."""
        self.set_zoom(self.zoom * factor)

    def actual_size(self) -> None:
        """100 %: one image pixel per screen pixel."""
        self.set_zoom(1.0)

    def fit(self) -> None:
        """Fit the whole image into the window."""
        if self.pixmap_item is not None:
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            self.fit_mode = True
            self.zoom_changed.emit(self.zoom)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep fitting while in fit mode."""
        super().resizeEvent(event)
        if self.fit_mode:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Wheel zooms; Shift+wheel scrolls."""
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            super().wheelEvent(event)
            return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.25 ** steps)
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:
        """Pinch: touch gestures and trackpad native zoom gestures."""
        if event.type() == QEvent.Type.Gesture and isinstance(event, QGestureEvent):
            pinch = event.gesture(Qt.GestureType.PinchGesture)
            if isinstance(pinch, QPinchGesture):
                self.zoom_by(pinch.scaleFactor())
                return True
        if event.type() == QEvent.Type.NativeGesture and isinstance(event, QNativeGestureEvent):
            if event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
                self.zoom_by(1.0 + event.value())
                return True
        return super().viewportEvent(event)

    # --- rubber band and pan --------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Middle button pans; left button starts a new box on empty image, anywhere with Shift or in draw mode."""
        if event.button() == Qt.MouseButton.MiddleButton:
            self._panning = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        item = self.itemAt(event.position().toPoint())
        on_box = isinstance(item, RegionItem) or isinstance(getattr(item, "parentItem", lambda: None)(), RegionItem)
        drawing = self.draw_mode or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier) or not on_box
        if event.button() == Qt.MouseButton.LeftButton and self.pixmap_item is not None and drawing:
            self.scene().clearSelection()
            self._band_start = self.mapToScene(event.position().toPoint())
            pen = QPen(QColor(230, 40, 90), 1, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            self._band = self.scene().addRect(QRectF(self._band_start, self._band_start), pen)
            self._band.setZValue(2)
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Pan or stretch the rubber band."""
        if self._panning is not None:
            delta = event.position().toPoint() - self._panning
            self._panning = event.position().toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            return
        if self._band is not None and self._band_start is not None:
            end = self.mapToScene(event.position().toPoint())
            self._band.setRect(QRectF(self._band_start, end).normalized())
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Finish panning or emit the drawn region (a plain click draws nothing)."""
        if self._panning is not None:
            self._panning = None
            self.viewport().unsetCursor()
            return
        if self._band is not None:
            rect = self._band.rect()
            self.scene().removeItem(self._band)
            self._band = None
            start_screen = self.mapFromScene(self._band_start or QPointF())
            self._band_start = None
            moved = (event.position().toPoint() - start_screen).manhattanLength()
            if moved >= 2:
                self.region_drawn.emit(rect)
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Delete/Backspace removes the selected regions."""
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected_ids():
            self.delete_requested.emit(self.selected_ids())
            return
        super().keyPressEvent(event)

    # --- drops ----------------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept files and image data."""
        if drops.accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        """Keep accepting while over the view."""
        if drops.accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Hand files or image data to the window (``dropped``)."""
        if drops.accepts(event.mimeData()):
            self.dropped.emit(event.mimeData())
            event.acceptProposedAction()
        else:
            event.ignore()
