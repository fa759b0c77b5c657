"""End to end with the real bundled model: worker thread, lazy load, results equal the engine's own output."""

from __future__ import annotations

from htr_desktop.app import model_loader
from model.recognizer import Recognizer
from tests.gui.conftest import wait_recognized


def test_open_recognize_with_bundled_model(qtbot, make_window, settings, line_file):
    window = make_window(loader=model_loader(settings))
    qtbot.waitUntil(lambda: window.service.info is not None, timeout=30000)  # loaded in the background
    assert window.model_label.text() == f"Model {window.service.info.version}"
    window.open_paths([str(line_file)])
    page = wait_recognized(qtbot, window, timeout=30000)
    (region,) = page.regions
    expected = Recognizer.load().recognize([page.crop(region.box)])[0]
    assert region.text == expected.text
    assert abs(region.confidence - expected.confidence) < 1e-5
    assert [w.text for w in region.words] == [w.text for w in expected.words]
    assert window.results.rows[region.id].edit.toPlainText() == expected.text


def test_detect_lines_with_bundled_model(qtbot, make_window, settings, page_file):
    settings.set("recognition/auto", False)
    window = make_window(loader=model_loader(settings))
    window.open_paths([str(page_file)])
    assert window.workspace.current.regions == []
    window.actions_["detect"].trigger()
    page = wait_recognized(qtbot, window, count=2, timeout=30000)
    centres = [r.box[1] + r.box[3] / 2 for r in page.regions]
    assert centres[0] < 200 < centres[-1]  # reading order: starts on the first line, ends on the last
    assert [r.kind for r in page.regions] == ["line"] * 3  # one region per rendered line, words inside
    assert all(w.box is not None for r in page.regions for w in r.words)
    assert len(window.view.items_by_id) == len(page.regions)
    assert all(0.0 <= r.confidence <= 1.0 for r in page.regions)
