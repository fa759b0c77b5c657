"""The network's shape options: output frames per input column, and what model.json records of them."""

from __future__ import annotations

import numpy as np
import pytest

from model.network import NetworkSpec, build_crnn
from training.pipeline import ctc_feasible


def test_spec_roundtrips_and_rejects_unknown_downsampling():
    spec = NetworkSpec(lstm_units=192, width_downsample=2)
    assert NetworkSpec.from_json(spec.to_json()) == spec
    assert NetworkSpec.from_json({"lstm_units": 128}).width_downsample == 4  # bundles written before the option
    with pytest.raises(ValueError, match="width_downsample"):
        NetworkSpec(width_downsample=3)


def test_ctc_feasibility_follows_the_frames():
    ids = [5, 6, 6, 7, 8, 9, 10, 11, 12, 13]  # 10 labels and one repeat: 11 frames needed
    assert not ctc_feasible(ids, 40) and ctc_feasible(ids, 44)
    assert ctc_feasible(ids, 22, downsample=2) and not ctc_feasible(ids, 20, downsample=2)


@pytest.mark.slow  # imports TensorFlow
@pytest.mark.parametrize("downsample", [4, 2])
def test_output_frames_and_recovered_spec(downsample):
    pytest.importorskip("keras")
    from training.export import network_spec_of

    spec = NetworkSpec(conv_filters=(4, 8, 8, 8, 8, 8), lstm_units=6, width_downsample=downsample)
    net = build_crnn(32, 10, spec)
    out = net.predict(np.zeros((1, 32, 96, 1), "float32"), verbose=0)
    assert out.shape == (1, 96 // downsample, 10)
    assert network_spec_of(net) == spec


@pytest.mark.slow  # imports TensorFlow
def test_twice_the_frames_converts_to_litert_and_decodes_like_the_4x_network():
    pytest.importorskip("keras")
    from training.export import parity, to_tflite
    from training.warm_start import copy_fitting_weights

    narrow = build_crnn(32, 10, NetworkSpec(conv_filters=(4, 8, 8, 8, 8, 8), lstm_units=6))
    twice = build_crnn(32, 10, NetworkSpec(conv_filters=(4, 8, 8, 8, 8, 8), lstm_units=6, width_downsample=2))
    assert copy_fitting_weights(twice, narrow) == []  # every weight fits: a trained 4x network is a warm start
    assert parity(twice, to_tflite(twice, 32, 10, batch=1), 32, batch=1).ok()
    x = (np.random.default_rng(1).random((1, 32, 200, 1)) > 0.8).astype("float32")
    assert twice.predict(x, verbose=0).shape == (1, 100, 10)


@pytest.mark.slow  # imports TensorFlow
def test_parity_rejects_a_converted_network_that_reads_differently():
    pytest.importorskip("keras")
    import keras

    from training.export import parity, to_tflite

    keras.utils.set_random_seed(0)  # two fixed random networks: the test reads the same every run
    spec = NetworkSpec(conv_filters=(4, 8, 8, 8, 8, 8), lstm_units=6)
    keras_net, other = build_crnn(32, 10, spec), build_crnn(32, 10, spec)  # same shapes, other random weights
    same = parity(keras_net, to_tflite(keras_net, 32, 10, batch=1), 32, batch=1, widths=(64, 400))
    wrong = parity(keras_net, to_tflite(other, 32, 10, batch=1), 32, batch=1, widths=(64, 400))
    assert same.ok() and same.disagreement < 0.01
    assert not wrong.ok() and wrong.disagreement > 0.05
