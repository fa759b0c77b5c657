"""The app's crash-safe store: one SQLite database (WAL) for sessions, page images and corrections.

No Qt and no model: bytes and rows only. Everything a component writes goes through ``transaction()``, so a
save is all or nothing, also when the process is killed or another process writes at the same time.

Shape of the API (what a component such as the corrections store needs)::

    store = Store.open(folder)                 # StoreError if it cannot be opened for writing
    store.migrate("corrections", [DDL_v1, DDL_v2])   # creates/upgrades the component's tables once
    with store.transaction() as con:           # BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any exception)
        key = store.put_blob(con, png_bytes)   # content-addressed (sha256), stored once
        con.execute("INSERT INTO corrections(crop, text) VALUES (?, ?)", (key, text))
        store.collect_garbage(con)             # deletes blobs no table references any more
    store.blob(key) -> bytes | None

A blob is protected for as long as any row of any table names it in a column declared
``REFERENCES blobs(key)`` (foreign keys are enforced, so such a blob cannot be deleted by mistake either).
``store.notes`` lists what went wrong at open (a damaged database moved aside, what was recovered).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

log = logging.getLogger(__name__)
DB_NAME = "htr-desktop.sqlite3"
DAMAGED_DIR = "damaged"
BUSY_TIMEOUT_S = 15.0
BASE_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS blobs(key TEXT PRIMARY KEY, data BLOB NOT NULL, created REAL NOT NULL)",
]
_DAMAGED = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}


class StoreError(Exception):
    """The store cannot be opened or written; the message says why in plain words."""


def describe(exc: BaseException) -> str:
    """A plain-words reason for a store or file error."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or isinstance(
            exc, PermissionError):
        return "the folder cannot be written to (read-only or no permission)"
    if name.startswith("SQLITE_FULL") or getattr(exc, "errno", None) == 28:
        return "the disk is full"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "another htr-desktop window kept the store busy"
    if name.startswith(tuple(_DAMAGED)):
        return "the database file is damaged"
    return str(exc) or type(exc).__name__


def _connect(path: Path | str, uri: bool = False) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, uri=uri)
    con.text_factory = lambda raw: raw.decode("utf-8", "replace")  # a damaged byte must not make a row unreadable
    con.execute("PRAGMA foreign_keys=ON")
    return con


def _is_damaged(exc: BaseException) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    text = str(exc)
    return any(name.startswith(n) for n in _DAMAGED) or any(
        m in text for m in ("malformed", "not a database", "unsupported file format"))


class Store:
    """An open database; use ``Store.open``."""

    def __init__(self, path: Path, con: sqlite3.Connection, notes: list[str], writable: bool = True) -> None:
        self.path = path
        self.con = con
        self.notes = notes
        self.writable = writable

    # --- opening -------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: Path) -> Store:
        """Open (or create) ``folder/htr-desktop.sqlite3``; a damaged file is moved aside and salvaged."""
        path = folder / DB_NAME
        notes: list[str] = []
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:  # switching to WAL does not wait for a busy database (two windows starting at once)
            try:
                return cls._open(folder, path, notes)
            except StoreError as exc:
                busy = getattr(exc.__cause__, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def _open(cls, folder: Path, path: Path, notes: list[str]) -> Store:
        con: sqlite3.Connection | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            con = _connect(path)
            try:
                cls._check(con)
            except sqlite3.DatabaseError as exc:
                con.close()
                if not _is_damaged(exc):
                    raise
                moved = cls._move_aside(path)
                con = _connect(path)
                cls._prepare(con)
                recovered, lost = _salvage(moved, con)
                notes.append(f"The saved data was damaged; the damaged file was moved to {moved}. "
                             f"Recovered {recovered} record(s)" + (f", {lost} could not be read." if lost else "."))
                log.warning("store damaged (%s): moved to %s, recovered %d, lost %d", exc, moved, recovered, lost)
            else:
                cls._prepare(con)
        except (sqlite3.Error, OSError) as exc:
            if con is not None:
                with contextlib.suppress(sqlite3.Error):
                    con.close()
            raise StoreError(f"The session cannot be saved in {folder}: {describe(exc)}.") from exc
        return cls(path, con, notes)

    @classmethod
    def open_read_only(cls, folder: Path) -> Store | None:
        """The database opened for reading only (for a read-only folder); None when there is none or it fails."""
        path = folder / DB_NAME
        if not path.is_file():
            return None
        for query in ("mode=ro", "immutable=1"):
            try:
                con = _connect(f"{path.resolve().as_uri()}?{query}", uri=True)
                cls._check(con)
                return cls(path, con, [], writable=False)
            except (sqlite3.Error, OSError, ValueError) as exc:
                log.warning("store not readable with %s: %s", query, exc)
        return None

    @staticmethod
    def _check(con: sqlite3.Connection) -> None:
        try:
            rows = con.execute("PRAGMA integrity_check").fetchall()
        except UnicodeDecodeError as exc:  # SQLite's message quotes damaged bytes
            raise sqlite3.DatabaseError("database disk image is malformed (unreadable names)") from exc
        if [r[0] for r in rows] != ["ok"]:
            raise sqlite3.DatabaseError("database disk image is malformed: " + "; ".join(str(r[0]) for r in rows[:5]))
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            log.warning("store: %d rows name a missing blob or parent", len(fk))

    @staticmethod
    def _prepare(con: sqlite3.Connection) -> None:
        if con.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
            raise sqlite3.OperationalError("the database cannot use write-ahead logging here")
        con.execute("PRAGMA synchronous=FULL")
        for ddl in BASE_SCHEMA:
            con.execute(ddl)

    @staticmethod
    def _move_aside(path: Path) -> Path:
        """Rename the database (and its -wal/-shm files) into ``damaged/``; nothing is deleted."""
        target_dir = path.parent / DAMAGED_DIR
        target_dir.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = target_dir / f"{path.stem}-{stamp}{path.suffix}"
        n = 1
        while target.exists():
            n += 1
            target = target_dir / f"{path.stem}-{stamp}-{n}{path.suffix}"
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        os.replace(path, target)
        return target

    def backup_aside(self) -> Path:
        """A consistent copy of the database in ``damaged/`` (before partly invalid rows are rewritten)."""
        target_dir = self.path.parent / DAMAGED_DIR
        target_dir.mkdir(exist_ok=True)
        target = target_dir / f"{self.path.stem}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}{self.path.suffix}"
        copy = sqlite3.connect(target)
        try:
            self.con.backup(copy)
        finally:
            copy.close()
        return target

    # --- writing -------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception rolls everything back and propagates."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            yield self.con
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def migrate(self, component: str, steps: Sequence[str]) -> None:
        """Run the schema steps not run yet (version in ``meta``); a step whose objects already exist counts as done."""
        with self.transaction() as con:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (f"schema/{component}",)).fetchone()
            done = int(row[0]) if row else 0
            for ddl in steps[done:]:
                try:
                    con.execute(ddl)
                except sqlite3.OperationalError as exc:  # salvage kept the tables but not the meta rows saying so
                    if not any(m in str(exc) for m in ("already exists", "duplicate column name")):
                        raise
            if len(steps) > done:
                con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                            (f"schema/{component}", str(len(steps))))

    @staticmethod
    def put_blob(con: sqlite3.Connection, data: bytes) -> str:
        """Store ``data`` once (inside a transaction); returns its key (sha256 hex)."""
        key = hashlib.sha256(data).hexdigest()
        con.execute("INSERT OR IGNORE INTO blobs(key, data, created) VALUES (?, ?, ?)", (key, data, time.time()))
        return key

    def has_blob(self, key: str) -> bool:
        """Whether a blob with this key is stored."""
        return self.con.execute("SELECT 1 FROM blobs WHERE key = ?", (key,)).fetchone() is not None

    def blob(self, key: str) -> bytes | None:
        """The blob's bytes, or None."""
        row = self.con.execute("SELECT data FROM blobs WHERE key = ?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    @staticmethod
    def blob_references(con: sqlite3.Connection) -> list[tuple[str, str]]:
        """(table, column) pairs declared ``REFERENCES blobs(key)``."""
        refs = []
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for fk in con.execute(f'PRAGMA foreign_key_list("{table}")').fetchall():
                if fk[2] == "blobs":
                    refs.append((str(table), str(fk[3])))
        return refs

    @classmethod
    def collect_garbage(cls, con: sqlite3.Connection) -> int:
        """Delete the blobs that no row references (call inside the transaction that dropped the last use)."""
        refs = cls.blob_references(con)
        if not refs:
            return 0
        used = " UNION ".join(f'SELECT "{c}" FROM "{t}" WHERE "{c}" IS NOT NULL' for t, c in refs)
        return con.execute(f"DELETE FROM blobs WHERE key NOT IN ({used})").rowcount

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(sqlite3.Error):
            self.con.close()


def _salvage(damaged: Path, con: sqlite3.Connection) -> tuple[int, int]:
    """Copy every readable row of ``damaged`` into ``con``: (rows recovered, rows or tables lost)."""
    try:
        old = _connect(f"{damaged.resolve().as_uri()}?mode=ro", uri=True)
        tables = [(str(n), str(sql)) for n, sql in old.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()]
    except (sqlite3.Error, OSError, ValueError) as exc:
        log.warning("nothing salvageable in %s: %s", damaged, exc)
        return 0, 0
    # parents first: blobs and meta, then tables referencing them, in creation order
    tables.sort(key=lambda t: (t[0] not in ("meta", "blobs"), "REFERENCES" in t[1].upper()))
    recovered = lost = 0
    con.execute("PRAGMA foreign_keys=OFF")  # rows come back in table order; checked again on the next open
    try:
        for name, sql in tables:
            try:
                con.execute(sql.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1))
            except (sqlite3.Error, ValueError):
                lost += 1
                continue
            rows, missing = _readable_rows(old, name)
            lost += missing
            for row in rows:
                try:
                    con.execute(f'INSERT OR IGNORE INTO "{name}" VALUES ({", ".join("?" * len(row))})', row)
                    recovered += 1
                except (sqlite3.Error, ValueError):
                    lost += 1
    finally:
        con.execute("PRAGMA foreign_keys=ON")
        old.close()
    return recovered, lost


def _readable_rows(old: sqlite3.Connection, table: str) -> tuple[list[tuple[object, ...]], int]:
    """The rows of ``table`` that can be read, skipping past damaged pages; (rows, 1 if some were not read)."""
    rows: list[tuple[object, ...]] = []
    last, step, damaged = 0, 1, 0
    for _ in range(64):
        try:
            for row in old.execute(f'SELECT rowid, * FROM "{table}" WHERE rowid > ? ORDER BY rowid', (last,)):
                last = row[0]
                rows.append(tuple(row[1:]))
            break
        except (sqlite3.Error, ValueError):
            damaged = 1
            last, step = min(last + step, 2 ** 63 - 2), step * 4  # skip past the unreadable rows, further each time
    return rows, damaged
