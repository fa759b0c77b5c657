"""Shows the workspace: the current page's image and boxes in the view, its rows in the results, the page list."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QListWidget

from htr_desktop.image_view import ImageView
from htr_desktop.regions import Box, Page, Region
from htr_desktop.results import ResultsPanel
from htr_desktop.workspace import Workspace


def word_rects(region: Region) -> list[QRectF | None]:
    """The region's word boxes as scene rectangles (None: a word without a box)."""
    return [None if w.box is None else QRectF(*w.box) for w in region.words]


def box_state(region: Region, threshold: float) -> str:
    """pending | low | done, for the box's colour and line style."""
    if region.confidence is None:
        return "pending"
    return "low" if region.confidence < threshold and not region.edited else "done"


def rect_box(rect: QRectF) -> Box:
    """A scene rectangle as an integer (x, y, w, h) box."""
    r = rect.normalized()
    return round(r.x()), round(r.y()), round(r.width()), round(r.height())


class Presenter(QObject):
    """Keeps the view, the results panel and the page list in step with the workspace."""

    def __init__(self, workspace: Workspace, view: ImageView, results: ResultsPanel, page_list: QListWidget,
                 status: Any) -> None:
        super().__init__(workspace)
        self.workspace, self.view, self.results, self.page_list = workspace, view, results, page_list
        self.status = status  # a callable (text, milliseconds) for passing notes
        workspace.current_changed.connect(self.show_page)
        workspace.pages_changed.connect(self.fill_page_list)
        workspace.regions_changed.connect(self.show_regions)
        workspace.region_updated.connect(self.region_updated)
        page_list.currentRowChanged.connect(self._row_changed)

    def show_page(self, page: Page | None) -> None:
        """Show ``page`` (None: nothing)."""
        if page is None:
            self.view.set_image(None)
        else:
            from htr_desktop.imaging import display_image

            image, scale = display_image(page.gray)
            self.view.set_image(image, scale)
            if scale < 1:
                self.status(f"{page.name}: large image shown at {scale:.0%} (recognition uses full resolution)", 8000)
            index = self.workspace.pages.index(page)
            if self.page_list.currentRow() != index:
                self.page_list.setCurrentRow(index)
        self.show_regions(page)

    def show_regions(self, page: Page | None) -> None:
        """Rebuild the boxes and rows of the current page."""
        if page is not self.workspace.current:
            return
        regions = page.regions if page else []
        threshold = self.results.threshold
        self.view.set_regions([(r.id, QRectF(*r.box), box_state(r, threshold), word_rects(r)) for r in regions])
        self.results.set_regions(regions, _strip_source(page))

    def region_updated(self, page: Page, region: Region) -> None:
        """Refresh one box and its row after recognition or undo."""
        if page is self.workspace.current:
            self.results.update_region(region)
            item = self.view.items_by_id.get(region.id)
            if item is not None:
                item.set_state(box_state(region, self.results.threshold))
                item.set_words(word_rects(region))

    def fill_page_list(self) -> None:
        """The open images, by name."""
        self.page_list.blockSignals(True)
        self.page_list.clear()
        self.page_list.addItems([p.name for p in self.workspace.pages])
        self.page_list.blockSignals(False)

    def delete_selected(self) -> None:
        """Delete the selected box(es), or the current row's."""
        ids = self.view.selected_ids() or ([self.results.current] if self.results.current else [])
        self.workspace.delete_regions(ids)

    def move_selected(self, step: int) -> None:
        """Move the selected box (or the current row) earlier (-1) or later (+1) in the reading order."""
        ids = self.view.selected_ids()
        region_id = ids[0] if ids else self.results.current
        if region_id is not None:
            self.workspace.move_in_order(region_id, step)

    def step_page(self, step: int) -> None:
        """Show the next (+1) or previous (-1) image, round the end."""
        pages, current = self.workspace.pages, self.workspace.current
        if pages and current in pages:
            self.workspace.set_current(pages[(pages.index(current) + step) % len(pages)])

    def next_low_word(self) -> None:
        """Select the next low-confidence word (F3 / Ctrl+J)."""
        if not self.results.next_low_word():
            self.status("No doubtful words left", 3000)

    def _row_changed(self, row: int) -> None:
        pages = self.workspace.pages
        if 0 <= row < len(pages) and pages[row] is not self.workspace.current:
            self.workspace.set_current(pages[row])


def _strip_source(page: Page | None) -> Any:
    """A function giving a line's image strip for the results rows (None without a page)."""
    if page is None:
        return None

    def strip(box: Box) -> QImage | None:
        from htr_desktop.imaging import gray_to_qimage
        from model.imageio import ImageError

        try:
            return gray_to_qimage(page.crop(box))
        except ImageError:
            return None
    return strip
