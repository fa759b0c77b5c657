"""Word boxes from the network's alignment: each recognized word's box is the ink where the network read it."""

from __future__ import annotations

import numpy as np
import pytest

from model.alignment import aligned_word_boxes
from model.page import crop_line
from model.preprocess import PreparedLine, prepare_line, prepare_line_parts
from model.recognizer import Prediction, Recognizer, Word
from tests.conftest import render_text


def _prepared(ink: np.ndarray, width: int, box=None, scale=(1.0, 1.0)) -> PreparedLine:
    h, w = ink.shape
    return PreparedLine(np.zeros((32, width), np.float32), box or (0, 0, w, h), scale, ink)


def test_each_word_gets_the_ink_between_the_cuts():
    ink = np.zeros((40, 400), bool)
    ink[10:30, 20:120] = True  # word one
    ink[5:38, 200:380] = True  # word two
    # 100 input columns for 400 pixels, 4 columns a frame: word one read at frames 1-7, word two at 12-23
    boxes = aligned_word_boxes([(1, 7), (12, 23)], _prepared(ink, 100), 4)
    assert boxes == [(20, 10, 100, 20), (200, 5, 180, 33)]


def test_boxes_are_in_the_crops_pixels():
    ink = np.zeros((40, 400), bool)
    ink[10:30, 20:120] = True
    prepared = _prepared(ink, 100, box=(50, 7, 450, 47), scale=(2.0, 2.0))  # part of a crop reduced by half
    assert aligned_word_boxes([(0, 24)], prepared, 4) == [(140, 34, 200, 40)]


def test_a_word_without_ink_keeps_its_strip_and_no_words_no_boxes():
    ink = np.zeros((40, 400), bool)
    ink[10:30, 20:120] = True
    boxes = aligned_word_boxes([(1, 7), (15, 20)], _prepared(ink, 100), 4)
    assert boxes == [(20, 10, 100, 20), (184, 0, 216, 40)]  # the second: its empty strip (cut at column 46)
    assert aligned_word_boxes([], _prepared(ink, 100), 4) == []


def test_prepare_line_parts_is_prepare_lines_tensor():
    image = render_text("parts of a line")
    spec = Recognizer.load().info.input_spec
    parts = prepare_line_parts(image, spec)
    assert np.array_equal(parts.tensor, prepare_line(image, spec))
    x0, y0, x1, y1 = parts.box
    assert parts.ink.shape == (y1 - y0, x1 - x0) and parts.ink.any() and parts.scale == (1.0, 1.0)
    blank = prepare_line_parts(np.full((40, 200), 240, np.uint8), spec)
    assert not blank.ink.size and np.array_equal(blank.tensor, prepare_line(np.full((40, 200), 240, np.uint8), spec))


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer.load()


def test_recognized_words_have_boxes_on_the_crop_in_reading_order(recognizer):
    image = render_text("plain words here", height=90)
    (pred,) = recognizer.recognize([image])
    assert pred.words and all(w.box is not None for w in pred.words)
    h, w = image.shape
    for x, y, bw, bh in (word.box for word in pred.words):
        assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h and bw >= 1 and bh >= 1
    starts = [word.box[0] for word in pred.words]
    assert starts == sorted(starts)
    line = crop_line(pred, image, offset=(100, 50))  # the JSON's words: the same boxes, moved onto the page
    assert [wr.text for wr in line.words] == [word.text for word in pred.words]
    assert [wr.box for wr in line.words] == [(x + 100, y + 50, bw, bh) for x, y, bw, bh in (w.box for w in pred.words)]


def test_huge_crop_boxes_are_in_the_original_pixels(recognizer):
    image = render_text("big words", height=90)
    big = np.kron(image, np.ones((22, 22), np.uint8))  # 9.6 megapixels: reduced before preprocessing
    (small_pred,) = recognizer.recognize([image])
    (big_pred,) = recognizer.recognize([big])
    assert len(small_pred.words) == len(big_pred.words) > 0
    for a, b in zip(small_pred.words, big_pred.words):
        assert b.box is not None and a.box is not None
        assert all(abs(vb / 22 - va) <= 3 for va, vb in zip(a.box, b.box))


def test_a_prediction_without_boxes_gets_segmented_word_boxes():
    image = render_text("two words", height=90)
    pred = Prediction("two words", 0.9, (Word("two", 0.9), Word("words", 0.8)))
    line = crop_line(pred, image)
    assert [wr.text for wr in line.words] == ["two", "words"]
    assert line.words[0].box[0] < line.words[1].box[0]
