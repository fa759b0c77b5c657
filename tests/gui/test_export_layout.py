"""Export of the current or all images after edits; an error bar clears after the next success; 800x600 layout."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from tests.gui.conftest import wait_recognized


def test_export_current_and_all_follow_the_edits(qtbot, window, line_file, page_file, tmp_path, monkeypatch):
    window.open_paths([str(line_file), str(page_file)])
    qtbot.waitUntil(lambda: all(p.regions and p.regions[0].confidence is not None for p in window.workspace.pages)
                    and not window.service.busy, timeout=15000)
    page = window.workspace.current
    edit = window.results.rows[page.regions[0].id].edit
    edit.setPlainText("hello brave world")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "one"), "JSON with boxes "
                                                                         "and confidences (*.json)"))
    window.actions_["export"].trigger()
    doc = json.loads((tmp_path / "one.json").read_text(encoding="utf-8"))
    (only,) = doc["pages"]
    region = only["regions"][0]
    assert region["text"] == "hello brave world" and region["edited"] is True
    assert [w["text"] for w in region["words"]] == ["hello", "brave", "world"]  # the words follow the edit
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "all.xml"),
                                                                         "ALTO XML (*.xml)"))
    window.actions_["export_all"].trigger()
    assert sorted(p.name for p in tmp_path.glob("all-p*.xml")) == ["all-p1.xml", "all-p2.xml"]
    assert "<String" in (tmp_path / "all-p1.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes], ids=["no", "yes"])
def test_export_asks_before_replacing_a_file_the_dialog_did_not_ask_about(qtbot, window, line_file, page_file,
                                                                          tmp_path, monkeypatch, answer):
    """The dialog confirms the name typed; the files written may be others: ``one`` -> ``one.txt``, ``all.xml`` ->
    ``all-p1.xml``, ``all-p2.xml``. Those already there are replaced only when the user says so."""
    window.open_paths([str(line_file), str(page_file)])
    qtbot.waitUntil(lambda: all(p.regions and p.regions[0].confidence is not None for p in window.workspace.pages)
                    and not window.service.busy, timeout=15000)
    mine = {tmp_path / "one.txt": "my corrected letter", tmp_path / "all-p2.xml": "<my/>"}
    for path, text in mine.items():
        path.write_text(text, encoding="utf-8")
    asked = []

    def question(_parent, _title, text, *_args):
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "one"), "Text (*.txt)"))
    window.actions_["export"].trigger()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "all.xml"),
                                                                         "ALTO XML (*.xml)"))
    window.actions_["export_all"].trigger()
    assert asked == [f"one.txt already exists in {tmp_path}. Replace it?",
                     f"all-p2.xml already exists in {tmp_path}. Replace it?"]
    replaced = answer == QMessageBox.StandardButton.Yes
    for path, text in mine.items():
        assert (path.read_text(encoding="utf-8") != text) is replaced
    assert (tmp_path / "all-p1.xml").exists() is replaced  # nothing of an export the user declined


def test_export_asks_nothing_when_no_file_is_in_the_way(qtbot, window, line_file, tmp_path, monkeypatch):
    window.open_paths([str(line_file)])
    wait_recognized(qtbot, window)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: pytest.fail("asked"))
    (tmp_path / "two.csv").write_text("old", encoding="utf-8")  # the name typed: the dialog itself asked
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "two.csv"),
                                                                         "CSV table (*.csv)"))
    window.actions_["export"].trigger()
    assert (tmp_path / "two.csv").read_text(encoding="utf-8").startswith("page,")


def test_error_bar_clears_after_the_next_success(qtbot, window, line_file, tmp_path):
    window.open_paths([str(line_file)])
    wait_recognized(qtbot, window)
    assert not window.export_to(str(tmp_path / "missing-folder" / "x.txt"))
    assert window.messages.isVisible() and window.messages.level == "error"
    assert window.export_to(str(tmp_path / "x.txt"))
    assert not window.messages.isVisible()
    assert (tmp_path / "x.txt").read_text(encoding="utf-8").startswith("w")


def test_layout_holds_at_800_by_600(qtbot, window, page_file):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(page_file)])
    window.actions_["detect"].trigger()
    page = wait_recognized(qtbot, window, count=3)
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800 and window.height() == 600)
    assert window.minimumSizeHint().width() <= 800 and window.minimumSizeHint().height() <= 600
    assert window.view.width() >= 300 and window.results.width() >= 250  # both sides keep usable room
    for region in page.regions:
        def row_fits(region=region):
            row = window.results.rows[region.id]
            # rows added to the shown panel become visible at the next event-loop turn (Qt shows them queued)
            assert row.strip.isVisible() and not row.strip.image.isNull()
            assert row.edit.height() >= row.edit.document().size().height()  # text not clipped
            assert row.edit.width() >= 150
            assert row.geometry().right() <= window.results.viewport().width()  # no row sticks out sideways
        qtbot.waitUntil(row_fits)


SCALED = """
import sys, tempfile, pathlib
import cv2
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication
from htr_desktop.main_window import MainWindow
from htr_desktop.settings import Settings
from tests.gui.conftest import FakeRecognizer, render_page

app = QApplication([])
tmp = pathlib.Path(tempfile.mkdtemp())
cv2.imwrite(str(tmp / "page.png"), render_page())
settings = Settings(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
window = MainWindow(settings, FakeRecognizer, tmp / "session")
window.resize(800, 600)
window.show()
window.start([str(tmp / "page.png")])
window.workspace.detect_lines()
import time
end = time.time() + 60
while time.time() < end:
    QCoreApplication.processEvents()
    time.sleep(0.01)
    page = window.workspace.current
    if page and len(page.regions) == 3 and all(r.confidence is not None for r in page.regions) \
            and not window.service.busy:
        break
for _ in range(50):
    QCoreApplication.processEvents()
    time.sleep(0.01)
rows = list(window.results.rows.values())
print(window.devicePixelRatioF(), window.width(), len(rows),
      all(r.geometry().right() <= window.results.viewport().width() for r in rows),
      all(r.edit.height() >= r.edit.document().size().height() for r in rows))
window.close()
"""


def test_layout_holds_at_200_percent():
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2"}
    out = subprocess.run([sys.executable, "-c", SCALED], env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2.0", "800", "3", "True", "True"]
