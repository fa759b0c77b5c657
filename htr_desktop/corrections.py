"""The corrections store: confirmed or corrected lines of the user's handwriting, kept in the app's SQLite store."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from htr_desktop.store import Store
    from model.adapt import LabelledImage

from htr_desktop.session import decode_png, encode_png

log = logging.getLogger(__name__)

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS corrections(id INTEGER PRIMARY KEY, crop TEXT NOT NULL REFERENCES blobs(key), "
    "text TEXT NOT NULL, model_text TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '', "
    "box TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT 'line', created REAL NOT NULL)",
]


@dataclass(frozen=True)
class Correction:
    """One stored sample: the crop the recognizer saw, its correct text, the model's reading, where it came from."""

    id: int
    crop: str  # blob key of the PNG
    text: str
    model_text: str
    source: str
    box: tuple[int, ...] | None
    kind: str
    created: float


class Corrections:
    """Add, list, delete, export and import samples; every write is one transaction of the shared store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate("corrections", SCHEMA)

    def add(self, crop: np.ndarray, text: str, model_text: str = "", source: str = "",
            box: tuple[int, ...] | None = None, kind: str = "line") -> int:
        """Keep one sample; confirming the same box of the same image again replaces its earlier text."""
        text = " ".join(text.split())
        if not text:
            raise ValueError("an empty line cannot teach the model anything")
        png = encode_png(crop)
        box_json = json.dumps([int(v) for v in box]) if box is not None else ""
        with self.store.transaction() as con:
            if source and box_json:
                con.execute("DELETE FROM corrections WHERE source = ? AND box = ? AND kind = ?",
                            (source, box_json, kind))
            key = self.store.put_blob(con, png)
            cur = con.execute("INSERT INTO corrections(crop, text, model_text, source, box, kind, created) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)", (key, text, model_text, source, box_json, kind,
                                                              time.time()))
            self.store.collect_garbage(con)
            return int(cur.lastrowid or 0)

    def count(self) -> int:
        """How many samples are stored."""
        return int(self.store.con.execute("SELECT COUNT(*) FROM corrections").fetchone()[0])

    def all(self) -> list[Correction]:
        """Every sample, oldest first."""
        rows = self.store.con.execute(
            "SELECT id, crop, text, model_text, source, box, kind, created FROM corrections ORDER BY id").fetchall()
        return [Correction(int(r[0]), r[1], r[2], r[3], r[4], tuple(json.loads(r[5])) if r[5] else None, r[6],
                           float(r[7])) for r in rows]

    def image(self, correction: Correction) -> np.ndarray:
        """The stored crop as a gray image; ValueError if it is missing or damaged."""
        image = decode_png(self.store.blob(correction.crop))
        if image is None:
            raise ValueError(f"the image of sample {correction.id} is missing or damaged")
        return image

    def delete(self, ids: list[int]) -> int:
        """Delete these samples; returns how many were deleted."""
        with self.store.transaction() as con:
            n = sum(con.execute("DELETE FROM corrections WHERE id = ?", (i,)).rowcount for i in ids)
            self.store.collect_garbage(con)
        return n

    def samples(self) -> list[LabelledImage]:
        """Every readable sample as adaptation input (damaged ones are skipped and logged)."""
        from model.adapt import LabelledImage

        out = []
        for c in self.all():
            try:
                out.append(LabelledImage(self.image(c), c.text))
            except ValueError as exc:
                log.warning("%s", exc)
        return out

    def export(self, folder: Path) -> int:
        """Write every sample as ``NNNNN.png`` + ``NNNNN.txt`` (the training module's folder format)."""
        folder.mkdir(parents=True, exist_ok=True)
        n = 0
        for c in self.all():
            data = self.store.blob(c.crop)
            if data is None:
                continue
            stem = _free_stem(folder, f"sample-{c.id:05d}")
            (folder / f"{stem}.png").write_bytes(data)
            (folder / f"{stem}.txt").write_text(c.text + "\n", encoding="utf-8")
            n += 1
        return n

    def import_folder(self, folder: Path, problems: list[str] | None = None) -> int:
        """Add every image with a ``.txt`` sidecar from ``folder`` that is not kept already (same image and text);
        unreadable files and those already kept are listed in ``problems``. Returns how many were added."""
        import hashlib

        from model.lines import read_lines_folder

        added = 0
        for s in read_lines_folder(folder, problems):
            key = hashlib.sha256(encode_png(s.image)).hexdigest()  # the store's blob key
            if self.store.con.execute("SELECT 1 FROM corrections WHERE crop = ? AND text = ?",
                                      (key, " ".join(s.text.split()))).fetchone():
                if problems is not None:
                    problems.append(f"“{s.text}”: already kept")
                continue
            self.add(s.image, s.text, source="")
            added += 1
        return added

    def summary(self) -> dict[str, Any]:
        """Counts for the window: samples and lines whose text the user changed."""
        row = self.store.con.execute(
            "SELECT COUNT(*), SUM(model_text != '' AND model_text != text) FROM corrections").fetchone()
        return {"samples": int(row[0]), "corrected": int(row[1] or 0)}


def _free_stem(folder: Path, stem: str) -> str:
    """``stem`` or ``stem-2``, ``stem-3``… so that nothing in ``folder`` is overwritten."""
    candidate, n = stem, 1
    while (folder / f"{candidate}.png").exists() or (folder / f"{candidate}.txt").exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate
