"""Autosave and restore: images, regions and corrected texts survive a restart (or a crash after autosave)."""

from __future__ import annotations

import json

from tests.reliability.conftest import stored


def test_session_restored_after_restart(qtbot, make_window, line_file, page_file, tmp_path):
    first = make_window(session_dir=tmp_path / "s")
    first.open_paths([str(line_file), str(page_file)])
    qtbot.waitUntil(lambda: not first.service.busy and all(p.regions for p in first.workspace.pages),
                    timeout=10000)
    first.workspace.set_current(first.workspace.pages[0])
    page = first.workspace.current
    first.results.rows[page.regions[0].id].edit.setPlainText("corrected by hand")

    def saved():
        docs = stored(tmp_path / "s").get(first.autosave.session.id, [{"regions": [{"text": ""}]}])
        assert docs[0]["regions"][0]["text"] == "corrected by hand"
        return docs
    qtbot.waitUntil(lambda: saved() and None, timeout=5000)  # autosave
    assert [d["name"] for d in saved()] == ["note.png", "page.png"]
    # simulate a crash: no close event, the lock goes with the process; a new window restores from the autosave
    first.autosave.close()
    second = make_window(session_dir=tmp_path / "s")
    assert [p.name for p in second.workspace.pages] == ["note.png", "page.png"]
    restored = second.workspace.pages[0]
    assert restored.regions[0].text == "corrected by hand" and restored.regions[0].edited
    assert (restored.gray == page.gray).all()
    assert second.results.rows[restored.regions[0].id].edit.toPlainText() == "corrected by hand"
    assert second.fake.calls == 0  # restored results are not recognized again


def test_corrupt_session_is_set_aside_and_reported(qtbot, make_window, tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "session.json").write_text("{broken")
    window = make_window(session_dir=folder)
    assert window.workspace.pages == []
    assert (folder / "0.1.0" / "session.json").read_text() == "{broken"
    assert "partly damaged" in window.messages.text()


def test_old_session_word_regions_become_word_boxes_of_their_line(qtbot, make_window, tmp_path):
    import cv2
    import numpy as np

    folder = tmp_path / "s"
    folder.mkdir()
    cv2.imwrite(str(folder / "page-old.png"), np.full((200, 400), 240, np.uint8))
    words = [{"text": "dear", "confidence": 0.9}, {"text": "anna", "confidence": 0.4}]
    regions = [
        {"box": [10, 10, 300, 40], "text": "dear anna", "kind": "line", "confidence": 0.7, "words": words},
        {"box": [12, 12, 100, 36], "text": "dear", "kind": "word", "confidence": 0.9},
        {"box": [150, 12, 100, 36], "text": "anna", "kind": "word", "confidence": 0.4},
        {"box": [10, 120, 60, 30], "text": "drawn", "kind": "word", "confidence": 0.8},  # outside every line
    ]
    (folder / "session.json").write_text(json.dumps(
        {"format": 1, "current": 0, "pages": [{"name": "p.png", "image": "page-old.png", "regions": regions}]}))
    (page,) = make_window(session_dir=folder).workspace.pages
    assert [(r.kind, r.text) for r in page.regions] == [("line", "dear anna"), ("word", "drawn")]
    assert [(w.text, w.confidence, w.box) for w in page.regions[0].words] == [
        ("dear", 0.9, (12, 12, 100, 36)), ("anna", 0.4, (150, 12, 100, 36))]
