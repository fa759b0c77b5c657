"""Helpers for the reliability suite: pages to save, and a look at what the store holds."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from htr_desktop.regions import Page, Region, RegionWord
from htr_desktop.store import DB_NAME


def make_page(name: str = "note.png", seed: int = 0, regions: list[Region] | None = None) -> Page:
    """A small page with distinct pixels and one corrected line region."""
    gray = np.random.default_rng(seed).integers(0, 255, (60, 200), dtype=np.uint8)
    default = [Region(box=(10, 10, 150, 30), text=f"typed {seed}", confidence=0.5, edited=True,
                      words=[RegionWord(f"typed {seed}", 0.5)])]
    return Page(name=name, gray=gray, source=f"/tmp/{name}", regions=default if regions is None else regions)


def stored(folder: Path) -> dict[int, list[dict]]:
    """Every saved session's page documents, by session id (read straight from the database)."""
    con = sqlite3.connect(folder / DB_NAME)
    try:
        out: dict[int, list[dict]] = {}
        for sid, doc in con.execute("SELECT session, doc FROM session_pages ORDER BY session, ord"):
            out.setdefault(sid, []).append(json.loads(doc))
        return out
    finally:
        con.close()


def blob_count(folder: Path) -> int:
    con = sqlite3.connect(folder / DB_NAME)
    try:
        return con.execute("SELECT count(*) FROM blobs").fetchone()[0]
    finally:
        con.close()


from tests.gui.conftest import (  # noqa: E402,F401 - the window fixtures, shared with tests/gui
    _collect_qt_garbage,
    fake,
    line_file,
    make_window,
    page_file,
    settings,
)
