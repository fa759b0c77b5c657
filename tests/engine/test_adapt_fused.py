"""Personal adaptation of a model exported with fused LSTM ops (per-gate int8 weights, state reset per run)."""

import shutil
from pathlib import Path

import numpy as np

from model.adapt import AdaptOptions, FeatureReader, LabelledImage, adapt
from model.head import Head
from model.recognizer import Recognizer, bucket_width
from model.tflite_weights import TfliteWeights, op_counts
from tests.conftest import render_text

FUSED = Path(__file__).resolve().parent.parent / "data" / "tiny_model_fused"


def _batch(rec: Recognizer, text: str) -> np.ndarray:
    tensor = rec.prepare(render_text(text))
    batch = np.zeros((1, 32, bucket_width(tensor.shape[1]), 1), np.float32)
    batch[0, :, : tensor.shape[1], 0] = tensor
    return batch


def test_the_fixture_runs_fused_lstm_ops():
    counts = op_counts((FUSED / "crnn_b1.tflite").read_bytes())
    assert counts.get("UNIDIRECTIONAL_SEQUENCE_LSTM") == 4 and "WHILE" not in counts


def test_fused_weights_found_in_keras_layout():
    tw = TfliteWeights((FUSED / "crnn_b1.tflite").read_bytes())
    assert tw.lstm_layers == 2
    assert tw.get("logits/kernel").shape == (32, 80)
    for layer, inputs in ((0, 32), (1, 32)):  # layer 0 reads 2 x 16 height features, layer 1 the 2 x 16 BiLSTM
        for direction in ("forward", "backward"):
            assert tw.get(f"bilstm{layer}/{direction}/kernel").shape == (inputs, 64)
            assert tw.get(f"bilstm{layer}/{direction}/recurrent").shape == (16, 64)
            assert tw.get(f"bilstm{layer}/{direction}/bias").shape == (64,)
            assert len(tw.refs[f"bilstm{layer}/{direction}/kernel"]) == 4  # one tensor a gate


def test_numpy_head_reproduces_the_fused_output_for_one_and_both_layers():
    rec = Recognizer.load(FUSED)
    data = (FUSED / "crnn_b1.tflite").read_bytes()
    tw = TfliteWeights(data)
    batch = _batch(rec, "hello")
    reader = FeatureReader(data)
    expected = rec.logits(batch)[0]
    for first in (1, 0):
        head = Head({k: tw.get(k) for k in tw.refs if k.startswith("logits/") or int(k[6]) >= first},
                    first_layer=first, layers=2 - first)
        logits, _ = head.forward(reader.read(batch, layer=first))
        assert np.abs(logits - expected).max() < 0.05 * np.abs(expected).max()


def test_features_do_not_depend_on_the_previous_run():
    rec = Recognizer.load(FUSED)
    reader = FeatureReader((FUSED / "crnn_b1.tflite").read_bytes())
    batch = _batch(rec, "hello")
    first = reader.read(batch, layer=2)
    reader.read(_batch(rec, "other words"), layer=2)
    assert np.array_equal(reader.read(batch, layer=2), first)


def test_changed_fused_weights_are_written_per_gate(tmp_path):
    data = (FUSED / "crnn_b1.tflite").read_bytes()
    tw = TfliteWeights(data)
    kernel = tw.get("bilstm1/forward/kernel")
    kernel[:, 16:32] *= 3.0  # only the forget gate: its own int8 scale grows, the other gates' stay
    tw.set("bilstm1/forward/kernel", kernel)
    bias = tw.get("logits/bias")
    bias[0] += 100.0  # blank everywhere
    tw.set("logits/bias", bias)
    again = TfliteWeights(tw.to_bytes())
    for gate in range(4):
        part = kernel[:, 16 * gate: 16 * (gate + 1)]
        written = again.get("bilstm1/forward/kernel")[:, 16 * gate: 16 * (gate + 1)]
        assert np.abs(written - part).max() <= np.abs(part).max() / 127 + 1e-6
    bundle = tmp_path / "b"
    shutil.copytree(FUSED, bundle)
    (bundle / "crnn_b1.tflite").write_bytes(again.to_bytes())
    assert Recognizer.load(bundle).recognize([render_text("hello")])[0].text == ""


def test_adapt_installs_a_better_fused_model(tmp_path):
    out = tmp_path / "personal"
    samples = [LabelledImage(render_text("ton"), "ton") for _ in range(15)]
    result = adapt(samples, out, model=FUSED, opts=AdaptOptions(minutes=5, max_epochs=15, patience=4,
                                                                learning_rate=0.03, jittered=0))
    assert result.installed and result.cer_after < result.cer_before
    assert op_counts((out / "crnn_b1.tflite").read_bytes()).get("UNIDIRECTIONAL_SEQUENCE_LSTM") == 4
    assert Recognizer.load(out).recognize([render_text("ton")])[0].text != ""
