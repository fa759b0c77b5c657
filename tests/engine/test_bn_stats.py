"""Batch norm's statistics recomputed from batches, and frozen so that training normalises as the app does."""

from __future__ import annotations

import numpy as np
import pytest

from model.network import NetworkSpec, build_crnn

pytestmark = pytest.mark.slow  # imports TensorFlow: in a process of its own (tests/__main__.py)

SPEC = NetworkSpec(conv_filters=(4, 8, 8, 8, 8, 8), lstm_units=6, lstm_layers=2, dropout=0.0)


def _batches(count, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0, 1 + k, size=(3, 32, 48 + 16 * k, 1)).astype("float32") for k in range(count)]


def test_recalibrate_sets_each_layer_to_the_mean_of_its_batch_statistics():
    import keras

    from training.bn_stats import batch_norm_layers, recalibrate

    model = build_crnn(32, 10, SPEC)
    layers = batch_norm_layers(model)
    layers[3].trainable = False  # a frozen layer is recomputed too, and stays frozen
    batches = _batches(4)
    assert recalibrate(model, iter(batches)) == 4
    first = keras.Model(model.input, model.get_layer("conv0").output)  # what bn0 normalises
    outs = [np.asarray(first(x)) for x in batches]
    means = np.mean([o.mean(axis=(0, 1, 2)) for o in outs], axis=0)
    variances = np.mean([o.var(axis=(0, 1, 2)) for o in outs], axis=0)
    np.testing.assert_allclose(np.asarray(layers[0].moving_mean), means, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(layers[0].moving_variance), variances, rtol=1e-3, atol=1e-5)
    # the last layer's statistics follow from the layers before it, normalised by their batches' own statistics
    assert not np.allclose(np.asarray(layers[-1].moving_mean), 0.0)
    assert [layer.momentum for layer in layers] == [0.99] * len(layers)
    assert [layer.trainable for layer in layers] == [True, True, True, False, True, True]


def test_recalibrate_with_no_batches_changes_nothing():
    from training.bn_stats import batch_norm_layers, recalibrate

    model = build_crnn(32, 10, SPEC)
    before = [np.asarray(w).copy() for w in model.weights]
    assert recalibrate(model, iter([])) == 0
    for w, old in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(np.asarray(w), old)
    assert all(layer.momentum == 0.99 for layer in batch_norm_layers(model))


def test_a_frozen_network_trains_as_it_reads():
    """Frozen: a training step leaves batch norm's statistics, scale and offset alone, and the network computes the
    same in training as in inference; unfrozen it does neither (so the test can fail)."""
    import keras
    import tensorflow as tf

    from training.bn_stats import batch_norm_layers, freeze
    from training.train import ctc_loss

    x = _batches(1, seed=3)[0]
    y = np.array([[1, 2, 3]] * 3, dtype="int32")
    for frozen in (True, False):
        keras.utils.set_random_seed(1)
        model = build_crnn(32, 10, SPEC)
        for layer in batch_norm_layers(model):  # statistics unlike any batch's
            layer.moving_mean.assign(np.full(layer.moving_mean.shape, -0.2, "float32"))
            layer.moving_variance.assign(np.full(layer.moving_variance.shape, 2.0, "float32"))
        if frozen:
            assert freeze(model) == 6
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=ctc_loss)
        bn_before = [np.asarray(w).copy() for layer in batch_norm_layers(model) for w in layer.weights]
        same = np.allclose(np.asarray(model(x, training=True)), np.asarray(model(x, training=False)), atol=1e-5)
        conv_before = np.asarray(model.get_layer("conv0").kernel).copy()
        model.train_on_batch(tf.constant(x), tf.constant(y))
        bn_after = [np.asarray(w) for layer in batch_norm_layers(model) for w in layer.weights]
        kept = all(np.array_equal(a, b) for a, b in zip(bn_before, bn_after, strict=True))
        assert same is frozen and kept is frozen
        assert not np.array_equal(np.asarray(model.get_layer("conv0").kernel), conv_before)  # the rest learns


def test_a_run_recomputes_then_freezes_batch_norm_and_keeps_it_so_when_resumed(tmp_path):
    import keras

    from training.bn_stats import batch_norm_layers
    from training.config import TrainConfig
    from training.fonts import fetch_fonts
    from training.train import RunState, train

    if not fetch_fonts(("caveat", "kalam")):
        pytest.skip("npm could not fetch @fontsource fonts")
    cfg = TrainConfig.load("training/configs/tiny.toml", run_dir=str(tmp_path), name="frozen", epochs=1,
                           steps_per_epoch=4, checkpoint_every=1, verbose=0, freeze_bn=True, bn_recalibrate=2)

    def statistics(path):
        model = keras.models.load_model(path, compile=False)
        layers = batch_norm_layers(model)
        assert layers and not any(layer.trainable for layer in layers)
        return [np.asarray(w) for layer in layers for w in layer.weights]

    train(cfg, stop_after=1)
    first = RunState.read(cfg.checkpoint_dir / "state.json")
    assert first is not None and first.step == 1
    start = statistics(cfg.checkpoint_dir / first.checkpoint)
    moving_means = start[2::4]  # gamma, beta, moving mean, moving variance of each layer
    assert len(moving_means) == 6 and all(np.any(m != 0.0) for m in moving_means)  # recomputed, not fresh zeros
    train(cfg)  # resumed
    done = RunState.read(cfg.checkpoint_dir / "state.json")
    assert done is not None and done.finished and done.step == 4
    for a, b in zip(start, statistics(cfg.checkpoint_dir / done.checkpoint), strict=True):
        np.testing.assert_array_equal(a, b)
