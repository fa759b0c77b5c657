"""Each results row shows its line's image strip right above the editable text; clicking it selects the box."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.conftest import wait_recognized


def test_rows_show_their_line_strip_above_the_text(qtbot, window, page_file):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(page_file)])
    window.actions_["detect"].trigger()
    page = wait_recognized(qtbot, window, count=3)
    qtbot.waitUntil(lambda: all(row.strip.isVisible() and row.strip.height() > 0
                                for row in window.results.rows.values()))
    for region in page.regions:
        row = window.results.rows[region.id]
        assert (row.strip.image.width(), row.strip.image.height()) == region.box[2:]
        assert row.strip.isVisible()
        assert row.strip.geometry().bottom() < row.edit.geometry().top()  # right above its text
        assert row.strip.height() >= 2 * row.fontMetrics().height()  # readable, not a thumbnail
    second = page.regions[1]
    QTest.mouseClick(window.results.rows[second.id].strip, Qt.MouseButton.LeftButton)
    assert window.view.items_by_id[second.id].highlighted
    assert window.results.rows[second.id].edit.hasFocus()


def test_strip_follows_a_moved_box_and_wraps_long_lines(qtbot, window, page_file):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(page_file)])
    region = window.workspace.add_region((40, 80, 300, 80))
    wait_recognized(qtbot, window, 1)
    window.workspace.move_box(region.id, (40, 80, 200, 60))
    wait_recognized(qtbot, window, 1)
    strip = window.results.rows[region.id].strip
    assert (strip.image.width(), strip.image.height()) == (200, 60)
    assert strip.heightForWidth(2000) <= 2.2 * strip.fontMetrics().height() + 1  # one strip when there is room
    assert strip.heightForWidth(40) >= 2 * 1.5 * strip.fontMetrics().height()  # a narrow panel wraps it


def test_a_wrapped_line_never_ends_in_a_sliver(qtbot):
    from PySide6.QtGui import QImage

    from htr_desktop.line_strip import LineStrip

    strip = LineStrip()
    qtbot.addWidget(strip)
    strip.set_image(QImage(1000, 70, QImage.Format.Format_Grayscale8))
    for width in range(150, 800, 7):
        n, h, scale = strip._layout(width)
        last = 1000 * scale - (n - 1) * width  # the last strip's width on screen
        assert 0 < last <= width + 1e-6, width
        assert n == 1 or last >= width / 4, (width, n, last)  # not a few pixels on a strip of its own
        assert h >= 1.2 * strip.fontMetrics().height() - 1, width  # still readable
