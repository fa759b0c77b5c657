"""Scanning through the GUI code path: SANE's `test` device performs a real scan; missing backends say so."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from htr_desktop.scanning import CameraScanner, SaneScanner, ScannerUnavailable, ScanSettings


def test_scan_from_sane_test_device_through_the_dialog(qtbot, window):
    pytest.importorskip("sane", reason="python-sane is the [scan] extra (CI installs it)")
    window.actions_["scan"].trigger()
    dialog = window.intake.scan_dialog
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.refresh.isEnabled(), timeout=20000)  # device search finished
    dialog.source.setCurrentIndex(0)
    qtbot.waitUntil(lambda: dialog.refresh.isEnabled(), timeout=20000)
    dialog.device.setEditText("test")
    dialog.resolution.setValue(75)
    dialog.color.setChecked(False)
    dialog.scan_button.click()
    qtbot.waitUntil(lambda: window.workspace.current is not None, timeout=30000)
    qtbot.waitUntil(lambda: not window.service.busy, timeout=20000)
    page = window.workspace.current
    assert page.name == "scan 1"
    assert window.fake.calls > 0 or "No writing found" in window.messages.text()  # recognition ran
    h, w = page.gray.shape
    assert w > 100 and h > 100  # SANE test picture at 75 dpi
    assert window.settings.get("scan/device") == "test"
    assert not dialog.isVisible()


def test_sane_scanner_colour_and_gray():
    pytest.importorskip("sane")
    gray = SaneScanner().scan(ScanSettings("test", 50, False))
    colour = SaneScanner().scan(ScanSettings("test", 50, True))
    assert gray.ndim == 2 and colour.ndim == 3 and colour.shape[2] == 3
    assert gray.dtype == colour.dtype


def test_missing_sane_module_says_so(monkeypatch):
    real_import = builtins.__import__

    def no_sane(name, *args, **kwargs):
        if name == "sane":
            raise ImportError("No module named 'sane'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sane)
    with pytest.raises(ScannerUnavailable, match="python-sane"):
        SaneScanner().devices()


def test_missing_camera_is_reported_in_the_dialog(qtbot, window, monkeypatch):
    monkeypatch.setattr(CameraScanner, "devices", lambda self: (_ for _ in ()).throw(
        ScannerUnavailable("No camera found (no /dev/video* device).")))
    window.actions_["scan"].trigger()
    dialog = window.intake.scan_dialog
    dialog.source.setCurrentIndex(1)
    qtbot.waitUntil(lambda: "No camera found" in dialog.status.text(), timeout=10000)
    dialog.device.setEditText("7")
    dialog.scan_button.click()
    qtbot.waitUntil(lambda: "Camera 7" in dialog.status.text() and dialog.scan_button.isEnabled(), timeout=10000)
    assert window.workspace.pages == []


def test_unknown_sane_device_is_reported():
    pytest.importorskip("sane")
    with pytest.raises(ScannerUnavailable, match="cannot be opened"):
        SaneScanner().scan(ScanSettings("nosuchbackend:device", 75))


def test_a_late_device_search_does_not_overwrite_a_newer_answer(qtbot, window, monkeypatch):
    """The race behind the flaky camera test: a slow SANE search answered after the camera's failure."""
    import time

    monkeypatch.setattr(SaneScanner, "devices", lambda self: time.sleep(0.8) or [])
    monkeypatch.setattr(CameraScanner, "devices", lambda self: (_ for _ in ()).throw(
        ScannerUnavailable("No camera found (no /dev/video* device).")))
    window.actions_["scan"].trigger()  # searches SANE (slow)
    dialog = window.intake.scan_dialog
    dialog.source.setCurrentIndex(1)  # searches the camera (fails at once)
    qtbot.waitUntil(lambda: "No camera found" in dialog.status.text(), timeout=10000)
    qtbot.wait(1500)  # the SANE search has finished by now
    assert "No camera found" in dialog.status.text()
    assert dialog.refresh.isEnabled()


def test_sane_is_never_called_from_two_threads_at_once(monkeypatch):
    """SANE backends are not reentrant: overlapping device searches and scans (a dialog's old search still running)
    must queue, not run inside libsane together."""
    import sys
    import threading
    import time
    import types

    inside, most = [0], [0]
    guard = threading.Lock()

    def busy(result):
        def call(*_args):
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.02)
            with guard:
                inside[0] -= 1
            return result
        return call

    device = types.SimpleNamespace(opt={}, arr_scan=busy(np.zeros((120, 150), np.uint8)), close=lambda: None)
    fake = types.SimpleNamespace(init=lambda: None, get_devices=busy([("test:0", "Noname", "frontend-tester")]),
                                 open=busy(device))
    monkeypatch.setitem(sys.modules, "sane", fake)
    monkeypatch.setattr(SaneScanner, "_initialised", False)
    errors = []

    def work(i):
        try:
            for _ in range(3):
                if i % 2:
                    SaneScanner().devices()
                else:
                    assert SaneScanner().scan(ScanSettings("test:0", 75)).shape == (120, 150)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and most[0] == 1
