"""A network of another input height starts from a trained one: every weight that fits is copied."""

from __future__ import annotations

import numpy as np
import pytest

from model.network import NetworkSpec, build_crnn
from training.warm_start import copy_fitting_weights


@pytest.mark.slow  # imports TensorFlow: in a process of its own (tests/__main__.py; TF + libsane segfault)
def test_a_48px_network_keeps_what_fits_from_a_32px_one():
    pytest.importorskip("keras")
    spec = NetworkSpec(conv_filters=(4, 8, 8, 8, 8, 8), lstm_units=6, lstm_layers=2)
    source, target = build_crnn(32, 10, spec), build_crnn(48, 10, spec)
    for w in source.weights:  # recognisable values, unlike a fresh initialisation
        w.assign(np.random.default_rng(len(w.path)).normal(size=tuple(w.shape)).astype("float32"))
    fresh = copy_fitting_weights(target, source)
    # the first BiLSTM sees 3 feature rows instead of 2: only its input kernels (forward, backward) stay new
    assert len(fresh) == 2 and all(f.startswith("bilstm0/") and f.endswith("lstm_cell/kernel") for f in fresh)
    for layer in target.layers:
        donor = source.get_layer(layer.name)
        for new, old in zip(layer.weights, donor.weights, strict=True):
            if new.path in fresh:
                assert new.shape[0] == old.shape[0] * 3 // 2 and new.shape[1:] == old.shape[1:]
            else:
                np.testing.assert_array_equal(new.numpy(), old.numpy())


def _trained_pair(conv_filters=(4, 8, 8, 8, 8, 8), lstm_units=6, seed=0):
    """A narrow network with recognisable weights (batch-norm variances positive), a wider fresh one, the rng."""
    narrow = build_crnn(32, 10, NetworkSpec(conv_filters=(4, 8, 8, 8, 8, 8), lstm_units=6, lstm_layers=2))
    wide = build_crnn(32, 10, NetworkSpec(conv_filters=conv_filters, lstm_units=lstm_units, lstm_layers=2))
    rng = np.random.default_rng(seed)
    for w in narrow.weights:
        value = rng.normal(scale=0.5, size=tuple(w.shape))
        w.assign((np.abs(value) + 0.5 if "variance" in w.path else value).astype("float32"))
    return narrow, wide, rng


@pytest.mark.slow  # imports TensorFlow
def test_wider_bilstms_start_as_the_same_function():
    pytest.importorskip("keras")
    from training.warm_start import widen_recurrent

    narrow, wide, rng = _trained_pair(lstm_units=9, seed=3)
    copy_fitting_weights(wide, narrow)
    widened = widen_recurrent(wide, narrow)
    assert sum(p.startswith("bilstm") for p in widened) == 12 and sum(p.startswith("logits") for p in widened) == 2
    image = rng.random((2, 32, 40, 1)).astype("float32")
    before, after = narrow.predict(image, verbose=0), wide.predict(image, verbose=0)
    assert np.abs(before).max() > 0.1  # not trivially zero
    np.testing.assert_allclose(after, before, atol=1e-5)
    # the new units are live: their incoming weights are not all zero, so training can grow them
    fwd_kernel = wide.get_layer("bilstm0").weights[0].numpy()
    assert np.abs(fwd_kernel[:, 6:9]).sum() > 0


@pytest.mark.slow  # imports TensorFlow
def test_wider_conv_stages_start_as_the_same_function():
    pytest.importorskip("keras")
    from training.warm_start import widen_conv

    narrow, wide, rng = _trained_pair(conv_filters=(6, 12, 12, 12, 12, 12), seed=5)
    copy_fitting_weights(wide, narrow)
    widened = widen_conv(wide, narrow)
    assert sum(p.startswith("conv") for p in widened) == 6 and sum(p.startswith("bilstm0") for p in widened) == 2
    image = rng.random((2, 32, 40, 1)).astype("float32")
    before, after = narrow.predict(image, verbose=0), wide.predict(image, verbose=0)
    assert np.abs(before).max() > 0.1
    np.testing.assert_allclose(after, before, atol=1e-4)
    assert np.abs(wide.get_layer("conv2").weights[0].numpy()[..., 8:]).sum() > 0  # the new filters are live
