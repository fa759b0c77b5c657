"""Drawing a box inside a line (Shift-drag or draw mode) re-reads that part of the line; the edge zone scales."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.conftest import drag, wait_recognized


def _detected(qtbot, window, page_file):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(page_file)])
    window.actions_["detect"].trigger()
    return wait_recognized(qtbot, window, count=3)


def test_plain_drag_inside_a_line_moves_it(qtbot, window, page_file):
    page = _detected(qtbot, window, page_file)
    line = page.regions[0]
    x, y, w, h = line.box
    drag(window.view, (x + w / 2, y + h / 2), (x + w / 2 + 30, y + h / 2))
    wait_recognized(qtbot, window, 3)
    assert len(page.regions) == 3 and abs(page.region(line.id).box[0] - (x + 30)) <= 2


def test_shift_drag_inside_a_line_rereads_that_part_once(qtbot, window, page_file):
    page = _detected(qtbot, window, page_file)
    line = page.regions[0]
    first, second = line.words
    fx, fy, fw, fh = first.box
    text_before, line_before = page.text, line.text
    drag(window.view, (fx - 2, fy - 2), (fx + fw + 2, fy + fh + 2), Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: len(page.regions[0].words) == 3)
    region = page.regions[0]
    assert len(page.regions) == 3  # no new region: the part belongs to its line
    assert region.text == f"w{fw + 4} low low"  # the fake reads 'w<width> low'; it replaced the first word
    assert [w.text for w in region.words] == region.text.split()
    assert region.words[2].box == second.box
    assert page.text.count("low") == text_before.count("low") + 1  # the line's text, not the part's again
    assert window.results.rows[region.id].edit.toPlainText() == region.text
    window.actions_["undo"].trigger()
    assert page.regions[0].text == line_before


def test_draw_mode_draws_over_boxes(qtbot, window, page_file):
    page = _detected(qtbot, window, page_file)
    line = page.regions[1]
    x, y, w, h = line.box
    window.actions_["draw_mode"].setChecked(True)
    drag(window.view, (x + 5, y + 2), (x + w // 3, y + h - 2))
    qtbot.waitUntil(lambda: len(page.regions[1].words) == 3)
    assert page.regions[1].box == line.box  # not moved


def test_edge_zone_follows_zoom_and_box_size(qtbot, window, page_file):
    page = _detected(qtbot, window, page_file)
    item = window.view.items_by_id[page.regions[0].id]
    window.view.set_zoom(1.0)
    near = item.edge_zone()
    window.view.set_zoom(4.0)
    assert item.edge_zone() < near  # fewer image pixels at a higher zoom: the same few screen pixels
    window.view.set_zoom(0.05)
    h = item.rect().height()
    assert item.edge_zone() <= h / 4  # zoomed far out, the middle of the box still moves it
