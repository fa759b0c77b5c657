"""The "+widths" decoder: each line read as usual and again 1.25x wider, the two readings merged word by word."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.recognizer import KEEP_ALONE, Prediction, Recognizer, Word, merged, prediction_of
from tests.conftest import render_text, widths_read

TWICE = "beam+lm+words+widths"


def _pred(*words: tuple[str, float]) -> Prediction:
    return Prediction(" ".join(t for t, _ in words), 0.5, tuple(Word(t, c, (f"{t}?",)) for t, c in words))


def test_where_the_readings_agree_the_word_is_kept_with_the_higher_confidence():
    a, b = _pred(("one", 0.4), ("two", 0.9)), _pred(("one", 0.8), ("two", 0.3))
    m = merged(a, b)
    assert m.text == "one two" and [w.confidence for w in m.words] == [0.8, 0.9]
    assert merged(a, a).text == a.text


def test_a_word_read_differently_is_taken_from_the_surer_reading_with_the_other_as_first_alternative():
    a, b = _pred(("the", 0.9), ("cot", 0.3), ("sat", 0.8)), _pred(("the", 0.9), ("cat", 0.7), ("sot", 0.2))
    m = merged(a, b)
    assert m.text == "the cat sat"  # neither reading alone
    assert m.words[1].alternatives == ("cot", "cat?") and m.words[2].alternatives == ("sot", "sat?")
    # a word the readings disagree on is less sure than either said: kept times the other's chance of being wrong
    assert [w.confidence for w in m.words] == pytest.approx([0.9, 0.7 * 0.7, 0.8 * 0.8])
    assert merged(_pred(("x", 0.5)), _pred(("y", 0.5))).text == "x"  # a tie keeps the first


def test_a_stretch_split_differently_comes_from_the_reading_surer_on_average():
    a, b = _pred(("to", 0.9), ("get", 0.4), ("her", 0.4)), _pred(("to", 0.9), ("gather", 0.6))
    assert merged(a, b).text == "to gather" and merged(b, a).text == "to gather"


def test_a_stretch_only_one_reading_has_is_kept_only_when_likely_right():
    base = (("a", 0.9), ("b", 0.9))
    sure, unsure = _pred(*base, ("c", KEEP_ALONE)), _pred(*base, ("c", KEEP_ALONE - 0.01))
    assert merged(_pred(*base), sure).text == "a b c" and merged(sure, _pred(*base)).text == "a b c"
    assert merged(_pred(*base), unsure).text == "a b" and merged(unsure, _pred(*base)).text == "a b"
    empty = Prediction("", 0.0)
    assert merged(empty, empty).text == ""
    assert merged(empty, _pred(("c", 0.4))).text == "" and merged(empty, _pred(("c", 0.6))).text == "c"


def _texts() -> list[np.ndarray]:
    dense = render_text("minimum running")
    dense = cv2.resize(dense, (dense.shape[1] // 3, dense.shape[0]), interpolation=cv2.INTER_AREA)
    return [render_text("hello world"), render_text("letter garden"), render_text("ABC"), dense]


@pytest.fixture(scope="module")
def recognizers() -> tuple[Recognizer, Recognizer]:
    return Recognizer.load(decoder="beam+lm+words"), Recognizer.load(decoder=TWICE)


def test_each_line_is_read_at_both_widths_and_the_readings_merged(recognizers):
    once, twice = recognizers
    assert twice.config.two_widths and twice.config.second_width == 1.25
    widths = widths_read(twice)
    images = _texts()
    preds = twice.recognize(images)
    assert len(widths) >= 2 * len(images)  # every line twice (a dense one may be read a third time)
    kept = {"usual": 0, "wider": 0}
    for image, pred in zip(images, preds):
        usual = once.recognize([image])[0]
        wide_out = once.outputs([image], stretch=1.25)[0]
        assert wide_out is not None
        wide = once.decode(wide_out)
        expected = merged(usual, prediction_of(wide))
        assert pred.text == expected.text
        assert [w.confidence for w in pred.words] == pytest.approx([w.confidence for w in expected.words])
        kept["wider" if expected.text != usual.text else "usual"] += 1
        h, w = image.shape
        for word in pred.words:  # boxes on the crop, whichever width was kept
            x, y, bw, bh = word.box
            assert 0 <= x and x + bw <= w and 0 <= y and y + bh <= h
    # (with the bundled model, two of these four lines read differently once merged: the test sees both cases)
    assert kept["usual"] and kept["wider"], kept


def test_a_blank_crop_still_reads_empty(recognizers):
    _, twice = recognizers
    (pred,) = twice.recognize([np.full((60, 200), 255, np.uint8)])
    assert pred.text == "" and pred.words == ()
