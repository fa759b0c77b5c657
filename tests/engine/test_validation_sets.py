"""The validation sets ``tune-decoder`` tunes on: the held-out-font lines can join IAM and the names."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from model.recognizer import Recognizer
from tests.conftest import render_text, rendered_sets, widths_read
from training import validation
from training.datasets import Sample
from training.tune_decoder import main as tune_main


def test_the_fonts_set_is_read_case_sensitively_when_asked_for(tmp_path, monkeypatch):
    texts = ["hello world", "Letter Garden"]
    rendered_sets(monkeypatch, tmp_path, texts)
    rec = Recognizer.load(decoder="greedy")
    (fonts,) = validation.load_sets(rec, ("fonts",))
    assert fonts.name == "fonts" and fonts.case_sensitive and fonts.truths == texts
    assert len(fonts.outputs) == 2 and all(o is not None and o.ndim == 2 for o in fonts.outputs)
    assert validation.load_sets(rec, ()) == []  # only the sets asked for


def test_the_fonts_cannot_be_tuned_on_and_checked_at_once(capsys):
    with pytest.raises(SystemExit) as exc:
        tune_main(["--sets", "iam,fonts", "--check", "fonts", "--docs", ""])
    assert exc.value.code == 2 and "--check" in capsys.readouterr().err


def test_a_set_is_read_once_at_the_plain_width_whatever_the_dense_line_setting(tmp_path):
    img = render_text("minimum running")
    dense = cv2.resize(img, (img.shape[1] // 3, img.shape[0]), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(tmp_path / "dense.png"), dense)
    rec = Recognizer.load(decoder="greedy")
    rec.config = replace(rec.config, dense_below=2.5, dense_target=2.5, dense_max_stretch=1.75, dense_guess=0.8,
                         dense_tolerance=0.2)  # as the bundle: this line is guessed dense and read wider
    widths = widths_read(rec)
    guessed = rec.outputs([dense])[0]
    plain = rec.outputs([dense], stretch=1.0)[0]
    assert guessed is not None and plain is not None and guessed.shape[0] > plain.shape[0]
    widths.clear()
    (vset,) = [validation.compute(rec, "iam", [Sample(tmp_path / "dense.png", "minimum running")], True)]
    assert len(widths) == 1  # one reading
    assert vset.outputs[0] is not None and np.array_equal(vset.outputs[0], plain)
