"""Distillation: the frames' divergence from a teacher, and a run that learns it."""

from __future__ import annotations

import numpy as np
import pytest

from model.network import NetworkSpec, build_crnn

pytestmark = pytest.mark.slow  # imports TensorFlow: in a process of its own (tests/__main__.py)

TINY = NetworkSpec(conv_filters=(8, 16, 16, 16, 16, 16), lstm_units=16, lstm_layers=1, dropout=0.0)


def _reference_kl(t, s, temperature):
    """The divergence written out in numpy, crop by crop."""
    def log_softmax(z):
        z = z / temperature
        z = z - z.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))

    lt, ls = log_softmax(t), log_softmax(s)
    return (np.exp(lt) * (lt - ls)).sum(axis=(1, 2)) * temperature**2


@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_frame_kl_is_the_summed_divergence(temperature):
    from training.distill import frame_kl

    rng = np.random.default_rng(0)
    t = rng.normal(0, 3, size=(3, 7, 5)).astype("float32")
    s = rng.normal(0, 3, size=(3, 7, 5)).astype("float32")
    got = np.asarray(frame_kl(t, s, temperature))
    np.testing.assert_allclose(got, _reference_kl(t, s, temperature), rtol=1e-4, atol=1e-5)
    assert got.shape == (3,) and (got > 0).all()
    np.testing.assert_allclose(np.asarray(frame_kl(t, t, temperature)), 0.0, atol=1e-5)
    # adding a constant to every class of a frame changes no softmax
    np.testing.assert_allclose(np.asarray(frame_kl(t, t + 4.0, temperature)), 0.0, atol=1e-4)


def test_a_teacher_must_read_the_same_frames_and_classes(tmp_path):
    from training.distill import load_teacher

    student = build_crnn(32, 10, TINY)
    other_frames = build_crnn(32, 10, NetworkSpec(**{**TINY.__dict__, "width_downsample": 2}))
    other_classes = build_crnn(32, 12, TINY)
    for i, net in enumerate((other_frames, other_classes)):
        path = tmp_path / f"t{i}.keras"
        net.save(path)
        with pytest.raises(ValueError, match="same frames and classes"):
            load_teacher(path, student, 32)
    good = tmp_path / "good.keras"
    build_crnn(32, 10, TINY).save(good)
    teacher = load_teacher(good, student, 32)
    assert not teacher.trainable and not teacher.trainable_weights


def test_a_run_with_a_teacher_learns_its_posteriors(tmp_path):
    """The same run (seed, batches) with and without a teacher: only the distilled one ends close to it."""
    import keras

    from model.charset import Charset
    from training.config import TrainConfig
    from training.distill import frame_kl
    from training.fonts import fetch_fonts
    from training.train import train

    if not fetch_fonts(("caveat", "kalam")):
        pytest.skip("npm could not fetch @fontsource fonts")
    keras.utils.set_random_seed(99)
    teacher = build_crnn(32, Charset().num_classes, TINY)
    teacher.save(tmp_path / "teacher.keras")
    probe = np.random.default_rng(1).uniform(0, 1, size=(4, 32, 160, 1)).astype("float32")
    target = np.asarray(teacher(probe, training=False))

    def run(name, **extra):
        cfg = TrainConfig.load("training/configs/tiny.toml", run_dir=str(tmp_path), name=name, epochs=1,
                               steps_per_epoch=25, checkpoint_every=100, verbose=0, dropout=0.0,
                               learning_rate=3e-3, lr_schedule="cosine", **extra)
        model = keras.models.load_model(train(cfg), compile=False)
        return float(np.mean(frame_kl(target, np.asarray(model(probe, training=False)))))

    plain = run("plain")
    taught = run("taught", teacher=str(tmp_path / "teacher.keras"), distill_weight=20.0)
    assert taught < 0.5 * plain, (taught, plain)
