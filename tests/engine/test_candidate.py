"""``python -m training candidate``: a checkpoint exported with the shipped bundle's decoder, its confidences
fitted again, compared with the shipped bundle by the ship rule."""

import json
from pathlib import Path

import cv2
import pytest

from model.bundle import read_info
from model.recognizer import Recognizer
from tests.conftest import rendered_sets
from training import validation
from training.candidate import main
from training.compare import Difference, ship_verdict, verdict_line
from training.metrics import score

pytestmark = pytest.mark.slow  # an export (TensorFlow) and four readings of the sets

BUNDLE = Path(__file__).resolve().parents[2] / "resources" / "model"


@pytest.fixture
def every_set_rendered(tmp_path, monkeypatch):
    """Every validation set made of rendered lines (the real ones are not in the repository)."""
    texts = ["the cat sat on the mat", "a man and his dog", "where are you going now", "minimum running",
             "Letter Garden", "hello world again", "quick brown foxes jump", "seven wild horses"]
    rendered_sets(monkeypatch, tmp_path, texts, tuple(validation.SETS))
    monkeypatch.setattr(validation, "IAM_GT", tmp_path / "line-0.png")  # "present": any existing file
    monkeypatch.setattr(validation, "NAMES_CSV", tmp_path / "line-0.png")
    monkeypatch.setattr(validation, "NAMES_IMAGES", tmp_path)


def test_the_shipped_weights_as_a_candidate_keep_its_decoder_and_are_judged_by_the_rule(tmp_path, every_set_rendered,
                                                                                       capsys):
    out = tmp_path / "candidate"
    assert main([str(BUNDLE / "crnn.keras"), "--out", str(out), "--like", str(BUNDLE), "--rounds", "200"]) == 0
    shipped, candidate = read_info(BUNDLE), read_info(out)
    assert candidate.version == f"{shipped.version}+candidate"
    keep = ("beam_width", "lm", "lm_weight", "words", "words_weight", "dense_below", "dense_guess", "second_width")
    assert all(getattr(candidate.decoder, k) == getattr(shipped.decoder, k) for k in keep)
    assert candidate.decoder.confidence_weights is not None  # fitted again on the (rendered) sets
    assert "read_once" in candidate.figures["word_confidence"]
    report = json.loads((out / "candidate.json").read_text())
    assert [r["name"] for r in report["rows"]] == ["iam", "names", "fonts", "mean"]
    samples = validation.SETS["iam"].samples()
    images = [cv2.imread(str(s.path), cv2.IMREAD_GRAYSCALE) for s in samples]
    for name, bundle in (("cer_a", BUNDLE), ("cer_b", out)):  # each bundle's CER is its own reading's
        preds = [p.text for p in Recognizer.load(bundle).recognize(images)]
        assert report["rows"][0][name] == pytest.approx(score([s.text for s in samples], preds).cer, abs=1e-5)
    rows = [Difference(**r) for r in report["rows"]]
    assert report["reasons"] == ship_verdict(rows) and report["ships"] == (not report["reasons"])
    assert verdict_line(report["reasons"]) in capsys.readouterr().out


def test_an_existing_folder_or_a_missing_checkpoint_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([str(BUNDLE / "crnn.keras"), "--out", str(tmp_path), "--like", str(BUNDLE)])
    assert "exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path / "none.keras"), "--out", str(tmp_path / "new"), "--like", str(BUNDLE)])
    assert "no checkpoint" in capsys.readouterr().err and not (tmp_path / "new").exists()
