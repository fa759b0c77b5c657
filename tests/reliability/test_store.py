"""The session store on its own: atomic saves, salvage of damaged data, images kept while named, two sessions."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3

import numpy as np
import pytest

from htr_desktop import session
from htr_desktop.regions import Region
from htr_desktop.store import DAMAGED_DIR, DB_NAME, Store, StoreError
from tests.reliability.conftest import blob_count, make_page, stored


def roundtrip(folder, pages, current=0):
    s = session.Session.open(folder)
    s.save(pages, current)
    s.close()
    s = session.Session.open(folder)
    try:
        return s.restore()
    finally:
        s.close()


def test_save_and_restore_everything(tmp_path):
    pages = [make_page("a.png", 1), make_page("b.png", 2)]
    out = roundtrip(tmp_path, pages, current=1)
    assert out.problems == [] and out.current == 1
    assert [p.name for p in out.pages] == ["a.png", "b.png"]
    assert all((r.gray == p.gray).all() for r, p in zip(out.pages, pages))
    assert out.pages[0].regions[0].text == "typed 1" and out.pages[0].regions[0].edited


def test_a_bad_value_in_memory_does_not_stop_saving(tmp_path):
    """Data loss 2: ``"confidence": "high"`` made round() raise TypeError and autosave died for the run."""
    page = make_page()
    page.regions[0].confidence = "high"  # type: ignore[assignment]
    page.regions[0].words[0].confidence = float("nan")
    out = roundtrip(tmp_path, [page])
    assert out.pages[0].regions[0].text == "typed 0" and out.pages[0].regions[0].confidence is None


def test_a_file_name_that_is_not_utf8_is_saved_and_restored(tmp_path):
    """Data loss 2: a name from os.fsdecode(b'\\xff...') made writing the session raise UnicodeEncodeError."""
    name = os.fsdecode(b"scan-\xff\xfe.png")
    out = roundtrip(tmp_path, [make_page(name)])
    assert out.pages[0].name == name and out.pages[0].source == f"/tmp/{name}"


def test_random_bytes_instead_of_the_database_are_moved_aside_and_nothing_is_deleted(tmp_path):
    """Data loss 1: a corrupt store is set aside (never deleted) and the user told where it is."""
    garbage = np.random.default_rng(0).bytes(5000)
    (tmp_path / DB_NAME).write_bytes(garbage)
    s = session.Session.open(tmp_path)
    out = s.restore()
    s.save([make_page()], 0)
    s.close()
    kept = list((tmp_path / DAMAGED_DIR).iterdir())
    assert [p.read_bytes() for p in kept] == [garbage]
    assert any(str(kept[0]) in p for p in out.problems)


def test_a_truncated_database_keeps_what_can_be_read(tmp_path):
    pages = [make_page(f"p{i}.png", i) for i in range(6)]
    s = session.Session.open(tmp_path)
    s.save(pages, 0)
    s.close()
    db = tmp_path / DB_NAME
    data = db.read_bytes()
    db.write_bytes(data[: len(data) * 2 // 3])
    s = session.Session.open(tmp_path)
    out = s.restore()
    s.close()
    assert out.problems and "moved to" in out.problems[0]
    assert (tmp_path / DAMAGED_DIR).is_dir()
    assert [p.name for p in out.pages] == [p.name for p in pages[: len(out.pages)]]  # what was read is intact


def test_a_store_that_lost_its_schema_versions_still_opens_and_restores(tmp_path):
    """Salvage can lose the meta rows while the tables come back: the schema steps already there count as done."""
    pages = [make_page("a.png", 1), make_page("b.png", 2)]
    s = session.Session.open(tmp_path)
    s.save(pages, 1)
    s.close()
    with contextlib.closing(sqlite3.connect(tmp_path / DB_NAME)) as con, con:
        con.execute("DELETE FROM meta")
    reopened = session.Session.open(tmp_path)
    try:
        out = reopened.restore()
    finally:
        reopened.close()
    assert [p.name for p in out.pages] == ["a.png", "b.png"] and out.current == 1
    assert [r.text for r in out.pages[0].regions] == ["typed 1"]


def test_migrate_counts_steps_whose_objects_exist_as_done(tmp_path):
    store = Store.open(tmp_path)
    steps = ["CREATE TABLE things(id INTEGER PRIMARY KEY)", "ALTER TABLE things ADD COLUMN name TEXT"]
    store.migrate("things", steps)
    store.con.execute("DELETE FROM meta WHERE key = 'schema/things'")
    store.migrate("things", steps)
    assert store.con.execute("SELECT value FROM meta WHERE key = 'schema/things'").fetchone() == ("2",)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        store.migrate("other", ["ALTER TABLE missing ADD COLUMN x"])  # other errors still stop it
    store.close()


def test_invalid_values_in_the_store_skip_only_the_bad_region_and_keep_a_copy(tmp_path):
    """Window bug: a box with 3 numbers or a string confidence hid every region of the page."""
    page = make_page(regions=[Region(box=(5, 5, 50, 20), text="good", confidence=0.9),
                              Region(box=(60, 5, 50, 20), text="bad box"),
                              Region(box=(5, 30, 50, 20), text="bad conf", confidence=0.3)])
    s = session.Session.open(tmp_path)
    s.save([page], 0)
    s.close()
    con = sqlite3.connect(tmp_path / DB_NAME)
    doc = json.loads(con.execute("SELECT doc FROM session_pages").fetchone()[0])
    doc["regions"][1]["box"] = [1, 2, 3]
    doc["regions"][2]["confidence"] = "high"
    doc["regions"][0]["words"] = [{"text": "good", "confidence": "x"}]
    con.execute("UPDATE session_pages SET doc = ?", (json.dumps(doc),))
    con.execute("UPDATE sessions SET current = 'abc'")
    con.commit()
    con.close()
    s = session.Session.open(tmp_path)
    out = s.restore()
    s.close()
    assert [r.text for r in out.pages[0].regions] == ["good", "bad conf"]
    assert out.pages[0].regions[1].confidence is None and out.current == 0
    assert "invalid box" in out.problems[0] and "'bad box'" in out.problems[0]
    copy = next((tmp_path / DAMAGED_DIR).iterdir())
    assert str(copy) in out.problems[0]
    kept = sqlite3.connect(copy).execute("SELECT doc FROM session_pages").fetchone()[0]
    assert json.loads(kept)["regions"][1]["box"] == [1, 2, 3]  # the original, as it was


def test_images_are_deleted_only_when_no_session_names_them(tmp_path):
    """Data loss 3: one window's save deleted the page images of another window's session."""
    a = session.Session.open(tmp_path)
    b = session.Session.open(tmp_path)
    assert a.id != b.id
    pa, pb = make_page("a.png", 1), make_page("b.png", 2)
    a.save([pa], 0)
    b.save([pb], 0)
    assert blob_count(tmp_path) == 2
    a.save([], 0)  # a closes its page: only its own image goes, after the save
    assert blob_count(tmp_path) == 1
    assert stored(tmp_path)[b.id][0]["name"] == "b.png"
    a.close()
    b.close()
    s = session.Session.open(tmp_path)  # the next start gets the session with pages
    assert [p.name for p in s.restore().pages] == ["b.png"]
    s.close()


def test_a_claimed_session_is_not_taken_by_a_second_window(tmp_path):
    first = session.Session.open(tmp_path)
    first.save([make_page("mine.png")], 0)
    second = session.Session.open(tmp_path)
    restored = second.restore()
    assert restored.pages == [] and restored.problems == []
    assert any("Another htr-desktop window" in n for n in restored.notices)
    second.close()
    first.close()


def test_a_failed_save_changes_nothing(tmp_path, monkeypatch):
    s = session.Session.open(tmp_path)
    s.save([make_page("a.png", 1)], 0)
    before = stored(tmp_path)
    monkeypatch.setattr(session, "page_doc", lambda p: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(session.SaveError, match="could not be saved"):
        s.save([make_page("b.png", 2)], 0)
    assert stored(tmp_path) == before and blob_count(tmp_path) == 1
    s.close()


def test_a_read_only_folder_gives_a_clear_error_and_still_restores(tmp_path, monkeypatch):
    s = session.Session.open(tmp_path)
    s.save([make_page("a.png", 1)], 0)
    s.close()
    os.chmod(tmp_path, 0o555)
    try:
        if os.access(tmp_path, os.W_OK):  # root ignores permissions: make SQLite answer as on a read-only disk
            def refuse(con):
                exc = sqlite3.OperationalError("attempt to write a readonly database")
                exc.sqlite_errorname = "SQLITE_READONLY"
                raise exc
            monkeypatch.setattr(Store, "_prepare", staticmethod(refuse))
        with pytest.raises(StoreError, match="cannot be saved in .*read-only"):
            session.Session.open(tmp_path)
        assert [p.name for p in session.read_only_restore(tmp_path).pages] == ["a.png"]
    finally:
        os.chmod(tmp_path, 0o755)


def test_component_tables_protect_their_blobs(tmp_path):
    """The contract for the corrections store: a column declared REFERENCES blobs(key) keeps its blobs."""
    store = Store.open(tmp_path)
    store.migrate("corrections", ["CREATE TABLE corrections(id INTEGER PRIMARY KEY, "
                                  "crop TEXT NOT NULL REFERENCES blobs(key), text TEXT NOT NULL)"])
    with store.transaction() as con:
        key = store.put_blob(con, b"crop")
        orphan = store.put_blob(con, b"orphan")
        con.execute("INSERT INTO corrections(crop, text) VALUES (?, ?)", (key, "hello"))
        assert store.collect_garbage(con) == 1
    assert store.blob(key) == b"crop" and store.blob(orphan) is None
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as con:
        con.execute("DELETE FROM blobs WHERE key = ?", (key,))
    store.migrate("corrections", ["CREATE TABLE corrections(x)"])  # already at version 1: not run again
    store.close()
