"""How a network's greedy reading of the held-back crops changes with the paper padded after them.

``python scripts/padding_curve.py names|iam NAME=A.keras [NAME=B.keras ...] [--config CONFIG]`` reads every
held-back crop of the set (the config's validation split) with each Keras model, padded on the right to: its own
width in 8-px steps (``exact``), the app's width bucket (``bucket``, as ``Recognizer`` reads it), or its width plus
32-512 px; crops of the same padded width share a batch, so each reads as if alone. Each reading keeps the crop's
own frames and two more, and is scored greedily (names case-insensitively). Prints one JSON line per model.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

MODES = ("exact", "bucket", "+32", "+64", "+128", "+256", "+512")


def padded_width(width: int, mode: str) -> int:
    """The input width a crop ``width`` columns wide is padded to in ``mode``."""
    from model.recognizer import bucket_width

    if mode == "exact":
        return -(-width // 8) * 8
    if mode == "bucket":
        return bucket_width(width)
    if mode.startswith("+"):
        return -(-(width + int(mode[1:])) // 8) * 8
    raise ValueError(f"unknown padding mode {mode!r}")


def curve(model: Any, items: list[tuple[np.ndarray, str]], ignore_case: bool,
          modes: tuple[str, ...] = MODES) -> dict[str, float]:
    """Greedy CER of ``items`` (prepared tensor, text) per padding mode."""
    from functools import partial

    import tensorflow as tf

    from model.charset import Charset
    from model.preprocess import InputSpec
    from training.metrics import score
    from training.train import predict_texts

    charset, spec = Charset(), InputSpec(height=items[0][0].shape[0])
    compiled = tf.function(lambda x: model(x, training=False), reduce_retracing=True)  # eager LSTMs are slow

    def run(x: np.ndarray, training: bool = False) -> Any:
        return compiled(tf.constant(x))

    fold = (lambda s: s.upper()) if ignore_case else (lambda s: s)
    truths = [fold(t) for _, t in items]
    out: dict[str, float] = {}
    for mode in modes:
        preds = predict_texts(run, [t for t, _ in items], spec, charset, batch_size=32,
                              pad_to=partial(padded_width, mode=mode))
        out[mode] = round(score(truths, [fold(p) for p in preds]).cer, 4)
    return out


def main() -> None:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", choices=("names", "iam"))
    parser.add_argument("models", nargs="+", metavar="NAME=PATH")
    parser.add_argument("--config", default="training/configs/bundled-0.15.toml")
    args = parser.parse_args()

    import keras

    from model.charset import Charset
    from model.preprocess import InputSpec
    from training.config import TrainConfig
    from training.data_sources import iam_line_samples, name_samples
    from training.pipeline import load_real, prepare_validation

    cfg = TrainConfig.load(args.config)
    charset = Charset()
    samples = name_samples(cfg)[1] if args.set == "names" else iam_line_samples(cfg)[1]
    items = prepare_validation(load_real(samples, charset, 2), InputSpec(height=cfg.height))
    for arg in args.models:
        name, path = arg.split("=", 1)
        model = keras.models.load_model(path, compile=False)
        print(json.dumps({"model": name, **curve(model, items, ignore_case=args.set == "names")}), flush=True)


if __name__ == "__main__":
    main()
