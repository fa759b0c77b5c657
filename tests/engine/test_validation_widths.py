"""The training's validation can read crops as the app does: each padded to its width bucket, its own frames kept."""

import numpy as np
import pytest

from model.charset import Charset
from model.decode import greedy_decode, softmax
from model.preprocess import InputSpec, pad_batch, prepare_line
from model.recognizer import bucket_width
from training.data_sources import ValidationTensors
from training.synth import load_fonts, render

# Keras/TensorFlow in the process: with the slow tests, which run in a pytest process of their own (TensorFlow's
# libraries loaded beside libsane's backends crashed the GUI scan test inside sane.get_devices).
pytestmark = pytest.mark.slow

CS = Charset()
SPEC = InputSpec(height=32)
TEXTS = ["DANIEL", "MARTIN", "the end", "Lombardi, manicure", "Hello there, world", "tripp imbalances 15/9/96:",
         "ADA", "Relentlessly mediate (allowance)"]


@pytest.fixture(scope="module")
def crops():
    import random

    from training.fonts import fetch_fonts

    paths = fetch_fonts(("caveat", "kalam"))
    if not paths:
        pytest.skip("npm could not fetch @fontsource fonts")
    fonts = load_fonts(paths, CS)
    return [prepare_line(render(t, fonts[i % len(fonts)], random.Random(i)), SPEC) for i, t in enumerate(TEXTS)]


@pytest.fixture(scope="module")
def network():
    import keras

    return keras.models.load_model("resources/model/crnn.keras", compile=False)


def _alone(model, tensor):
    """One crop read by itself as the recognizer reads it."""
    width = bucket_width(tensor.shape[1])
    logits = np.asarray(model(pad_batch([tensor], SPEC, width=width), training=False))[0]
    return greedy_decode(softmax(logits[: -(-tensor.shape[1] // 4) + 2]), CS).text


def test_app_widths_read_each_crop_as_if_alone(crops, network):
    from training.train import predict_texts

    assert len({bucket_width(t.shape[1]) for t in crops}) >= 3  # several buckets, several crops in one of them
    batched = predict_texts(network, crops, SPEC, CS, batch_size=3, pad_to=bucket_width)
    assert batched == [_alone(network, t) for t in crops]
    assert sum(b == t for b, t in zip(batched, TEXTS)) >= len(TEXTS) // 2  # the bundled model reads most of them


def test_validation_scores_the_app_reading_when_asked(crops, network):
    from training.train import validate

    sets = [ValidationTensors("a", list(zip(crops[:4], TEXTS[:4]))),
            ValidationTensors("b", list(zip(crops[4:], TEXTS[4:])), ignore_case=True)]
    tight = validate(network, sets, SPEC, CS)
    both = validate(network, sets, SPEC, CS, app_widths=True)
    assert set(tight) == {"val_cer_a", "val_cer_b", "val_score"}
    assert {k: both[k] for k in ("val_cer_a", "val_cer_b")} == {k: tight[k] for k in ("val_cer_a", "val_cer_b")}
    assert both["val_score"] == pytest.approx((both["val_cer_a_app"] + both["val_cer_b_app"]) / 2)


def _padding_curve():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "padding_curve.py"
    spec = importlib.util.spec_from_file_location("padding_curve", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_padding_curve_widths():
    pc = _padding_curve()
    assert [pc.padded_width(200, m) for m in ("exact", "bucket", "+32", "+512")] == [200, 256, 232, 712]
    assert pc.padded_width(201, "exact") == 208 and pc.padded_width(64, "bucket") == 64
    with pytest.raises(ValueError):
        pc.padded_width(200, "wide")


def test_padding_curve_in_buckets_is_the_validations_app_reading(crops, network):
    """scripts/padding_curve.py's bucket reading and the training's app-width validation agree."""
    from training.metrics import score
    from training.train import predict_texts

    items = list(zip(crops, TEXTS))
    got = _padding_curve().curve(network, items, ignore_case=False, modes=("bucket", "+512"))
    app = predict_texts(network, crops, SPEC, CS, pad_to=bucket_width)
    assert got["bucket"] == round(score(TEXTS, app).cer, 4)
    assert 0.0 <= got["+512"] <= 1.0
