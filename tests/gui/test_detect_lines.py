"""Detect lines: one region and one results row per line, words (with boxes and confidences) inside the line."""

from __future__ import annotations

import json

from PySide6.QtCore import QRectF

from htr_desktop.page_lines import line_regions
from htr_desktop.regions import Region
from model.page import Region as PageRegion
from model.recognizer import Prediction, Word
from tests.gui.conftest import wait_recognized


def _inside(word_box, line_box):
    x, y, w, h = word_box
    lx, ly, lw, lh = line_box
    return lx <= x + w / 2 <= lx + lw and ly <= y + h / 2 <= ly + lh


def test_line_regions_group_words_into_their_line():
    regions = [
        PageRegion((10, 10, 200, 40), "dear anna", 0.8, "line"),
        PageRegion((10, 12, 80, 36), "dear", 0.9, "word"),
        PageRegion((100, 12, 100, 36), "anna", 0.7, "word"),
        PageRegion((10, 80, 300, 40), "thank you so", 0.5, "line"),
        PageRegion((10, 82, 120, 36), "thank you", 0.55, "word"),  # two recognized words, one box
        PageRegion((140, 82, 60, 36), "", 0.0, "word"),  # a box no word was assigned to
        PageRegion((210, 82, 90, 36), "so", 0.4, "word"),
    ]
    preds = [Prediction("dear anna", 0.8, (Word("dear", 0.9), Word("anna", 0.7))),
             Prediction("thank you so", 0.5, (Word("thank", 0.6), Word("you", 0.5), Word("so", 0.4)))]
    first, second = line_regions(regions, preds)
    assert (first.kind, first.box, first.text, first.confidence) == ("line", (10, 10, 200, 40), "dear anna", 0.8)
    assert [(w.text, w.confidence, w.box) for w in first.words] == [
        ("dear", 0.9, (10, 12, 80, 36)), ("anna", 0.7, (100, 12, 100, 36))]
    assert [(w.text, w.box) for w in second.words] == [
        ("thank", (10, 82, 120, 36)), ("you", (10, 82, 120, 36)), ("so", (210, 82, 90, 36))]
    assert [w.confidence for w in second.words] == [0.6, 0.5, 0.4]  # the recognizer's own, not box averages


def test_line_regions_without_predictions_take_the_word_regions():
    regions = [PageRegion((0, 0, 100, 30), "a b", 0.6, "line"), PageRegion((0, 0, 40, 30), "a", 0.9, "word"),
               PageRegion((50, 0, 40, 30), "b", 0.3, "word")]
    (line,) = line_regions(regions, [])
    assert [(w.text, w.confidence, w.box) for w in line.words] == [("a", 0.9, (0, 0, 40, 30)),
                                                                    ("b", 0.3, (50, 0, 40, 30))]


def test_word_boxes_survive_json_round_trip():
    line = line_regions([PageRegion((0, 0, 100, 30), "a", 0.6, "line"), PageRegion((2, 1, 40, 28), "a", 0.6,
                                                                                  "word")],
                        [Prediction("a", 0.6, (Word("a", 0.6),))])[0]
    data = json.loads(json.dumps(line.to_json()))
    assert data["words"] == [{"text": "a", "confidence": 0.6, "box": [2, 1, 40, 28]}]
    assert Region.from_json(data).words[0].box == (2, 1, 40, 28)


def test_detect_lines_gives_one_row_per_line(qtbot, window, page_file, tmp_path):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(page_file)])
    window.actions_["detect"].trigger()
    page = wait_recognized(qtbot, window, count=3)
    assert len(page.regions) == 3  # the three rendered lines, no word regions
    assert all(r.kind == "line" for r in page.regions)
    assert [r.box[1] < s.box[1] for r, s in zip(page.regions, page.regions[1:])] == [True, True]
    assert list(window.results.rows) == [r.id for r in page.regions]
    assert len(window.view.items_by_id) == 3
    for region in page.regions:
        assert [w.text for w in region.words] == region.text.split() == [f"w{region.words[0].text[1:]}", "low"]
        row = window.results.rows[region.id]
        assert row.edit.toPlainText() == region.text
        assert row.edit.low_words() == ["low"]
        assert all(w.box is not None and _inside(w.box, region.box) for w in region.words)
        item = window.view.items_by_id[region.id]
        assert item.word_rects == [QRectF(*w.box) for w in region.words]
    assert page.text == "\n".join(r.text for r in page.regions)
    assert window.export_to(str(tmp_path / "out.json"))
    (jp,) = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["pages"]
    assert [r["kind"] for r in jp["regions"]] == ["line"] * 3
    assert all("box" in w for r in jp["regions"] for w in r["words"])


def test_number_label_sits_left_of_the_box(qtbot, window, page_file):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(page_file)])
    region = window.workspace.add_region((100, 80, 300, 80))
    item = window.view.items_by_id[region.id]
    label = item.label.deviceTransform(window.view.viewportTransform()).mapRect(item.label.boundingRect())
    box = window.view.mapFromScene(item.sceneBoundingRect()).boundingRect()
    assert label.right() <= box.left() + 1


def test_cursor_in_a_word_marks_its_box(qtbot, window, page_file):
    window.settings.set("recognition/auto", False)
    window.open_paths([str(page_file)])
    window.actions_["detect"].trigger()
    page = wait_recognized(qtbot, window, count=3)
    region = page.regions[1]
    edit = window.results.rows[region.id].edit
    item = window.view.items_by_id[region.id]
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    assert item.highlighted  # focusing the row highlights its line
    cursor = edit.textCursor()
    cursor.setPosition(len(region.text) - 1)  # inside "low", the second word
    edit.setTextCursor(cursor)
    assert item.active_word == 1
    cursor.setPosition(1)
    edit.setTextCursor(cursor)
    assert item.active_word == 0
    window.results.rows[page.regions[0].id].edit.setFocus()
    qtbot.waitUntil(lambda: item.active_word == -1)
