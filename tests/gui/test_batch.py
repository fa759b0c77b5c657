"""Batch: into a chosen folder, never overwriting without asking, the typed CSV name, per-file progress, Open folder."""

from __future__ import annotations

import csv

import cv2
import pytest

from htr_desktop.batch_dialog import BatchDialog, BatchRunner
from tests.conftest import render_text


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b"):
        cv2.imwrite(str(folder / f"{name}.png"), render_text(f"batch {name}"))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    return folder


def _run(qtbot, window, *args):
    progress = []
    window.service.file_progress.connect(lambda done, total: progress.append((done, total)))
    assert window.start_batch(*args)
    qtbot.waitUntil(lambda: window.batch.running is None, timeout=20000)
    return progress


def test_batch_writes_into_the_chosen_folder_with_progress(qtbot, window, folder, tmp_path):
    out = tmp_path / "out"
    progress = _run(qtbot, window, folder, out, "txt")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]
    assert sorted(p.name for p in folder.iterdir()) == ["a.png", "b.png", "broken.png"]  # nothing next to images
    assert (out / "a.txt").read_text().startswith("w")
    assert progress[0] == (0, 3) and progress[-1] == (3, 3) and len(progress) == 4  # one step per file
    text = window.messages.text()
    assert f"wrote 2 file(s) to {out}" in text and "could not be read" in text
    assert window.messages.button.isVisible() and window.messages.button.text() == "Open folder"


def test_batch_never_overwrites_without_asking(qtbot, window, folder, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("corrected by hand")
    asked = []
    monkeypatch.setattr(BatchRunner, "ask_overwrite", lambda self, clash, d: asked.append(clash) or "skip")
    _run(qtbot, window, folder, out, "txt")
    assert asked == [[out / "a.txt"]]
    assert (out / "a.txt").read_text() == "corrected by hand"  # kept
    assert (out / "b.txt").exists() and "kept 1 existing" in window.messages.text()
    monkeypatch.setattr(BatchRunner, "ask_overwrite", lambda self, clash, d: "cancel")
    assert not window.start_batch(folder, out, "txt")
    assert (out / "a.txt").read_text() == "corrected by hand"
    monkeypatch.setattr(BatchRunner, "ask_overwrite", lambda self, clash, d: "replace")
    _run(qtbot, window, folder, out, "txt")
    assert (out / "a.txt").read_text().startswith("w")


def test_batch_csv_takes_the_typed_name_and_xml_formats(qtbot, window, folder, tmp_path):
    _run(qtbot, window, folder, tmp_path / "csv", "csv", "my table.csv")
    with open(tmp_path / "csv" / "my table.csv", newline="", encoding="utf-8") as fh:
        assert [r["page"] for r in csv.DictReader(fh)] == ["a.png", "b.png"]
    _run(qtbot, window, folder, tmp_path / "xml", "alto")
    assert sorted(p.name for p in (tmp_path / "xml").iterdir()) == ["a.xml", "b.xml"]


def test_batch_dialog_choice(qtbot, settings, tmp_path):
    dialog = BatchDialog(settings)
    qtbot.addWidget(dialog)
    dialog.source.setText(str(tmp_path / "in"))
    dialog.target.setText(str(tmp_path / "out"))
    dialog.fmt.setCurrentIndex(dialog.fmt.findData("csv"))
    assert dialog.csv_name.isEnabled()
    dialog.csv_name.setText("letters")
    assert dialog.choice() == (tmp_path / "in", tmp_path / "out", "csv", "letters.csv")


def test_batch_names_every_file_it_could_not_read(qtbot, window, folder, tmp_path):
    (folder / "empty.png").write_bytes(b"")
    _run(qtbot, window, folder, tmp_path / "out", "txt")
    text = window.messages.text()
    assert "2 image(s) could not be read:" in text
    assert "broken.png: not a readable image" in text and "empty.png: file is empty" in text


def test_batch_on_a_full_disk_says_so_in_plain_words_once(qtbot, window, folder, tmp_path, monkeypatch):
    import os

    def full_disk(*_args, **_kw):
        raise OSError(28, "No space left on device")  # (as a write on a full disk fails: no file name)

    monkeypatch.setattr(os, "replace", full_disk)
    out = tmp_path / "out"
    _run(qtbot, window, folder, out, "txt")
    assert window.messages.text() == (f"Batch stopped: cannot write a.txt: the disk is full. The files written so far "
                                      f"are in {out}")
    assert list(out.iterdir()) == []  # nothing half-written
