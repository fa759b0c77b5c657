"""Lines written too densely for the network's frames are read again, stretched wider."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from model.decode import greedy_length
from model.decoder_config import DecoderConfig
from model.recognizer import Recognizer
from tests.conftest import render_text


def test_greedy_length_counts_collapsed_non_blank_frames():
    best = [0, 3, 3, 0, 3, 5, 5, 5, 0, 0, 7]  # "a a b c" as CTC frames: a, blank, a, b, c
    logits = np.full((len(best), 9), -5.0, np.float32)
    logits[np.arange(len(best)), best] = 5.0
    assert greedy_length(logits) == 4
    assert greedy_length(np.zeros((0, 9), np.float32)) == 0


def test_stretch_for():
    off = DecoderConfig()
    assert off.stretch_for(10, 10) == 1.0  # off by default (older bundles read as before)
    on = DecoderConfig(dense_below=2.5, dense_target=3.0, dense_max_stretch=1.5)
    assert on.stretch_for(50, 20) == 1.0  # 2.5 frames a character: dense enough
    assert on.stretch_for(44, 20) == pytest.approx(60 / 44)  # stretched to 3 frames a character
    assert on.stretch_for(20, 20) == 1.5  # ... at most 1.5 times wider
    assert on.stretch_for(3, 1) == 1.0  # one character says nothing about density


@pytest.fixture(scope="module")
def dense_line() -> np.ndarray:
    """A line squeezed to a third of its width: about one network frame a character."""
    img = render_text("minimum running")
    return cv2.resize(img, (img.shape[1] // 3, img.shape[0]), interpolation=cv2.INTER_AREA)


def _with(rec: Recognizer, **settings: float) -> Recognizer:
    rec.config = replace(rec.config, **settings)
    return rec


def test_a_dense_line_is_read_again_wider(dense_line):
    plain = _with(Recognizer.load(decoder="greedy"), dense_below=0.0)
    first = plain.outputs([dense_line])[0]
    assert first is not None and first.shape[0] < 2.5 * greedy_length(first)  # dense, as the bundled model reads it
    dense = _with(Recognizer.load(decoder="greedy"), dense_below=2.5, dense_target=3.0, dense_max_stretch=1.5)
    again = dense.outputs([dense_line])[0]
    assert again is not None
    assert again.shape[0] == pytest.approx(first.shape[0] * 1.5, abs=3)  # read at the largest stretch
    prediction = dense.recognize([dense_line])[0]
    h, w = dense_line.shape
    for word in prediction.words:  # the words' boxes are on the crop, not on the stretched input
        x, y, bw, bh = word.box
        assert 0 <= x and x + bw <= w and 0 <= y and y + bh <= h


def test_a_line_of_normal_density_is_read_once(line_image):
    plain = _with(Recognizer.load(decoder="greedy"), dense_below=0.0).outputs([line_image])[0]
    dense = _with(Recognizer.load(decoder="greedy"), dense_below=2.5).outputs([line_image])[0]
    assert plain is not None and plain.shape[0] >= 2.5 * greedy_length(plain)
    assert dense is not None and np.array_equal(plain, dense)


def test_tune_dense_measures_each_setting(dense_line, line_image):
    from training.tune_dense import TIE, DenseSet, tune

    rec = Recognizer.load()
    dense = DenseSet("lines", [dense_line, line_image], ["minimum running", "hello world"], True)
    rows = tune(rec, [dense])
    off = next(r for r in rows if r["dense_below"] == 0.0)
    assert off["read_again"] == {"lines": 0}
    assert all(r["read_again"] == {"lines": 1} for r in rows if r["dense_below"] >= 2.5)  # only the squeezed line
    near = [r for r in rows if r["mean"] <= min(r["mean"] for r in rows) + TIE]
    assert rows[: len(near)] == sorted(near, key=lambda r: (r["read_again"]["lines"], r["mean"]))  # cheapest first
    rest = rows[len(near):]
    assert [r["mean"] for r in rest] == sorted(r["mean"] for r in rest)
    plain = [p.text for p in _with(Recognizer.load(), dense_below=0.0).recognize(dense.images)]
    assert off["cer"]["lines"] == round(dense.cer(plain), 4)  # 'off' is what the recognizer reads without it


def test_a_stretched_line_is_what_the_preprocessing_gives_at_that_stretch(dense_line):
    from model.preprocess import prepare_line_parts

    spec = Recognizer.load().info.input_spec
    wider = replace(spec, x_scale=1.37)
    part = prepare_line_parts(dense_line, spec)
    again = part.stretched(wider)
    assert again.tensor.shape[1] > part.tensor.shape[1]
    assert np.array_equal(again.tensor, prepare_line_parts(dense_line, wider).tensor)
    assert again.box == part.box and np.array_equal(again.ink, part.ink)
