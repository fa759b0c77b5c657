"""``python -m training validate``: a checkpoint's greedy validation figures, as a run reports its epochs."""

import json
from pathlib import Path

import pytest

from model.charset import Charset
from model.preprocess import InputSpec, prepare_line
from tests.conftest import render_text
from training import validate_checkpoints
from training.data_sources import ValidationTensors
from training.metrics import score
from training.train import predict_texts

pytestmark = pytest.mark.slow  # loads Keras

KERAS = Path(__file__).resolve().parents[2] / "resources" / "model" / "crnn.keras"


def test_each_checkpoint_gets_the_figures_a_run_would_log(monkeypatch, capsys):
    import keras

    texts = ["the cat sat on the mat", "hello world again", "seven wild horses"]
    spec = InputSpec(height=32)
    items = [(prepare_line(render_text(t), spec), t) for t in texts]
    monkeypatch.setattr(validate_checkpoints, "validation_tensors",
                        lambda cfg, charset, spec: [ValidationTensors("fonts", items)])
    assert validate_checkpoints.main([str(KERAS), str(KERAS)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2 and lines[0] == lines[1]  # the same tensors for every checkpoint
    preds = predict_texts(keras.models.load_model(KERAS, compile=False), [t for t, _ in items], spec, Charset())
    assert lines[0]["val_cer_fonts"] == round(score(texts, preds).cer, 4)  # greedy, as the run scores an epoch
    assert lines[0]["checkpoint"] == str(KERAS) and 0.0 <= lines[0]["val_score"] < 0.3


def test_a_missing_checkpoint_or_no_data_is_a_clear_error(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit):
        validate_checkpoints.main([str(tmp_path / "none.keras")])
    assert "no such checkpoint" in capsys.readouterr().err
    monkeypatch.setattr(validate_checkpoints, "validation_tensors", lambda cfg, charset, spec: [])
    with pytest.raises(SystemExit):
        validate_checkpoints.main([str(KERAS)])
    assert "no validation data" in capsys.readouterr().err
