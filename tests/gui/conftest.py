"""GUI fixtures: a fake recognizer (for tests about the GUI), isolated settings/session, the real window."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QSettings

from htr_desktop.main_window import MainWindow
from htr_desktop.settings import Settings
from model.decoder_config import DecoderConfig
from model.recognizer import Prediction, Word
from tests.conftest import render_text

FAKE_INFO = SimpleNamespace(version="fake-1.0", decoder=DecoderConfig(low_confidence=0.6),
                            trained_on=["IAM lines", "synthetic"],
                            figures={"cer": 0.081, "wer": 0.223, "val_lines": 1200})


class FakeRecognizer:
    """Answers instantly: 'w<width> low', the second word with a low confidence; counts calls."""

    info = FAKE_INFO
    version = FAKE_INFO.version

    def __init__(self) -> None:
        self.calls = 0
        self.seen: list[tuple[int, int]] = []

    def recognize(self, images):
        self.calls += 1
        out = []
        for img in images:
            self.seen.append(img.shape[:2])
            first = f"w{img.shape[1]}"
            out.append(Prediction(f"{first} low", 0.62, (Word(first, 0.97), Word("low", 0.21))))
        return out


@pytest.fixture
def settings(tmp_path):
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    return Settings(store)


@pytest.fixture
def fake():
    return FakeRecognizer()


@pytest.fixture
def make_window(qtbot, settings, tmp_path):
    """make_window(loader=None, session_dir=None) -> a shown, started MainWindow."""
    windows = []

    def make(loader=None, session_dir=None, recognizer=None):
        rec = recognizer or FakeRecognizer()
        window = MainWindow(settings, loader or (lambda: rec), session_dir or tmp_path / "session")
        window.fake = rec
        window.ask_unsaved = lambda: "discard"  # a test that closes with an unsaved session must not block on a dialog
        qtbot.addWidget(window)
        window.show()
        window.start([])
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.service.shutdown()


@pytest.fixture
def window(make_window):
    return make_window()


def wait_recognized(qtbot, window, count=1, timeout=15000):
    """Wait until the current page has >= count regions, all recognized, and the worker is idle."""
    def done():
        page = window.workspace.current
        assert page is not None
        assert len(page.regions) >= count
        assert all(r.confidence is not None for r in page.regions)
        assert not window.service.busy
    qtbot.waitUntil(done, timeout=timeout)
    return window.workspace.current


def drag(view, start_scene, end_scene, modifier=None):
    """Drag with the left button from one scene point to another (optionally holding a modifier)."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtTest import QTest

    modifier = modifier or Qt.KeyboardModifier.NoModifier
    vp = view.viewport()
    a = view.mapFromScene(QPointF(*start_scene))
    b = view.mapFromScene(QPointF(*end_scene))
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, modifier, a)
    for t in (0.3, 0.7, 1.0):
        QTest.mouseMove(vp, QPoint(int(a.x() + (b.x() - a.x()) * t), int(a.y() + (b.y() - a.y()) * t)))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, modifier, b)


@pytest.fixture
def line_file(tmp_path):
    path = tmp_path / "note.png"
    cv2.imwrite(str(path), render_text("hello world"))
    return path


def render_page(lines=("the quick brown fox", "jumps over the lazy", "dog and runs away")) -> np.ndarray:
    """A page of several rendered lines with wide gaps."""
    rows = [render_text(t, height=90) for t in lines]
    width = max(r.shape[1] for r in rows) + 80
    page = np.full((90 * len(rows) + 160, width), 245, np.uint8)
    for i, r in enumerate(rows):
        page[80 + i * 90: 80 + i * 90 + r.shape[0], 40: 40 + r.shape[1]] = r
    return page


@pytest.fixture
def page_file(tmp_path):
    path = tmp_path / "page.png"
    cv2.imwrite(str(path), render_page())
    return path


@pytest.fixture(autouse=True)
def _collect_qt_garbage(qapp):
    """Free Python wrappers of Qt objects while the QApplication still exists, not at interpreter exit."""
    yield
    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool

    QThreadPool.globalInstance().waitForDone(10000)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()
    gc.collect()
