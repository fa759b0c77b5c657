"""Averaging checkpoints: the mean of each weight, refused for different networks."""

import numpy as np
import pytest

from training.average import mean_weights


def test_mean_weights_is_the_elementwise_mean_in_the_first_dtype():
    a = [np.array([[1.0, 2.0]], np.float32), np.array([4], np.int64)]
    b = [np.array([[3.0, 6.0]], np.float32), np.array([8], np.int64)]
    got = mean_weights([a, b])
    assert np.array_equal(got[0], np.array([[2.0, 4.0]], np.float32)) and got[0].dtype == np.float32
    assert got[1].tolist() == [6] and got[1].dtype == np.int64


def test_mean_weights_refuses_other_networks_and_nothing():
    with pytest.raises(ValueError, match="not the same network"):
        mean_weights([[np.zeros((2, 3))], [np.zeros((3, 2))]])
    with pytest.raises(ValueError, match="no checkpoints"):
        mean_weights([])


@pytest.mark.slow
def test_average_of_checkpoints_loads_and_reads_as_their_mean(tmp_path):
    import keras

    from model.network import NetworkSpec, build_crnn
    from training.average import average, load

    spec = NetworkSpec(conv_filters=(8, 8), lstm_units=8, lstm_layers=1)
    paths = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        model = build_crnn(32, 10, spec)
        model.save(tmp_path / f"m{seed}.keras")
        paths.append(tmp_path / f"m{seed}.keras")
    soup = load(average(paths, tmp_path / "soup.keras"))
    a, b = (load(p).get_weights() for p in paths)
    for got, x, y in zip(soup.get_weights(), a, b):
        assert np.allclose(got, (x + y) / 2)
