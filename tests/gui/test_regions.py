"""Rubber-band regions: draw, recognize at once, move/resize, delete, reorder; results <-> regions linking."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtTest import QTest

from htr_desktop.regions import Region
from tests.gui.conftest import drag, wait_recognized


def _open_without_recognition(window, path):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(path)])
    window.view.actual_size()
    window.view.centerOn(0, 0)
    return window.workspace.current


def test_draw_region_with_mouse_is_recognized(qtbot, window, page_file):
    page = _open_without_recognition(window, page_file)
    assert page.regions == []
    drag(window.view, (30, 70), (330, 170))
    page = wait_recognized(qtbot, window, 1)
    (region,) = page.regions
    x, y, w, h = region.box
    assert abs(x - 30) <= 2 and abs(y - 70) <= 2 and abs(w - 300) <= 3 and abs(h - 100) <= 3
    assert window.fake.seen[-1] == (h, w)  # the crop, not the page, went to the recognizer
    assert region.text == f"w{w} low"
    assert window.view.items_by_id[region.id].rect() == QRectF(*region.box)


def test_many_regions_reorder_delete_and_resize(qtbot, window, page_file):
    page = _open_without_recognition(window, page_file)
    for y in (260, 80, 170):
        window.workspace.add_region((40, y, 300, 80))
    wait_recognized(qtbot, window, 3)
    ids = [r.id for r in page.regions]
    window.workspace.sort_regions()
    assert [r.box[1] for r in page.regions] == [80, 170, 260]
    first = page.regions[0].id
    window.view.items_by_id[first].setSelected(True)
    window.actions_["move_down"].trigger()
    assert page.regions[1].id == first
    assert window.view.items_by_id[first].label.text() == "2"
    # resize: the item reports a new rect; the region is re-recognized
    window.view.region_changed.emit(first, QRectF(40, 170, 200, 80))
    wait_recognized(qtbot, window, 3)
    assert page.region(first).box == (40, 170, 200, 80)
    assert page.region(first).text == "w200 low"
    window.view.items_by_id[first].setSelected(True)
    window.actions_["delete_region"].trigger()
    assert first not in [r.id for r in page.regions]
    assert len(page.regions) == 2 and set(r.id for r in page.regions) < set(ids)
    assert len(window.results.rows) == 2


def test_clicking_result_highlights_region_and_back(qtbot, window, page_file):
    page = _open_without_recognition(window, page_file)
    a = window.workspace.add_region((40, 80, 300, 80))
    b = window.workspace.add_region((40, 170, 300, 80))
    wait_recognized(qtbot, window, 2)
    row = window.results.rows[b.id]
    QTest.mouseClick(row.edit.viewport(), Qt.MouseButton.LeftButton)
    assert window.view.items_by_id[b.id].highlighted
    assert not window.view.items_by_id[a.id].highlighted
    window.view.items_by_id[a.id].setSelected(True)
    assert window.results.current == a.id
    assert "highlight" in window.results.rows[a.id].styleSheet()
    assert page.regions[0] is a


def test_low_confidence_words_are_marked_with_tooltip(qtbot, window, line_file):
    window.open_paths([str(line_file)])
    page = wait_recognized(qtbot, window)
    edit = window.results.rows[page.regions[0].id].edit
    assert edit.low_words() == ["low"]
    cursor = edit.textCursor()
    cursor.setPosition(len(page.regions[0].text) - 1)
    assert cursor.charFormat().toolTip() == "low confidence: 21% (below 60%)"
    assert window.view.items_by_id[page.regions[0].id].state == "done"


def test_editing_a_result_updates_the_region(qtbot, window, line_file):
    window.open_paths([str(line_file)])
    page = wait_recognized(qtbot, window)
    edit = window.results.rows[page.regions[0].id].edit
    edit.setPlainText("hello world")
    assert page.regions[0].text == "hello world"
    assert page.regions[0].edited
    window.actions_["rerecognize"].trigger()  # re-recognition keeps corrected texts
    qtbot.waitUntil(lambda: not window.service.busy)
    assert page.regions[0].text == "hello world"


def test_zoom_fit_and_actual_size(qtbot, window, page_file):
    window.open_paths([str(page_file)])
    window.view.actual_size()
    assert abs(window.view.zoom - 1.0) < 1e-6
    window.view.zoom_by(2.0)
    assert abs(window.view.zoom - 2.0) < 1e-6
    window.actions_["fit"].trigger()
    rect = window.view.mapFromScene(window.view.scene().sceneRect()).boundingRect()
    assert rect.width() <= window.view.viewport().width() + 2
    assert rect.height() <= window.view.viewport().height() + 2
    assert window.view.fit_mode


def test_region_model_reading_order():
    import numpy as np

    from htr_desktop.regions import Page

    page = Page("p", np.zeros((100, 100), np.uint8))
    page.regions = [Region((50, 10, 20, 10)), Region((5, 40, 20, 10)), Region((5, 12, 20, 10))]
    page.sort_reading_order()
    assert [r.box[:2] for r in page.regions] == [(5, 12), (50, 10), (5, 40)]


def test_page_text_joins_words_of_a_line():
    import numpy as np

    from htr_desktop.regions import Page

    page = Page("p", np.zeros((200, 400), np.uint8))
    page.regions = [Region((5, 10, 40, 20), "dear", kind="word"), Region((50, 12, 60, 20), "anna", kind="word"),
                    Region((5, 60, 40, 20), "thank", kind="word"), Region((5, 100, 300, 30), "a line")]
    assert page.text == "dear anna\nthank\na line"


def test_low_confidence_threshold_comes_from_the_model(qtbot, make_window, line_file):
    from types import SimpleNamespace

    from model.decoder_config import DecoderConfig
    from tests.gui.conftest import FAKE_INFO, FakeRecognizer

    rec = FakeRecognizer()
    rec.info = SimpleNamespace(**{**vars(FAKE_INFO), "decoder": DecoderConfig(low_confidence=0.2)})
    window = make_window(recognizer=rec)
    window.open_paths([str(line_file)])
    page = wait_recognized(qtbot, window)
    assert window.results.threshold == 0.2
    assert window.results.rows[page.regions[0].id].edit.low_words() == []  # "low" (21 %) is above 20 %
