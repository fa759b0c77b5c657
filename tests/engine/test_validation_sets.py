"""The validation sets ``tune-decoder`` tunes on: the held-out-font lines can join IAM and the names."""

from __future__ import annotations

import cv2
import pytest

from model.recognizer import Recognizer
from tests.conftest import render_text
from training import validation
from training.datasets import Sample
from training.tune_decoder import main as tune_main


def test_the_fonts_set_is_read_case_sensitively_when_asked_for(tmp_path, monkeypatch):
    texts = ["hello world", "Letter Garden"]
    samples = []
    for i, text in enumerate(texts):
        path = tmp_path / f"line-{i}.png"
        cv2.imwrite(str(path), render_text(text))
        samples.append(Sample(path, text))
    monkeypatch.setattr(validation, "font_samples", lambda count=200: samples)
    rec = Recognizer.load(decoder="greedy")
    (fonts,) = validation.load_sets(rec, ("fonts",))
    assert fonts.name == "fonts" and fonts.case_sensitive and fonts.truths == texts
    assert len(fonts.outputs) == 2 and all(o is not None and o.ndim == 2 for o in fonts.outputs)
    assert validation.load_sets(rec, ()) == []  # only the sets asked for


def test_the_fonts_cannot_be_tuned_on_and_checked_at_once(capsys):
    with pytest.raises(SystemExit) as exc:
        tune_main(["--sets", "iam,fonts", "--check", "fonts", "--docs", ""])
    assert exc.value.code == 2 and "--check" in capsys.readouterr().err
