"""Detect lines: one region and one results row per line, words (with boxes and confidences) inside the line."""

from __future__ import annotations

import json

from PySide6.QtCore import QRectF

from htr_desktop.reading import region_from_line
from htr_desktop.regions import Region
from model.page import LineBox, line_result, word_boxes
from model.recognizer import Prediction, Word
from tests.gui.conftest import wait_recognized


def _inside(word_box, line_box):
    x, y, w, h = word_box
    lx, ly, lw, lh = line_box
    return lx <= x + w / 2 <= lx + lw and ly <= y + h / 2 <= ly + lh


def test_word_boxes_one_per_recognized_word():
    boxes = [(10, 82, 120, 36), (140, 82, 60, 36), (210, 82, 90, 36)]
    # three words, three boxes: one each
    assert word_boxes(["a", "b", "c"], boxes, (0, 0, 400, 40)) == boxes
    # two words in one box: the box is split by their lengths; a box no word got joins its neighbour
    out = word_boxes(["thank", "you", "so", "much"], [(0, 0, 80, 30), (100, 0, 100, 30)], (0, 0, 200, 30))
    assert len(out) == 4 and all(b[2] > 0 for b in out)
    assert [b[0] for b in out] == sorted(b[0] for b in out)
    assert word_boxes(["one"], [(0, 0, 40, 30), (50, 0, 40, 30)], (0, 0, 90, 30)) == [(0, 0, 90, 30)]
    assert word_boxes(["a", "b"], [], (0, 0, 100, 30)) == [(0, 0, 50, 30), (50, 0, 50, 30)]


def test_line_result_keeps_the_recognizers_word_confidences():
    pred = Prediction("dear anna", 0.8, (Word("dear", 0.9), Word("anna", 0.7)))
    line = line_result(LineBox((10, 10, 200, 40), ((10, 12, 80, 36), (100, 12, 100, 36))), pred)
    region = region_from_line(line)
    assert (region.kind, region.box, region.text, region.confidence) == ("line", (10, 10, 200, 40), "dear anna", 0.8)
    assert [(w.text, w.confidence, w.box) for w in region.words] == [
        ("dear", 0.9, (10, 12, 80, 36)), ("anna", 0.7, (100, 12, 100, 36))]


def test_word_boxes_survive_json_round_trip():
    line = line_result(LineBox((0, 0, 100, 30), ((2, 1, 40, 28),)), Prediction("a", 0.6, (Word("a", 0.6),)))
    data = json.loads(json.dumps(region_from_line(line).to_json()))
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
