"""Batch-normalisation statistics: recomputed from training batches, or frozen for a whole run.

A batch holds one kind of crop (names, lines, words, synthetic), so in training each batch is normalised by its own
kind's statistics, while the app normalises every crop by the moving averages, which follow whatever the last
hundred or so batches were. ``freeze`` makes training normalise as the app does; ``recalibrate`` first sets the
moving averages to the mean statistics of many batches of the run's mix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def batch_norm_layers(model: Any) -> list[Any]:
    """The model's batch-normalisation layers, in order."""
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def recalibrate(model: Any, batches: Iterable[np.ndarray]) -> int:
    """Set every batch-norm layer's moving mean and variance to the mean of its batch statistics over ``batches``
    (each layer seeing the batches as training normalises them); returns the number of batches used."""
    import keras

    layers = batch_norm_layers(model)
    if not layers:
        return 0
    features = keras.Model(model.input, layers[-1].output)  # the layers after the last one don't matter
    saved = [(layer.momentum, layer.trainable) for layer in layers]
    count = 0
    try:
        for layer in layers:
            layer.trainable = True  # a frozen layer would normalise with, and keep, its moving statistics
        for count, x in enumerate(batches, start=1):
            for layer in layers:
                layer.momentum = (count - 1) / count  # running mean of the batches' statistics
            features(x, training=True)
    finally:
        for layer, (momentum, trainable) in zip(layers, saved, strict=True):
            layer.momentum, layer.trainable = momentum, trainable
    return count


def freeze(model: Any) -> int:
    """Make every batch-norm layer normalise with its moving statistics in training too, and keep them (and its
    scale and offset) fixed; returns how many layers were frozen. Call before compiling."""
    layers = batch_norm_layers(model)
    for layer in layers:
        layer.trainable = False
    return len(layers)
