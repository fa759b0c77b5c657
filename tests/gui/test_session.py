"""Autosave and restore: images, regions and corrected texts survive a restart (or a crash after autosave)."""

from __future__ import annotations

import json


def test_session_restored_after_restart(qtbot, make_window, line_file, page_file, tmp_path):
    first = make_window(session_dir=tmp_path / "s")
    first.open_paths([str(line_file), str(page_file)])
    qtbot.waitUntil(lambda: not first.service.busy and all(p.regions for p in first.workspace.pages),
                    timeout=10000)
    first.workspace.set_current(first.workspace.pages[0])
    page = first.workspace.current
    first.results.rows[page.regions[0].id].edit.setPlainText("corrected by hand")
    qtbot.waitUntil(lambda: (tmp_path / "s" / "session.json").exists() and "corrected by hand" in
                    (tmp_path / "s" / "session.json").read_text(encoding="utf-8"), timeout=5000)  # autosave
    saved = json.loads((tmp_path / "s" / "session.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in saved["pages"]] == ["note.png", "page.png"]
    # simulate a crash: no close event; a new window restores from the autosave
    second = make_window(session_dir=tmp_path / "s")
    assert [p.name for p in second.workspace.pages] == ["note.png", "page.png"]
    restored = second.workspace.pages[0]
    assert restored.regions[0].text == "corrected by hand" and restored.regions[0].edited
    assert (restored.gray == page.gray).all()
    assert second.results.rows[restored.regions[0].id].edit.toPlainText() == "corrected by hand"
    assert second.fake.calls == 0  # restored results are not recognized again


def test_corrupt_session_is_ignored(qtbot, make_window, tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "session.json").write_text("{broken")
    window = make_window(session_dir=folder)
    assert window.workspace.pages == []
