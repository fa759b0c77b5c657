"""The open pages and their regions, and what happens to them: add, edit, reorder, recognize (no widgets)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoGroup, QUndoStack

from htr_desktop.message_bar import listed
from htr_desktop.regions import Box, Page, Region, inside, new_id
from htr_desktop.settings import Settings
from htr_desktop.undo import RegionsChange, TextEdit, TextState, snapshot
from htr_desktop.worker import RecognitionService, Task

if TYPE_CHECKING:
    import numpy as np

# numpy, OpenCV and model.* (behind loading, reading and model.imageio) are imported in the methods that use
# them, which all run after the window is shown: start-up imports Qt only.

log = logging.getLogger(__name__)


class Workspace(QObject):
    """Owns the pages; tells views what changed through signals."""

    pages_changed = Signal()
    current_changed = Signal(object)  # Page | None
    regions_changed = Signal(object)  # Page whose region list changed (rebuild)
    region_updated = Signal(object, object)  # Page, Region whose text/confidence changed
    recognized = Signal(object)  # Page: a recognition result arrived
    message = Signal(str, str)  # text, level: info | warning | error
    modified = Signal()  # something worth autosaving

    def __init__(self, service: RecognitionService, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.settings = settings
        self.pages: list[Page] = []
        self.current: Page | None = None
        self.undo = QUndoGroup(self)  # one undo stack per page; the current page's is active
        self._stacks: dict[int, QUndoStack] = {}
        # queued crop -> (region id, its box when queued, the part of it that was cut out or None for all of it)
        self._tickets: dict[int, tuple[int, Box, Box | None]] = {}
        self._whole: dict[int, str] = {}  # page id -> what its whole-page recognition is called in Edit > Undo
        service.region_done.connect(self._on_region_done)
        service.page_done.connect(self._on_page_done)
        service.task_failed.connect(self._on_task_failed)

    # --- pages ---------------------------------------------------------------------------------------------
    def page(self, page_id: int) -> Page | None:
        """The open page with this id."""
        return next((p for p in self.pages if p.id == page_id), None)

    def open_paths(self, paths: list[str], recognize: bool | None = None) -> list[Page]:
        """Open files/folders; unreadable ones are reported and skipped, the rest open."""
        from htr_desktop import loading
        from model.imageio import ImageError, display_name

        added: list[Page] = []
        errors: list[str] = []
        files = loading.expand(paths)
        if not files:
            self.message.emit("No images found in " + ", ".join(Path(p).name for p in paths), "warning")
            return []
        for path in files:
            try:
                added.extend(loading.pages_from_file(path, self.settings.get("files/pdf_dpi")))
            except ImageError as exc:
                errors.append(str(exc))
            except (OSError, MemoryError) as exc:
                errors.append(f"{display_name(path)}: cannot be opened ({exc})")
        if errors:  # every one of them, in one message
            self.message.emit("Cannot open " + errors[0] if len(errors) == 1 else
                              f"Cannot open {len(errors)} files:\n" + listed(errors), "error")
        if added:
            for source in {p.source for p in added}:
                self.settings.add_recent(source)
            self.add_pages(added, recognize)
        return added

    def add_pages(self, pages: list[Page], recognize: bool | None = None) -> None:
        """Append pages, show the first, and recognize them when auto-recognition is on."""
        if not pages:
            return
        self.pages.extend(pages)
        self.pages_changed.emit()
        self.set_current(pages[0])
        if self.settings.auto_recognize if recognize is None else recognize:
            for page in pages:
                self.recognize_whole(page)
        self.modified.emit()

    def set_current(self, page: Page | None) -> None:
        """Show ``page``."""
        self.current = page
        self.undo.setActiveStack(self.stack(page) if page is not None else None)  # type: ignore[arg-type]
        self.current_changed.emit(page)

    def stack(self, page: Page) -> QUndoStack:
        """The page's undo stack."""
        if page.id not in self._stacks:
            stack = QUndoStack(self.undo)
            self.undo.addStack(stack)
            self._stacks[page.id] = stack
        return self._stacks[page.id]

    def _drop_stack(self, page: Page) -> None:
        stack = self._stacks.pop(page.id, None)
        if stack is not None:
            self.undo.removeStack(stack)
            stack.deleteLater()

    def _change(self, page: Page, label: str, change: Callable[[], None]) -> None:
        """Make an undoable change to the page's region list."""
        before = snapshot(page.regions)
        change()
        self.stack(page).push(RegionsChange(page, before, label, self._restore))

    def _restore(self, page: Page, regions: list[Region]) -> None:
        page.regions = snapshot(regions)
        self.regions_changed.emit(page)
        self.recognize_regions(page, [r for r in page.regions if r.confidence is None])
        self.modified.emit()

    def _apply_text(self, page: Page, region_id: int, state: TextState) -> None:
        region = page.region(region_id)
        if region is None:
            return
        region.text, region.edited, region.words = state.text, state.edited, [copy.copy(w) for w in state.words]
        self.region_updated.emit(page, region)
        self.modified.emit()

    def close_page(self, page: Page) -> None:
        """Close one page."""
        if page in self.pages:
            index = self.pages.index(page)
            self.pages.remove(page)
            self._drop_stack(page)
            self.pages_changed.emit()
            if self.current is page:
                self.set_current(self.pages[min(index, len(self.pages) - 1)] if self.pages else None)
            self.modified.emit()

    def close_all(self) -> None:
        """Close every page."""
        self.service.cancel()
        for page in self.pages:
            self._drop_stack(page)
        self.pages.clear()
        self.pages_changed.emit()
        self.set_current(None)
        self.modified.emit()

    # --- regions -------------------------------------------------------------------------------------------
    def add_region(self, box: Box, recognize: bool = True) -> Region | None:
        """A new region on the current page (clipped to the image); a clear message when it is empty."""
        from model.imageio import ImageError

        page = self.current
        if page is None:
            self.message.emit("Open an image first.", "warning")
            return None
        try:
            clipped = page.clip(box)
        except ImageError as exc:
            self.message.emit(str(exc).capitalize(), "warning")
            return None
        line = next((r for r in page.regions if inside(clipped, r.box)), None)
        if line is not None:  # a box inside a line re-reads that part of the line: one text, never two
            if recognize:
                self.recognize_regions(page, [line], part=clipped)
            return line
        region = Region(box=clipped, kind="word" if clipped[2] < 3 * clipped[3] else "line")
        self._change(page, "Draw box", lambda: page.regions.append(region))
        self.regions_changed.emit(page)
        if recognize:
            self.recognize_regions(page, [region])
        self.modified.emit()
        return region

    def move_box(self, region_id: int, box: Box) -> None:
        """The user moved/resized a region: store and re-recognize it."""
        from model.imageio import ImageError

        page = self.current
        region = page.region(region_id) if page else None
        if page is None or region is None:
            return
        try:
            clipped = page.clip(box)
        except ImageError as exc:
            self.message.emit(str(exc).capitalize(), "warning")
            self.regions_changed.emit(page)
            return
        moved = region.box[2:] == clipped[2:]

        def change() -> None:
            region.box, region.edited, region.words = clipped, False, []
        self._change(page, "Move box" if moved else "Resize box", change)
        self.regions_changed.emit(page)
        self.recognize_regions(page, [region])
        self.modified.emit()

    def delete_regions(self, ids: list[int]) -> None:
        """Remove regions from the current page."""
        page = self.current
        if page is None or not ids:
            return
        def change() -> None:
            page.regions = [r for r in page.regions if r.id not in ids]
        self._change(page, "Delete box" if len(ids) == 1 else "Delete boxes", change)
        self.regions_changed.emit(page)
        self.modified.emit()

    def move_in_order(self, region_id: int, step: int) -> None:
        """Move a region up (-1) or down (+1) in the reading order."""
        page = self.current
        region = page.region(region_id) if page else None
        if page is None or region is None:
            return
        i = page.regions.index(region)
        j = min(max(i + step, 0), len(page.regions) - 1)
        if i == j:
            return
        self._change(page, "Reorder", lambda: page.regions.insert(j, page.regions.pop(i)))
        self.regions_changed.emit(page)
        self.modified.emit()

    def sort_regions(self) -> None:
        """Put the current page's regions in reading order."""
        if self.current is not None:
            self._change(self.current, "Sort", self.current.sort_reading_order)
            self.regions_changed.emit(self.current)
            self.modified.emit()

    def set_text(self, region_id: int, text: str) -> None:
        """The user corrected a text."""
        page = self.current
        region = page.region(region_id) if page else None
        if page is not None and region is not None and region.text != text:
            before = TextState.of(region)
            region.set_text(text)
            self.stack(page).push(TextEdit(page, region_id, before, TextState.of(region), self._apply_text))
            self.modified.emit()

    # --- recognition ---------------------------------------------------------------------------------------
    def _prep(self, gray: np.ndarray) -> np.ndarray:
        from htr_desktop.reading import preprocess

        return preprocess(gray, **self.settings.preprocessing)

    def recognize_regions(self, page: Page, regions: list[Region], part: Box | None = None) -> None:
        """Queue recognition of some regions of a page (or of one ``part`` inside the one region given)."""
        from model.imageio import ImageError

        crops = []
        for region in regions:
            try:
                crop = self._prep(page.crop(part or region.box))
                ticket = new_id()
                self._tickets[ticket] = (region.id, region.box, part)
                crops.append((ticket, crop))
            except ImageError as exc:
                self.message.emit(str(exc).capitalize(), "warning")
        if crops:
            self.service.submit(Task(page_id=page.id, crops=crops))

    def recognize_whole(self, page: Page, layout: str | None = None, label: str = "Recognize image") -> None:
        """Queue recognition of a whole page (segmented into lines when it is a page); ``label`` names its undo."""
        self._whole[page.id] = label
        self.service.submit(Task(page_id=page.id, gray=self._prep(page.gray), layout=layout or self.settings.layout))

    def detect_lines(self) -> None:
        """Segment the current page into line regions and recognize them."""
        if self.current is None:
            self.message.emit("Open an image first.", "warning")
            return
        self.recognize_whole(self.current, "page", "Detect lines")

    def recognize_all_regions(self) -> None:
        """Re-recognize every region of the current page (e.g. after changing the decoder)."""
        if self.current is not None and self.current.regions:
            self.recognize_regions(self.current, [r for r in self.current.regions if not r.edited])

    def _on_task_failed(self, page_id: int, message: str) -> None:
        if page_id >= 0:  # (a batch, page -1, is reported by its runner)
            self.message.emit(message, "error")

    def _on_region_done(self, page_id: int, ticket: int, result: Region) -> None:
        region_id, box, part = self._tickets.pop(ticket, (0, (0, 0, 0, 0), None))
        page = self.page(page_id)
        region = page.region(region_id) if page else None
        if page is None or region is None or region.box != box or (region.edited and part is None):
            return  # closed, deleted, moved since (a newer result is on its way) or corrected by hand
        x, y = (part or region.box)[:2]
        for word in result.words:
            if word.box is not None:
                word.box = (word.box[0] + x, word.box[1] + y, word.box[2], word.box[3])
        if part is not None:
            self._change(page, "Re-read part of a line", lambda: region.replace_part(part, result.words))
            self.region_updated.emit(page, region)
            self.modified.emit()
            return
        region.text, region.confidence, region.words = result.text, result.confidence, result.words
        self.region_updated.emit(page, region)
        self.recognized.emit(page)
        self.modified.emit()

    def _on_page_done(self, page_id: int, regions: list[Region]) -> None:
        page = self.page(page_id)
        if page is None:
            return
        kept = [r for r in page.regions if r.edited]

        def change() -> None:
            page.regions = kept + list(regions)
            if kept:
                page.sort_reading_order()
        self._change(page, self._whole.pop(page.id, "Recognize image"), change)
        if not page.regions:
            self.message.emit(f"No writing found on {page.name}.", "info")
        self.regions_changed.emit(page)
        self.recognized.emit(page)
        self.modified.emit()
