"""Bad input: a clear, non-modal message and nothing else changes."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from htr_desktop import imaging
from htr_desktop.app import model_loader
from model.bundle import ModelError
from tests.conftest import render_text
from tests.gui.conftest import wait_recognized


@pytest.fixture
def opened(qtbot, window, line_file):
    window.open_paths([str(line_file)])
    wait_recognized(qtbot, window)
    return window, [(r.id, r.text) for r in window.workspace.current.regions]


def _unchanged(window, before):
    assert len(window.workspace.pages) == 1
    assert [(r.id, r.text) for r in window.workspace.current.regions] == before
    assert window.messages.isVisibleTo(window)
    assert window.messages.level in ("warning", "error")


def _png_header_only(path, width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.mark.parametrize("kind", ["corrupt", "text", "empty", "missing", "bomb"])
def test_bad_files(qtbot, opened, tmp_path, kind):
    window, before = opened
    path = tmp_path / f"bad-{kind}.png"
    if kind == "corrupt":
        data = cv2.imencode(".jpg", render_text("cut"))[1].tobytes()
        path = tmp_path / "bad.jpg"
        path.write_bytes(data[:40])
    elif kind == "text":
        path = tmp_path / "notes.txt"
        path.write_text("hello")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "bomb":
        _png_header_only(path, 60000, 60000)
    window.open_paths([str(path)])
    _unchanged(window, before)
    assert path.name in window.messages.text()
    assert window.statusBar().currentMessage() == window.messages.text()


def test_one_bad_file_among_good_ones(qtbot, window, line_file, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nonsense")
    window.open_paths([str(bad), str(line_file)])
    assert [p.name for p in window.workspace.pages] == ["note.png"]
    assert "bad.png" in window.messages.text()


def test_empty_selection(qtbot, opened):
    window, before = opened
    window.view.region_drawn.emit(window.view.mapToScene(0, 0).boundingRect() if False else
                                  __import__("PySide6.QtCore", fromlist=["QRectF"]).QRectF(10, 10, 0, 0))
    _unchanged(window, before)
    assert "too small" in window.messages.text()
    window.workspace.add_region((5000, 5000, 50, 50))  # entirely outside the image
    _unchanged(window, before)


def test_huge_image_is_downscaled_for_display(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(imaging, "MAX_DISPLAY_PIXELS", 10_000)
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), np.tile(render_text("big"), (3, 3)))
    window.open_paths([str(path)])
    page = window.workspace.current
    pixmap = window.view.pixmap_item.pixmap()
    assert pixmap.width() * pixmap.height() <= 10_000
    scene = window.view.scene().sceneRect()
    assert abs(scene.width() - page.size[0]) <= 3 and abs(scene.height() - page.size[1]) <= 3
    region = window.workspace.add_region((10, 10, 200, 60))
    assert region.box == (10, 10, 200, 60)  # regions stay in full-resolution pixels


def test_missing_model_window_still_works(qtbot, make_window, line_file):
    def broken():
        raise ModelError("no model found: /nowhere/model.json is missing")

    window = make_window(loader=broken)
    qtbot.waitUntil(lambda: window.model_label.text() == "No model", timeout=10000)
    assert "model.json is missing" in window.messages.text()
    window.open_paths([str(line_file)])
    assert window.workspace.current.name == "note.png"  # images still open
    qtbot.waitUntil(lambda: not window.service.busy)
    assert "no model" in window.messages.text()


def test_missing_model_is_said_once_and_never_called_finished(qtbot, make_window, line_file):
    def broken():
        raise ModelError("model folder not found: /nowhere/model")

    window = make_window(loader=broken)
    qtbot.waitUntil(lambda: window.model_label.text() == "No model", timeout=10000)
    window.open_paths([str(line_file)])
    qtbot.waitUntil(lambda: not window.service.busy)
    qtbot.wait(50)
    assert window.messages.text() == ("The model cannot be loaded: model folder not found: /nowhere/model. Images can "
                                      "still be opened and edited; choose a model folder in Settings.")
    assert window.statusBar().currentMessage() != "Recognition finished"


def test_corrupt_model_bundle_from_settings(qtbot, make_window, settings, tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "model.json").write_text("{ not json")
    settings.set("model/path", str(bundle))
    window = make_window(loader=model_loader(settings))
    qtbot.waitUntil(lambda: window.model_label.text() == "No model", timeout=10000)
    assert "model.json cannot be read" in window.messages.text()
    assert window.isVisible()


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("IMG_0001.HEIC", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200),
     "IMG_0001.HEIC: not a readable HEIC image (damaged, truncated or of an unsupported kind)"),
    ("scan.xyz", b"", "scan.xyz: file is empty"),
])
def test_a_file_of_another_suffix_says_why_when_it_knows(qtbot, opened, tmp_path, name, data, reason):
    window, before = opened
    path = tmp_path / name
    path.write_bytes(data)
    window.open_paths([str(path)])
    _unchanged(window, before)
    assert reason in window.messages.text()
