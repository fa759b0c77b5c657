"""The window keeps the user's work: damaged sessions, typing then a crash, two windows, a folder it cannot write."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np

from htr_desktop.regions import Region
from htr_desktop.store import DB_NAME
from tests.reliability.conftest import make_page, stored


def legacy_folder(tmp_path, doc_bytes):
    """A 0.1.0 session folder: session.json (given bytes) and two page PNGs."""
    folder = tmp_path / "s"
    folder.mkdir()
    for i in (1, 2):
        cv2.imwrite(str(folder / f"page-{i:012d}.png"), np.full((50, 120), 40 * i, np.uint8))
    (folder / "session.json").write_bytes(doc_bytes)
    return folder


def legacy_doc(**changes):
    regions = [{"box": [10, 10, 80, 20], "text": "typed by hand", "kind": "line", "edited": True,
                "confidence": 0.8, "words": [{"text": "typed", "confidence": 0.9}]}]
    doc = {"format": 1, "current": 1, "pages": [
        {"name": "one.png", "source": "/x/one.png", "image": "page-000000000001.png", "regions": regions},
        {"name": "two.png", "source": "", "image": "page-000000000002.png", "regions": []}]}
    doc.update(changes)
    return doc


def close(window):
    window.close()
    assert window.autosave.session is None  # released: a new window may claim it


def test_a_010_session_is_converted_and_its_files_kept(qtbot, make_window, tmp_path):
    folder = legacy_folder(tmp_path, json.dumps(legacy_doc()).encode())
    window = make_window(session_dir=folder)
    assert [p.name for p in window.workspace.pages] == ["one.png", "two.png"]
    assert window.workspace.current.name == "two.png"
    assert window.workspace.pages[0].regions[0].text == "typed by hand"
    assert sorted(p.name for p in (folder / "0.1.0").iterdir()) == [
        "page-000000000001.png", "page-000000000002.png", "session.json"]
    close(window)
    again = make_window(session_dir=folder)  # converted once, not twice
    assert [p.name for p in again.workspace.pages] == ["one.png", "two.png"]


def test_random_bytes_in_a_010_session_lose_no_image(qtbot, make_window, tmp_path):
    """Data loss 1: the old code ignored the file and deleted the page images at the next save."""
    garbage = np.random.default_rng(1).bytes(300)
    folder = legacy_folder(tmp_path, garbage)
    window = make_window(session_dir=folder)
    assert len(window.workspace.pages) == 2  # both images kept, as recovered pages
    assert window.save_session()
    assert (folder / "0.1.0" / "session.json").read_bytes() == garbage
    assert "kept in" in window.messages.text() and str(folder / "0.1.0") in window.messages.text()
    assert not window.messages.isHidden()


def test_a_truncated_010_session_loses_no_image(qtbot, make_window, tmp_path):
    folder = legacy_folder(tmp_path, json.dumps(legacy_doc()).encode()[:150])
    window = make_window(session_dir=folder)
    assert len(window.workspace.pages) == 2
    assert window.save_session()
    assert len(next(iter(stored(folder).values()))) == 2


def test_single_bad_values_in_a_010_session_lose_only_that_value(qtbot, make_window, tmp_path):
    """Data loss 1: one word confidence "x" or "current": "abc" made the old code drop the whole session."""
    doc = legacy_doc(current="abc")
    doc["pages"][0]["regions"][0]["words"][0]["confidence"] = "x"
    window = make_window(session_dir=legacy_folder(tmp_path, json.dumps(doc).encode()))
    assert [p.name for p in window.workspace.pages] == ["one.png", "two.png"]
    region = window.workspace.pages[0].regions[0]
    assert region.text == "typed by hand" and region.words == []
    assert "invalid word confidence" in window.messages.text()


def test_a_bad_region_in_the_store_hides_only_itself(qtbot, make_window, tmp_path):
    """Window bug: a stored box with 3 numbers hid every region of the page and left the toolbar disabled."""
    import sqlite3

    first = make_window(session_dir=tmp_path / "s")
    first.workspace.add_pages([make_page(regions=[Region((5, 5, 60, 20), "kept"), Region((80, 5, 60, 20), "bad")])],
                              recognize=False)
    assert first.save_session()
    close(first)
    con = sqlite3.connect(tmp_path / "s" / DB_NAME)
    doc = json.loads(con.execute("SELECT doc FROM session_pages").fetchone()[0])
    doc["regions"][1]["box"] = [1, 2, 3, 4, 5]
    con.execute("UPDATE session_pages SET doc = ?", (json.dumps(doc),))
    con.commit()
    con.close()
    window = make_window(session_dir=tmp_path / "s")
    assert [r.text for r in window.workspace.current.regions] == ["kept"]
    assert window.actions_["detect"].isEnabled() and "'bad'" in window.messages.text()


def test_a_word_box_drawn_inside_a_line_survives_a_restart(qtbot, make_window, tmp_path):
    """Data loss 4: fold_word_regions turned a word region inside a recognized line into nothing at restore."""
    first = make_window(session_dir=tmp_path / "s")
    page = make_page(regions=[Region((5, 5, 190, 40), "a whole line", 0.8, kind="line"),
                              Region((150, 50, 40, 8), "word", 0.7, kind="word")])
    page.regions.append(Region((20, 10, 40, 30), "drawn", 0.9, kind="word"))  # a word region inside the line
    first.workspace.add_pages([page], recognize=False)
    line = first.workspace.add_region((100, 10, 40, 30))  # drawn inside: re-reads that part of the line
    qtbot.waitUntil(lambda: "low" in line.text and not first.service.busy, timeout=10000)  # the fake's answer
    words = [(w.text, w.box) for w in line.words]
    close(first)
    second = make_window(session_dir=tmp_path / "s")
    regions = second.workspace.current.regions
    assert [(r.kind, r.box, r.text) for r in regions] == [(r.kind, r.box, r.text) for r in page.regions]
    assert [(w.text, w.box) for w in regions[0].words] == words


def test_typing_without_a_pause_is_saved_within_two_seconds(qtbot, make_window, tmp_path):
    """Data loss 6: autosave waited for a 1 s pause, so 4.5 s of continuous typing then a crash lost it all."""
    window = make_window(session_dir=tmp_path / "s")
    window.workspace.add_pages([make_page()], recognize=False)
    region = window.workspace.current.regions[0]
    edit = window.results.rows[region.id].edit
    assert window.save_session()
    start = time.monotonic()
    typed_at = {}
    while time.monotonic() - start < 4.5:
        edit.insertPlainText("x")
        typed_at[len(edit.toPlainText())] = time.monotonic()
        qtbot.wait(80)
        text = stored(tmp_path / "s")[window.autosave.session.id][0]["regions"][0]["text"]
        old_enough = [n for n, t in typed_at.items() if time.monotonic() - t > 2.0]
        if old_enough:
            assert len(text) >= max(old_enough)  # everything typed more than 2 s ago is saved
    assert len(text) > len("typed 0") + 10


def test_two_windows_keep_their_own_work(qtbot, make_window, tmp_path):
    """Data loss 3: two instances overwrote each other's session and deleted each other's page images."""
    a = make_window(session_dir=tmp_path / "s")
    b = make_window(session_dir=tmp_path / "s")
    a.workspace.add_pages([make_page("a.png", 1)], recognize=False)
    b.workspace.add_pages([make_page("b.png", 2)], recognize=False)
    a.results.rows[a.workspace.current.regions[0].id].edit.setPlainText("typed in a")
    b.results.rows[b.workspace.current.regions[0].id].edit.setPlainText("typed in b")
    assert a.save_session() and b.save_session() and a.save_session()
    assert "using the saved session" in b.messages.text()
    close(a)
    close(b)
    c, d = make_window(session_dir=tmp_path / "s"), make_window(session_dir=tmp_path / "s")
    texts = sorted(w.workspace.pages[0].regions[0].text for w in (c, d))
    assert texts == ["typed in a", "typed in b"]


def test_a_folder_that_cannot_be_written_shows_a_lasting_message_and_a_way_out(qtbot, make_window, tmp_path):
    """Data loss 5: with a read-only data folder every save failed with a log line and all work went at quit."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    window = make_window(session_dir=blocker / "session")
    window.workspace.add_pages([make_page("work.png")], recognize=False)
    assert not window.save_session()
    assert "cannot be saved" in window.save_banner.text()
    qtbot.wait(300)
    assert window.save_banner.text()  # it stays
    asked = []
    window.ask_unsaved = lambda: asked.append(1) or "cancel"
    window.close()
    assert asked and window.isVisible()  # closing was refused: the work is still there
    assert window.move_session(tmp_path / "elsewhere")
    assert window.save_banner.text() == ""
    assert window.settings.get("session/folder") == str(tmp_path / "elsewhere")
    assert [d["name"] for d in next(iter(stored(tmp_path / "elsewhere").values()))] == ["work.png"]
