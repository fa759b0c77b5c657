"""A results row's line image: the line's pixels at a readable height, wrapped onto more strips when long."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

STRIP_GAP = 2  # pixels between the pieces of a wrapped line strip


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
        it is drawn at that height and wraps onto more strips, down to 1.2 text lines to save a last sliver.
        """
        if self.image.isNull() or width <= 0:
            return 0, 0, 1.0
        text = self.fontMetrics().height()
        iw, ih = self.image.width(), self.image.height()
        fit = width * ih / iw  # the height at which the whole line fills the width
        h = int(min(max(fit, 1.5 * text), 2.2 * text, 4 * ih))  # never blow a tiny crop up more than 4x
        n = max(1, math.ceil(iw * h / ih / width - 1e-6))
        fewer = (n - 1) * width * ih / iw  # the height at which one strip fewer holds the line
        if n > 1 and fewer >= 0.8 * h:  # rather than a sliver on a last strip, the line a little lower
            h, n = int(fewer), n - 1
        return n, h, h / ih

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
