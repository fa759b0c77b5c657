"""Reading a page: crops handed to the recognizer, text assembly, regions, layout choice."""

from __future__ import annotations

import cv2
import numpy as np

from model.page import choose_layout, read_page
from model.recognizer import Prediction, Word


class CropRecorder:
    """A recognizer that records the crops it gets and answers with their index."""

    def __init__(self) -> None:
        self.crops: list[np.ndarray] = []

    def recognize(self, images):
        self.crops = list(images)
        return [Prediction(f"line {i}", 0.5 + 0.01 * i, (Word("line", 0.5), Word(str(i), 0.6)))
                for i in range(len(images))]


def test_read_page_assembles_lines_in_order(scan_pages):
    page = scan_pages[1]
    rec = CropRecorder()
    result = read_page(page.image, rec)
    lines = result.lines
    assert result.text.split("\n") == [f"line {i}" for i in range(len(lines))]
    assert len(lines) == len(page.boxes)
    assert 0.5 <= result.confidence <= 0.6
    # crops are tight, dark-on-white line images like the training crops
    for crop, line in zip(rec.crops, lines):
        assert crop.dtype == np.uint8 and crop.ndim == 2
        assert crop.shape[0] < 2.5 * line.box[3] + 20
        assert np.median(crop) > 200 and crop.min() < 100
    for i, line in enumerate(lines):
        # every recognized word carries its own confidence and a box inside its line
        assert [(w.text, w.confidence) for w in line.words] == [("line", 0.5), (str(i), 0.6)]
        lx, ly, lw, lh = line.box
        for w in line.words:
            x, y, bw, bh = w.box
            assert bw > 0 and bh > 0 and lx <= x + bw / 2 <= lx + lw and ly <= y + bh / 2 <= ly + lh
        assert line.words[0].box[0] < line.words[1].box[0]


def test_read_blank_page():
    result = read_page(np.full((800, 600), 250, np.uint8), CropRecorder())
    assert result.text == "" and result.lines == ()


def test_choose_layout(scan_pages):
    assert choose_layout(scan_pages[0].image) == "page"
    line = np.full((120, 1200), 245, np.uint8)
    cv2.putText(line, "a line of words here", (20, 80), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.8, 20, 3)
    assert choose_layout(line) == "line"
    word = np.full((110, 300), 245, np.uint8)
    cv2.putText(word, "word", (20, 75), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.8, 20, 3)
    assert choose_layout(word) == "word"
    note = np.full((1400, 1000), 245, np.uint8)
    cv2.putText(note, "a short note", (100, 200), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.5, 20, 3)
    assert choose_layout(note) == "page"


def test_layout_then_read_segments_once(monkeypatch, scan_pages):
    import model.page as page_module

    calls = []
    real = page_module.prepare_page
    monkeypatch.setattr(page_module, "prepare_page", lambda gray: calls.append(1) or real(gray))
    page_module.clear_cache()
    image = scan_pages[3].image.copy()
    assert choose_layout(image) == "page"
    read_page(image, CropRecorder())
    assert len(calls) == 1
    image[0, 0] ^= 1  # any change to the pixels is a different page
    read_page(image, CropRecorder())
    assert len(calls) == 2
