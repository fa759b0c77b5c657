"""Train a tiny model, export it, load it with LiteRT: the whole engine path (slow: ~1 min)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from model.recognizer import Recognizer
from tests.conftest import render_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    from training.config import TrainConfig
    from training.export import export
    from training.fonts import fetch_fonts
    from training.train import train

    fonts = fetch_fonts(("caveat", "kalam"))
    if not fonts:
        pytest.skip("npm could not fetch @fontsource fonts")
    root = tmp_path_factory.mktemp("tiny")
    # only these two fonts, whatever else the machine's font folder holds: the same tiny network on every machine
    (root / "fonts").mkdir()
    for font in fonts:
        (root / "fonts" / font.name).write_bytes(font.read_bytes())
    cfg = TrainConfig.load("training/configs/tiny.toml", run_dir=str(root / "runs"), fonts_dir=str(root / "fonts"))
    checkpoint = train(cfg)
    assert checkpoint.exists()
    out = root / "bundle"
    export(checkpoint, out, "0.0-test", trained_on=["synthetic (test)"], figures={"val_cer": None})
    return out


def test_bundle_describes_itself(tiny_bundle):
    info = json.loads((tiny_bundle / "model.json").read_text())
    assert info["version"] == "0.0-test"
    assert info["input"]["height"] == 32 and info["charset"].startswith(" !")
    for name in info["tflite"].values():
        assert (tiny_bundle / name).stat().st_size > 1000
    assert (tiny_bundle / "crnn.keras").exists()
    decoder = info["decoder"]  # the decoder configuration and its files travel with every export
    assert decoder["name"] == "beam+lm" and decoder["lm_weight"] > 0
    assert (tiny_bundle / decoder["lm"]).stat().st_size > 100_000 and (tiny_bundle / decoder["words"]).exists()


@pytest.mark.parametrize("width", [40, 300, 2000])
def test_litert_matches_keras_across_widths(tiny_bundle, width):
    import keras

    from model.decode import softmax

    rec = Recognizer.load(tiny_bundle)
    model = keras.models.load_model(tiny_bundle / "crnn.keras", compile=False)
    x = (np.random.default_rng(width).random((1, 32, width, 1)) > 0.85).astype(np.float32)
    lite, ref = rec.logits(x), np.asarray(model(x, training=False))
    assert lite.shape == ref.shape == (1, width // 4, rec.info.charset.num_classes)
    assert np.abs(softmax(lite) - softmax(ref)).max() < 0.1  # int8 weights (dynamic-range quantisation)
    # The tiny model has barely learnt (its logits span about 0.2), so its best class is a near tie that int8 weights
    # may tip either way; what must hold is that LiteRT's logits follow Keras's closely across the whole spread.
    assert np.abs(lite - ref).max() < 0.05 * np.ptp(ref)
    assert np.corrcoef(lite.ravel(), ref.ravel())[0, 1] > 0.999


def test_batched_equals_single(tiny_bundle):
    rec = Recognizer.load(tiny_bundle)
    images = [render_text(t) for t in ("a", "word", "a longer line of text here", "x y", "mid size")] * 2
    batched = rec.recognize(images)
    single = [rec.recognize([im])[0] for im in images]
    assert [p.text for p in batched] == [p.text for p in single]
    assert all(0.0 <= p.confidence <= 1.0 for p in batched)


def test_training_and_inference_prepare_the_same_tensor(tiny_bundle, tmp_path):
    import cv2

    from training.datasets import Sample
    from training.pipeline import load_real, prepare_validation

    path = tmp_path / "line.png"
    cv2.imwrite(str(path), render_text("same tensor"))
    rec = Recognizer.load(tiny_bundle)
    real = load_real([Sample(path, "same tensor")], rec.info.charset)
    train_tensor = prepare_validation(real, rec.info.input_spec)[0][0]
    from model.imageio import load_image

    assert np.array_equal(train_tensor, rec.prepare(load_image(path)))


def test_cli_with_other_model(tiny_bundle, tmp_path):
    import cv2

    p = tmp_path / "x.png"
    cv2.imwrite(str(p), render_text("hi"))
    out = subprocess.run([sys.executable, "-m", "htr_desktop", "recognize", "--json", "--model", str(tiny_bundle),
                          "--layout", "line", str(p)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert set(json.loads(out.stdout)) >= {"path", "text", "confidence"}


def test_export_fuses_the_lstms_without_a_cell_clip(tiny_bundle):
    from ai_edge_litert import schema_py_generated as schema

    from model.tflite_weights import op_counts

    data = (tiny_bundle / "crnn_b1.tflite").read_bytes()
    layers = json.loads((tiny_bundle / "model.json").read_text())["network"]["lstm_layers"]
    counts = op_counts(data)
    assert counts.get("UNIDIRECTIONAL_SEQUENCE_LSTM") == 2 * layers and "WHILE" not in counts
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    clips = [op.builtinOptions.cellClip for op in model.subgraphs[0].operators
             if isinstance(op.builtinOptions, schema.UnidirectionalSequenceLSTMOptionsT)]
    assert clips == [0.0] * (2 * layers)  # Keras clips nothing


def test_a_run_does_not_carry_state_into_the_next(tiny_bundle):
    rec = Recognizer.load(tiny_bundle)
    rng = np.random.default_rng(3)
    x = (rng.random((1, 32, 200, 1)) > 0.85).astype(np.float32)
    other = (rng.random((1, 32, 200, 1)) > 0.7).astype(np.float32)
    first = rec.logits(x)
    rec.logits(other)
    assert np.array_equal(rec.logits(x), first)


def test_adaptation_reads_the_fused_weights_and_reproduces_the_output(tiny_bundle):
    import keras

    from model.adapt import FeatureReader
    from model.head import Head
    from model.recognizer import bucket_width
    from model.tflite_weights import TfliteWeights

    data = (tiny_bundle / "crnn_b1.tflite").read_bytes()
    tw = TfliteWeights(data)
    model = keras.models.load_model(tiny_bundle / "crnn.keras", compile=False)
    last = tw.lstm_layers - 1
    layer = model.get_layer(f"bilstm{last}")
    for direction, sub in (("forward", layer.forward_layer), ("backward", layer.backward_layer)):
        kernel, recurrent, bias = (np.asarray(w) for w in sub.get_weights())
        for key, ref in (("kernel", kernel), ("recurrent", recurrent), ("bias", bias)):
            got = tw.get(f"bilstm{last}/{direction}/{key}")
            assert got.shape == ref.shape
            assert np.abs(got - ref).max() <= np.abs(ref).max() / 100  # int8 weights, gates i, f, c, o in order
    rec = Recognizer.load(tiny_bundle)
    tensor = rec.prepare(render_text("hello"))
    batch = np.zeros((1, 32, bucket_width(tensor.shape[1]), 1), np.float32)
    batch[0, :, : tensor.shape[1], 0] = tensor
    head = Head({k: tw.get(k) for k in tw.refs if k.startswith(("logits/", f"bilstm{last}/"))},
                first_layer=last, layers=1)
    logits, _ = head.forward(FeatureReader(data).read(batch, layer=last))
    assert np.abs(logits - rec.logits(batch)[0]).max() < 0.05 * np.abs(logits).max()
    again = TfliteWeights(tw.to_bytes())
    kernel = tw.get(f"bilstm{last}/forward/kernel") * 0.5
    again.set(f"bilstm{last}/forward/kernel", kernel)
    written = TfliteWeights(again.to_bytes()).get(f"bilstm{last}/forward/kernel")
    assert np.abs(written - kernel).max() <= np.abs(kernel).max() / 127 + 1e-6
