"""The autosaved session in the store: pages (PNG blobs), regions and corrected texts; salvage, 0.1.0 migration.

Each window claims one session (a lock file held for its lifetime, released by the OS even after kill -9), so
two windows never write the same session; page images are blobs that stay while any session still names them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from htr_desktop.regions import Page, Region, RegionWord
from htr_desktop.store import Store, StoreError, describe

log = logging.getLogger(__name__)
LEGACY_FILE = "session.json"  # written by 0.1.0
LEGACY_BACKUP = "0.1.0"  # its files are moved here once converted
LOCKS = "locks"
SCHEMA = [
    """CREATE TABLE sessions(id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, saved REAL,
                             current INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE session_pages(session INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                                  ord INTEGER NOT NULL, image TEXT NOT NULL REFERENCES blobs(key), doc TEXT NOT NULL,
                                  PRIMARY KEY(session, ord))""",
]


class SaveError(Exception):
    """The session could not be saved; the message says why and where."""


def default_folder() -> Path:
    """Where the session lives: ``$HTR_DESKTOP_DATA_DIR`` or the platform's user data folder."""
    override = os.environ.get("HTR_DESKTOP_DATA_DIR")
    base = Path(override) if override else Path(platformdirs.user_data_dir("htr-desktop", "htr-desktop"))
    return base / "session"


@dataclass
class Restored:
    """What was restored, and what could not be (plain-words problems for the window)."""

    pages: list[Page] = field(default_factory=list)
    current: int = 0
    problems: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # worth saying, nothing lost (e.g. a second window)


# --- documents: tolerant writing, strict reading --------------------------------------------------------------
def _number(value: Any) -> float | None:
    """A finite float, or None for anything else (strings, NaN, booleans)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _box(value: Any) -> tuple[int, int, int, int] | None:
    if not isinstance(value, list | tuple) or len(value) != 4:
        return None
    nums = [_number(v) for v in value]
    if any(n is None or abs(n) > 1e9 for n in nums):
        return None
    x, y, w, h = (int(round(n)) for n in nums)  # type: ignore[arg-type]
    return (x, y, w, h) if w > 0 and h > 0 else None


def _confidence(value: Any) -> float | None:
    n = _number(value)
    return None if n is None else min(max(n, 0.0), 1.0)


def region_doc(region: Region) -> dict[str, Any]:
    """A region as stored; never raises (a value that cannot be stored is left out)."""
    words = []
    for w in region.words:
        conf = _confidence(w.confidence)
        if conf is not None:
            word: dict[str, Any] = {"text": str(w.text), "confidence": round(conf, 4)}
            if (box := _box(w.box)) is not None:
                word["box"] = list(box)
            words.append(word)
    conf = _confidence(region.confidence)
    return {"box": list(_box(region.box) or region.box), "text": str(region.text), "kind": str(region.kind),
            "edited": bool(region.edited), "confidence": None if conf is None else round(conf, 4), "words": words}


def page_doc(page: Page) -> str:
    """A page's name, source and regions as ASCII JSON (any file name, even one that is not valid UTF-8)."""
    doc = {"name": str(page.name), "source": str(page.source), "regions": [region_doc(r) for r in page.regions]}
    return json.dumps(doc, ensure_ascii=True, allow_nan=False)


def parse_region(data: Any, problems: list[str]) -> Region | None:
    """A region from stored data: bad values are dropped (and noted); None when its box is unusable."""
    if not isinstance(data, dict):
        problems.append("an unreadable region")
        return None
    box = _box(data.get("box"))
    text = data.get("text", "")
    text = text if isinstance(text, str) else "" if text is None else str(text)
    if box is None:
        problems.append(f"a region with an invalid box{f' ({text[:40]!r})' if text else ''}")
        return None
    conf = data.get("confidence")
    confidence = _confidence(conf)
    if conf is not None and confidence is None:
        problems.append(f"an invalid confidence ({str(conf)[:20]!r})")
    words = []
    raw_words = data.get("words", [])
    for w in raw_words if isinstance(raw_words, list) else []:
        wconf = _confidence(w.get("confidence")) if isinstance(w, dict) else None
        if wconf is None or not isinstance(w.get("text"), str):
            problems.append("an invalid word confidence")
            continue
        words.append(RegionWord(w["text"], wconf, _box(w.get("box"))))
    kind = data.get("kind")
    return Region(box=box, text=text, confidence=confidence, words=words,
                  kind=kind if kind in ("line", "word") else "line", edited=data.get("edited") is True)


def parse_page(doc: Any, gray: Any, key: str, number: int, problems: list[str]) -> Page:
    """A page from its stored document and image; regions that cannot be used are skipped and noted."""
    from model.imageio import ImageError

    doc = doc if isinstance(doc, dict) else {}
    name = doc.get("name")
    name = name if isinstance(name, str) and name else f"recovered image {number}"
    source = doc.get("source")
    page = Page(name=name, gray=gray, source=source if isinstance(source, str) else "", stored_as=key)
    raw = doc.get("regions", [])
    if not isinstance(raw, list):
        problems.append(f"{name}: the regions were unreadable")
        raw = []
    for data in raw:
        notes: list[str] = []
        region = parse_region(data, notes)
        if region is not None:
            try:
                region.box = page.clip(region.box)
            except ImageError:
                notes.append("a region outside the image")
                region = None
        if region is not None:
            page.regions.append(region)
        problems.extend(f"{name}: {n}" for n in notes)
    return page


def decode_png(data: bytes | None) -> Any:
    """A stored page image as gray pixels, or None when it cannot be decoded."""
    import cv2
    import numpy as np

    if not data:
        return None
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    return gray if gray is not None and gray.size else None


def encode_png(gray: Any) -> bytes:
    """Gray pixels as PNG bytes."""
    import cv2

    ok, buf = cv2.imencode(".png", gray)
    if not ok:
        raise ValueError("the image cannot be encoded as PNG")
    return buf.tobytes()


# --- locks ------------------------------------------------------------------------------------------------
def _try_lock(path: Path) -> int | None:
    """An exclusive lock on ``path`` held through the returned descriptor; None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows only
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


# --- the session --------------------------------------------------------------------------------------------
class Session:
    """This window's session in the store: ``Session.open(folder)``, ``restore()``, ``save()``, ``close()``."""

    def __init__(self, folder: Path, store: Store) -> None:
        self.folder = folder
        self.store = store
        self.id: int | None = None
        self._lock: int | None = None
        self.notes: list[str] = list(store.notes)
        self.notices: list[str] = []

    @classmethod
    def open(cls, folder: Path) -> Session:
        """Open the store, convert a 0.1.0 session, claim a session no other window holds (StoreError if not)."""
        store = Store.open(folder)
        try:
            store.migrate("session", SCHEMA)
            session = cls(folder, store)
            session.notes.extend(_migrate_legacy(store, folder))
            session._claim()
        except (OSError, ValueError, sqlite3.Error) as exc:
            store.close()
            raise StoreError(f"The session cannot be saved in {folder}: {describe(exc)}.") from exc
        return session

    def _claim(self) -> None:
        locks = self.folder / LOCKS
        locks.mkdir(exist_ok=True)
        with self.store.transaction() as con:
            rows = con.execute("SELECT id FROM sessions ORDER BY (SELECT count(*) FROM session_pages "
                               "WHERE session = sessions.id) > 0 DESC, saved DESC, id DESC").fetchall()
            for (sid,) in rows:
                fd = _try_lock(locks / f"session-{sid}.lock")
                if fd is not None:
                    self.id, self._lock = int(sid), fd
                    break
            else:
                sid = con.execute("INSERT INTO sessions(created) VALUES (?)", (time.time(),)).lastrowid
                fd = _try_lock(locks / f"session-{sid}.lock")
                if fd is None:
                    raise OSError(f"the lock file for session {sid} is held by another process")
                self.id, self._lock = int(sid or 0), fd
                if rows:
                    self.notices.append("Another htr-desktop window is using the saved session; this window keeps "
                                      "its own.")

    def restore(self) -> Restored:
        """The claimed session's pages; damaged pages and regions are skipped and reported, never deleted."""
        out = Restored()
        problems: list[str] = []
        try:
            row = self.store.con.execute("SELECT current FROM sessions WHERE id = ?", (self.id,)).fetchone()
            rows = self.store.con.execute("SELECT ord, image, doc FROM session_pages WHERE session = ? "
                                          "ORDER BY ord", (self.id,)).fetchall()
        except (sqlite3.Error, ValueError) as exc:
            row, rows = None, []
            problems.append(f"the saved session could not be read ({describe(exc)})")
        out.current = int(row[0]) if row and isinstance(row[0], int) else 0
        for n, (_ord, key, doc_text) in enumerate(rows, 1):
            try:
                doc = json.loads(doc_text)
            except (TypeError, ValueError):
                doc = None
                problems.append(f"image {n}: its regions and texts were unreadable")
            gray = decode_png(self.store.blob(str(key)))
            if gray is None:
                name = doc.get("name") if isinstance(doc, dict) else None
                problems.append(f"{name or f'image {n}'}: the stored image is missing or damaged")
                continue
            out.pages.append(parse_page(doc, gray, str(key), n, problems))
        if problems:
            try:
                where = f"the saved data as it was is kept in {self.store.backup_aside()}"
            except Exception as exc:  # noqa: BLE001 - the copy is a courtesy; the rows themselves stay until saved
                where = f"a copy of the saved data could not be made ({describe(exc)})"
            out.problems.append(f"Some saved data was damaged and was left out ({_summary(problems)}); {where}.")
        out.problems[:0] = self.notes
        out.notices = list(self.notices)
        return out

    def save(self, pages: list[Page], current: int) -> None:
        """Write every page in one transaction; orphaned images go only once it committed. SaveError if not."""
        if not self.store.writable:
            raise SaveError(f"The session cannot be saved in {self.folder}: the folder is read-only.")
        try:
            docs = [page_doc(p) for p in pages]
            fresh = {p.id: encode_png(p.gray) for p in pages
                     if len(p.stored_as) != 64 or not self.store.has_blob(p.stored_as)}
            keys = []
            with self.store.transaction() as con:
                con.execute("INSERT OR IGNORE INTO sessions(id, created) VALUES (?, ?)", (self.id, time.time()))
                for page in pages:
                    data = fresh.get(page.id)
                    if data is None and not self.store.has_blob(page.stored_as):  # dropped meanwhile: store again
                        data = encode_png(page.gray)
                    keys.append(self.store.put_blob(con, data) if data is not None else page.stored_as)
                con.execute("DELETE FROM session_pages WHERE session = ?", (self.id,))
                con.executemany("INSERT INTO session_pages(session, ord, image, doc) VALUES (?, ?, ?, ?)",
                                [(self.id, i, k, d) for i, (k, d) in enumerate(zip(keys, docs))])
                con.execute("UPDATE sessions SET saved = ?, current = ? WHERE id = ?",
                            (time.time(), int(current), self.id))
                self.store.collect_garbage(con)
        except Exception as exc:
            log.warning("session not saved", exc_info=True)
            raise SaveError(f"The session could not be saved in {self.folder}: {describe(exc)}.") from exc
        for page, key in zip(pages, keys):
            page.stored_as = key

    def close(self) -> None:
        """Release the session (an empty one is removed: it holds nothing) and the store."""
        try:
            if self.id is not None and self.store.writable:
                with self.store.transaction() as con:
                    if con.execute("SELECT 1 FROM session_pages WHERE session = ?", (self.id,)).fetchone() is None:
                        con.execute("DELETE FROM sessions WHERE id = ?", (self.id,))
        except Exception:  # noqa: BLE001 - closing never loses anything; an empty row is harmless
            log.warning("session not closed cleanly", exc_info=True)
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock)
            self._lock = None
        self.store.close()


def read_only_restore(folder: Path) -> Restored:
    """The newest saved session from a store that cannot be written (read-only folder); empty when none."""
    store = Store.open_read_only(folder)
    if store is None:
        return Restored()
    try:
        row = store.con.execute("SELECT id FROM sessions ORDER BY saved DESC LIMIT 1").fetchone()
        if row is None:
            return Restored()
        session = Session(folder, store)
        session.id = int(row[0])
        out = session.restore()
        for page in out.pages:
            page.stored_as = ""
        return out
    except Exception:  # noqa: BLE001 - reading is best effort here; the data stays on disk
        log.warning("read-only session not restored", exc_info=True)
        return Restored()
    finally:
        store.close()


def _summary(problems: list[str]) -> str:
    counts: dict[str, int] = {}
    for p in problems:
        counts[p] = counts.get(p, 0) + 1
    parts = [f"{n} × {p}" if n > 1 else p for p, n in counts.items()]
    return "; ".join(parts[:6]) + (f"; and {len(parts) - 6} more" if len(parts) > 6 else "")


# --- 0.1.0 sessions (session.json + page-*.png) ------------------------------------------------------------
def _fold_detected_words(regions: list[Region]) -> list[Region]:
    """Word regions that an older Detect lines made (all of a line's words, in order) become its word boxes.

    Any other word region (drawn by the user, corrected, or not matching) stays a region.
    """
    lines = [r for r in regions if r.kind == "line"]
    folded: set[int] = set()
    for line in lines:
        inside = [r for r in regions if r.kind == "word" and not r.edited and r.id not in folded
                  and line.box[0] <= r.box[0] + r.box[2] / 2 <= line.box[0] + line.box[2]
                  and line.box[1] <= r.box[1] + r.box[3] / 2 <= line.box[1] + line.box[3]]
        if line.edited or not inside or " ".join(r.text for r in inside) != line.text:
            continue
        texts = [w.text for w in line.words]
        if texts != line.text.split(" "):
            continue
        for word, r in zip(line.words, inside):
            word.box = r.box
        folded.update(r.id for r in inside)
    return [r for r in regions if r.id not in folded]


def _migrate_legacy(store: Store, folder: Path) -> list[str]:
    """Convert ``session.json`` (0.1.0) into a session, then move its files to ``0.1.0/``; messages for the user."""
    path = folder / LEGACY_FILE
    if not path.is_file():
        return []
    raw = path.read_bytes()
    marker = f"legacy/{hashlib.sha256(raw).hexdigest()}"
    notes: list[str] = []
    problems: list[str] = []
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        doc = None
        problems.append("the session file was unreadable")
    entries = doc.get("pages") if isinstance(doc, dict) else None
    if doc is not None and not isinstance(entries, list):
        problems.append("the list of images was unreadable")
    rows: list[tuple[bytes, str]] = []
    used: set[str] = set()
    for n, entry in enumerate(entries if isinstance(entries, list) else [], 1):
        image = entry.get("image") if isinstance(entry, dict) else None
        data = _read_legacy_image(folder, image)
        gray = decode_png(data)
        if gray is None or data is None:
            problems.append(f"image {n}: its stored copy is missing or damaged")
            continue
        used.add(str(image))
        page = parse_page(entry, gray, "", n, problems)
        page.regions = _fold_detected_words(page.regions)
        rows.append((data, page_doc(page)))
    for png in sorted(folder.glob("page-*.png")):  # images no readable entry names: keep them as pages
        if png.name not in used and (data := png.read_bytes()) and decode_png(data) is not None:
            rows.append((data, json.dumps({"name": f"recovered {png.name}", "source": "", "regions": []})))
    current = doc.get("current") if isinstance(doc, dict) else 0
    if doc is not None and not isinstance(current, int):
        problems.append("the current image was unreadable")
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM meta WHERE key = ?", (marker,)).fetchone() is None:
            sid = con.execute("INSERT INTO sessions(created, saved, current) VALUES (?, ?, ?)",
                              (time.time(), path.stat().st_mtime, current if isinstance(current, int) else 0)
                              ).lastrowid
            for i, (data, page_text) in enumerate(rows):
                key = store.put_blob(con, data)
                con.execute("INSERT INTO session_pages(session, ord, image, doc) VALUES (?, ?, ?, ?)",
                            (sid, i, key, page_text))
            con.execute("INSERT INTO meta(key, value) VALUES (?, ?)", (marker, str(time.time())))
    backup = folder / LEGACY_BACKUP
    try:
        backup.mkdir(exist_ok=True)
        for old in [path, *folder.glob("page-*.png"), *folder.glob("session.json.tmp")]:
            target = backup / old.name
            if target.exists():
                target = backup / f"{old.stem}-{int(time.time())}{old.suffix}"
            os.replace(old, target)
    except OSError as exc:
        log.warning("0.1.0 session files not moved to %s: %s", backup, exc)
        backup = folder
    if problems:
        notes.append(f"The session saved by version 0.1.0 was partly damaged; everything readable was restored "
                     f"({_summary(problems)}). The original is kept in {backup}.")
    return notes


def _read_legacy_image(folder: Path, name: Any) -> bytes | None:
    if not isinstance(name, str) or not name or Path(name).name != name:
        return None
    try:
        return (folder / name).read_bytes()
    except OSError:
        return None
