"""Undo commands for the workspace: region-list snapshots (draw, move, resize, delete, reorder, Detect lines) and
text edits (consecutive edits of one line merge)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QUndoCommand

from htr_desktop.regions import Page, Region, RegionWord

TEXT_EDIT_ID = 1


def snapshot(regions: list[Region]) -> list[Region]:
    """A deep copy of a region list (ids kept, so late recognition results still find their region)."""
    return copy.deepcopy(regions)


class RegionsChange(QUndoCommand):
    """A change to a page's region list, undone and redone by restoring copies of the list."""

    def __init__(self, page: Page, before: list[Region], label: str,
                 restore: Callable[[Page, list[Region]], None]) -> None:
        super().__init__(label)
        self.page = page
        self.before = before
        self.after: list[Region] | None = None  # taken at undo time, so results that arrived meanwhile are kept
        self.restore = restore

    def redo(self) -> None:
        """Nothing the first time (the change is already made); later, restore the state undo left."""
        if self.after is not None:
            self.restore(self.page, self.after)

    def undo(self) -> None:
        """Remember the current list, bring back the earlier one."""
        self.after = snapshot(self.page.regions)
        self.restore(self.page, self.before)


@dataclass(frozen=True)
class TextState:
    """What a text edit changes on a region."""

    text: str
    edited: bool
    words: tuple[RegionWord, ...]

    @classmethod
    def of(cls, region: Region) -> TextState:
        """The region's current text state."""
        return cls(region.text, region.edited, tuple(copy.copy(w) for w in region.words))


class TextEdit(QUndoCommand):
    """The user edited one line's text; typing in the same line merges into one command."""

    def __init__(self, page: Page, region_id: int, before: TextState, after: TextState,
                 apply: Callable[[Page, int, TextState], None]) -> None:
        super().__init__("Edit text")
        self.page, self.region_id = page, region_id
        self.before, self.after = before, after
        self.apply = apply
        self.first = True

    def id(self) -> int:
        """Text edits may merge."""
        return TEXT_EDIT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Absorb the next edit of the same line."""
        if not isinstance(other, TextEdit) or other.page is not self.page or other.region_id != self.region_id:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        """Nothing the first time (the editor already shows it); later, put the edited text back."""
        if self.first:
            self.first = False
            return
        self.apply(self.page, self.region_id, self.after)

    def undo(self) -> None:
        """Put the earlier text back."""
        self.apply(self.page, self.region_id, self.before)
