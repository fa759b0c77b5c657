"""Settings defaults and types, the QImage<->numpy bridge (QT_DRIVER, lifetime), worker cancel."""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QImage

from htr_desktop import imaging
from htr_desktop.about_dialog import about_html
from htr_desktop.settings import DEFAULTS, Settings
from htr_desktop.worker import RecognitionService, Task
from tests.gui.conftest import FAKE_INFO


def test_qimage2ndarray_is_told_the_binding():
    import qimage2ndarray

    assert os.environ["QT_DRIVER"] == "PySide6"
    assert qimage2ndarray.dynqt.qt.name() == "PySide6"


def test_byte_view_does_not_keep_qimage_alive_so_bridge_copies():
    import qimage2ndarray

    image = QImage(40, 30, QImage.Format.Format_ARGB32)
    image.fill(QColor(10, 20, 30))
    refs = sys.getrefcount(image)
    view = qimage2ndarray.byte_view(image)
    assert sys.getrefcount(image) == refs  # the view holds no reference: it dangles once the QImage goes
    del view
    gray = imaging.qimage_to_gray(image)
    assert gray.flags.owndata or gray.base is not None and not isinstance(gray.base, memoryview)
    expected = gray.copy()
    del image
    gc.collect()
    junk = [QImage(40, 30, QImage.Format.Format_ARGB32) for _ in range(50)]
    for j in junk:
        j.fill(QColor(255, 255, 255))
    assert (gray == expected).all() and int(gray[0, 0]) == round(0.114 * 30 + 0.587 * 20 + 0.299 * 10)


def test_gray_qimage_round_trip_owns_pixels():
    gray = np.random.default_rng(0).integers(0, 256, (17, 23), dtype=np.uint8)
    image = imaging.gray_to_qimage(gray)
    del gray
    gc.collect()
    back = imaging.qimage_to_gray(image)
    assert back.shape == (17, 23)
    again = imaging.qimage_to_gray(imaging.gray_to_qimage(back))
    assert (again == back).all()


def test_settings_defaults_and_types(tmp_path):
    s = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    for key, value in DEFAULTS.items():
        assert s.get(key) == value
    s.store.setValue("scan/resolution", "not a number")
    s.store.setValue("clipboard/auto_copy", "true")
    assert s.get("scan/resolution") == 150 and s.auto_copy is True
    for i in range(15):
        s.add_recent(f"/f{i}.png")
    s.add_recent("/f3.png")
    assert s.recent_files()[0] == "/f3.png" and len(s.recent_files()) == 10
    reopened = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert reopened.recent_files() == s.recent_files()
    assert reopened.decoder is None
    reopened.set("model/decoder", "beam+lexicon")
    assert reopened.decoder == "beam+lm+words"  # an old setting maps to today's name


def test_about_shows_model_version_and_figures():
    text = about_html(FAKE_INFO)
    assert "fake-1.0" in text and "8.10%" in text and "val_lines" in text
    assert "cannot" in about_html(None, "model cannot be loaded")


def test_cancel_drops_queued_tasks(qtbot, fake):
    import threading

    gate = threading.Event()

    class Slow:
        info = FAKE_INFO

        def recognize(self, images):
            gate.wait(5)
            return fake.recognize(images)

    service = RecognitionService(lambda: Slow())
    results = []
    service.region_done.connect(lambda pid, rid, r: results.append(rid))
    crop = np.full((20, 60), 200, np.uint8)
    for i in range(5):
        service.submit(Task(page_id=1, crops=[(i, crop)]))
    assert service.busy and service.total == 5
    service.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not service.busy, timeout=10000)
    assert len(results) <= 1  # at most the task already running finished
    service.submit(Task(page_id=1, crops=[(9, crop)]))
    qtbot.waitUntil(lambda: 9 in results, timeout=10000)
    service.shutdown()
