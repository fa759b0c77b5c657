"""The "+widths" decoder: every line read as usual and again 1.25x wider than plain; the surer reading is kept."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.recognizer import Prediction, Recognizer, Word, surer
from tests.conftest import render_text, widths_read

TWICE = "beam+lm+words+widths"


def _pred(*confidences: float, text: str = "x") -> Prediction:
    return Prediction(text, 0.5, tuple(Word(f"w{i}", c) for i, c in enumerate(confidences)))


def test_surer_keeps_the_reading_whose_words_are_surer_on_average():
    a, b = _pred(0.9, 0.2, text="a"), _pred(0.6, 0.6, text="b")  # lowest word: a; mean: b
    assert surer(a, b) is b and surer(b, a) is b
    assert surer(_pred(0.5, text="first"), _pred(0.5, text="second")).text == "first"  # a tie keeps the first
    empty = Prediction("", 0.0)
    assert surer(empty, a) is a and surer(a, empty) is a and surer(empty, empty) is empty


def _texts() -> list[np.ndarray]:
    dense = render_text("minimum running")
    dense = cv2.resize(dense, (dense.shape[1] // 3, dense.shape[0]), interpolation=cv2.INTER_AREA)
    return [render_text("hello world"), render_text("letter garden"), render_text("ABC"), dense]


@pytest.fixture(scope="module")
def recognizers() -> tuple[Recognizer, Recognizer]:
    return Recognizer.load(decoder="beam+lm+words"), Recognizer.load(decoder=TWICE)


def _mean(words) -> float:
    return float(np.mean([w.confidence for w in words])) if words else 0.0


def test_each_line_is_read_at_both_widths_and_the_surer_reading_kept(recognizers):
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
        # the same choice as surer(): the wider reading only if its words are surer on average
        expected = wide.text if _mean(wide.words) > _mean(usual.words) else usual.text
        assert pred.text == expected
        assert _mean(pred.words) == pytest.approx(max(_mean(usual.words), _mean(wide.words)))
        kept["wider" if expected != usual.text else "usual"] += 1
        h, w = image.shape
        for word in pred.words:  # boxes on the crop, whichever width was kept
            x, y, bw, bh = word.box
            assert 0 <= x and x + bw <= w and 0 <= y and y + bh <= h
    # (with the bundled model, two of these four lines read surer 1.25x wider: the test sees both choices made)
    assert kept["usual"] and kept["wider"], kept


def test_a_blank_crop_still_reads_empty(recognizers):
    _, twice = recognizers
    (pred,) = twice.recognize([np.full((60, 200), 255, np.uint8)])
    assert pred.text == "" and pred.words == ()
