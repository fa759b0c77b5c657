"""Property-based: stored sessions mutated at random restore without an exception and without losing a page."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from htr_desktop import session
from htr_desktop.store import DAMAGED_DIR, DB_NAME
from tests.reliability.conftest import make_page

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                 max_size=4), max_leaves=8)
FUZZ = settings(max_examples=int(os.environ.get("HTR_FUZZ_EXAMPLES", "40")), deadline=None,
               suppress_health_check=[HealthCheck.too_slow])


def saved_folder(root: Path, pages: int = 3) -> Path:
    folder = root / "s"
    s = session.Session.open(folder)
    s.save([make_page(f"p{i}.png", i) for i in range(pages)], 0)
    s.close()
    return folder


def places(value, path=()):
    """Every (path) inside a JSON document, containers included."""
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from places(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from places(v, (*path, i))


def mutate(doc, path, new, delete):
    if not path:
        return new
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return doc


def restore_and_save(folder: Path) -> session.Restored:
    s = session.Session.open(folder)
    try:
        out = s.restore()
        s.save(out.pages, out.current)
        return out
    finally:
        s.close()


@FUZZ
@given(data=st.data())
def test_mutated_page_documents_keep_every_page(data):
    with tempfile.TemporaryDirectory() as root:
        folder = saved_folder(Path(root))
        con = sqlite3.connect(folder / DB_NAME)
        for ord_, doc_text in con.execute("SELECT ord, doc FROM session_pages").fetchall():
            if not data.draw(st.booleans(), label=f"mutate page {ord_}"):
                continue
            doc = json.loads(doc_text)
            for _ in range(data.draw(st.integers(1, 3), label="mutations")):
                path = data.draw(st.sampled_from(list(places(doc))), label="where")
                delete = bool(path) and data.draw(st.booleans(), label="delete")
                doc = mutate(doc, path, data.draw(JSON, label="value"), delete)
            text = data.draw(st.sampled_from([json.dumps(doc), json.dumps(doc)[:-3], "", "\x00garbage"]),
                             label="as text")
            con.execute("UPDATE session_pages SET doc = ? WHERE ord = ?", (text, ord_))
        con.execute("UPDATE sessions SET current = ?", (data.draw(JSON.map(json.dumps), label="current"),))
        con.commit()
        con.close()
        out = restore_and_save(folder)
        assert len(out.pages) == 3  # the images were intact: every page comes back
        again = restore_and_save(folder)
        assert len(again.pages) == 3 and again.problems == []  # the salvaged session saves cleanly


@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=64)), min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_damaged_database_bytes_never_raise_and_the_original_is_kept(edits, cut):
    with tempfile.TemporaryDirectory() as root:
        folder = saved_folder(Path(root))
        db = folder / DB_NAME
        raw = bytearray(db.read_bytes())
        for where, chunk in edits:
            at = int(where * (len(raw) - 1))
            raw[at: at + len(chunk)] = chunk
        if cut is not None:
            raw = raw[: int(cut * len(raw))]
        db.write_bytes(bytes(raw))
        out = restore_and_save(folder)
        damaged = folder / DAMAGED_DIR
        if damaged.is_dir():
            assert any(p.read_bytes() == bytes(raw) for p in damaged.iterdir() if p.suffix == ".sqlite3") or \
                any(p.suffix == ".sqlite3" for p in damaged.iterdir())
            assert out.problems
        assert len(out.pages) <= 3
        intact = [p for p in out.pages if p.name in {"p0.png", "p1.png", "p2.png"}]
        assert all((p.gray == make_page(p.name, int(p.name[1])).gray).all() for p in intact)
        assert len(restore_and_save(folder).pages) == len(out.pages)  # what was salvaged is saved for good


@FUZZ
@given(data=st.data())
def test_mutated_010_sessions_lose_no_image(data):
    """A 0.1.0 session.json mutated at random: conversion never raises and every page image comes back."""
    import cv2
    import numpy as np

    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "s"
        folder.mkdir()
        for i in (1, 2):
            cv2.imwrite(str(folder / f"page-{i}.png"), np.full((30, 60), 50 * i, np.uint8))
        doc = {"format": 1, "current": 1, "pages": [
            {"name": f"p{i}.png", "source": "", "image": f"page-{i}.png",
             "regions": [{"box": [1, 1, 20, 10], "text": "t", "kind": "line", "edited": True, "confidence": 0.5,
                          "words": [{"text": "t", "confidence": 0.5}]}]} for i in (1, 2)]}
        for _ in range(data.draw(st.integers(1, 4), label="mutations")):
            path = data.draw(st.sampled_from(list(places(doc))), label="where")
            delete = bool(path) and data.draw(st.booleans(), label="delete")
            doc = mutate(doc, path, data.draw(JSON, label="value"), delete)
        text = json.dumps(doc)
        raw = data.draw(st.sampled_from([text, text[: len(text) // 2], text.encode("utf-16").decode("latin-1")]),
                        label="as text")
        (folder / "session.json").write_text(raw, encoding="utf-8", errors="surrogateescape")
        out = restore_and_save(folder)
        shades = sorted(int(p.gray[0, 0]) for p in out.pages)
        assert sorted(set(shades)) == [50, 100]  # both images, whatever happened to the file
        assert (folder / "0.1.0" / "session.json").read_text(encoding="utf-8", errors="surrogateescape") == raw
