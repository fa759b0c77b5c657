"""Autosave for the window: at most AUTOSAVE_MS after the first unsaved change (also while typing), and at quit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from htr_desktop.regions import Page

log = logging.getLogger(__name__)
AUTOSAVE_MS = 1000  # after the first unsaved change; later changes do not push the save back
RETRY_MS = 5000  # after a failed save, while there is unsaved work

Snapshot = Callable[[], tuple[list[Page], int]]


class Autosave(QObject):
    """Owns this window's session; ``failed`` carries a message that holds until ``recovered``."""

    failed = Signal(str)
    recovered = Signal()

    def __init__(self, folder: Path, snapshot: Snapshot, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.snapshot = snapshot
        self.session: Any = None
        self.error = ""  # the last failure, "" once a save succeeded
        self.dirty = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.save)

    def open(self) -> Any:
        """Open and claim the session; returns ``session.Restored`` (problems included)."""
        from htr_desktop import session

        try:
            self.session = session.Session.open(self.folder)
            return self.session.restore()
        except session.StoreError as exc:
            self.session = None
            restored = session.read_only_restore(self.folder)
            self._fail(str(exc))
            return restored

    def changed(self) -> None:
        """Something worth saving changed: save within AUTOSAVE_MS (not postponed by further changes)."""
        self.dirty = True
        if not self.timer.isActive():
            self.timer.start(RETRY_MS if self.error else AUTOSAVE_MS)  # a failing store is not hammered

    def save(self) -> bool:
        """Save now; on failure emit ``failed`` and retry later. True when everything is saved."""
        from htr_desktop import session

        self.timer.stop()
        if self.session is None:
            self._fail(self.error or f"The session cannot be saved in {self.folder}.")
            return False
        pages, current = self.snapshot()
        try:
            self.session.save(pages, current)
        except session.SaveError as exc:
            self._fail(str(exc))
            return False
        self.dirty = False
        if self.error:
            self.error = ""
            self.recovered.emit()
        return True

    def move_to(self, folder: Path) -> bool:
        """Save the session in another folder from now on (the way out when this one cannot be written)."""
        from htr_desktop import session

        try:
            new = session.Session.open(folder)
        except session.StoreError as exc:
            self._fail(str(exc))
            return False
        old, self.session, self.folder = self.session, new, folder
        if old is not None:
            old.close()
        return self.save()

    def close(self) -> None:
        """Release the session (after the final save)."""
        self.timer.stop()
        if self.session is not None:
            self.session.close()
            self.session = None

    def _fail(self, message: str) -> None:
        log.warning("%s", message)
        self.error = message
        self.failed.emit(message)
        if self.dirty and not self.timer.isActive():
            self.timer.start(RETRY_MS)
