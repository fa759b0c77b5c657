"""How well a network reads its own training batches, next to its validation sets: does it underfit or overfit?

``python scripts/training_fit.py NAME=A.keras [NAME=B.keras ...] [--config CONFIG] [--batches N] [--seed S]``
builds ``N`` training batches as the config's run would (same sources, weights, fonts and mix; seed ``S``, not the
run's, so they are batches the run never drew in that order), once augmented as in training and once without
augmentation (real crops as they are, synthetic ones as rendered), and reads them greedily, each batch at its own
padded width. Prints, per model, one JSON line with the CER by batch kind (real source name or ``synth-<kind>``;
real names case-insensitively, as validation scores them) and of the validation sets.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from typing import Any

import numpy as np


def read_batches(model: Any, maker: Any, steps: range) -> dict[str, float]:
    """Greedy CER per batch label over batches ``steps`` of ``maker`` (a ``training.pipeline.BatchMaker``)."""
    from model.decode import greedy_decode, softmax
    from training.metrics import score

    truths: dict[str, list[str]] = defaultdict(list)
    preds: dict[str, list[str]] = defaultdict(list)
    for step in steps:
        label = maker.plan(step).label
        x, y = maker.make(step)
        logits = np.asarray(model(x))
        fold = str.upper if label == "names" else str
        truths[label] += [fold(maker.charset.decode([int(c) for c in row if c])) for row in y]
        preds[label] += [fold(greedy_decode(softmax(row), maker.charset).text) for row in logits]
    return {k: round(score(truths[k], preds[k]).cer, 4) for k in sorted(truths)}


def main() -> None:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", metavar="NAME=PATH")
    parser.add_argument("--config", default="training/configs/bundled-0.14.toml")
    parser.add_argument("--batches", type=int, default=120)
    parser.add_argument("--seed", type=int, default=777)
    args = parser.parse_args()

    import tempfile

    import keras
    import tensorflow as tf

    from model.charset import Charset
    from model.preprocess import InputSpec
    from training.config import TrainConfig
    from training.data_sources import load_data
    from training.train import batch_maker, validate

    scratch = tempfile.mkdtemp(prefix="training-fit-")  # load_data writes the counts into the run's folder
    cfg = TrainConfig.load(args.config, name="training-fit", run_dir=scratch)
    charset, spec = Charset(), InputSpec(height=cfg.height, max_width=cfg.max_width)
    sources, val_sets, fonts = load_data(cfg, charset, spec)
    makers = {aug: batch_maker(cfg, spec, charset, sources, fonts, seed=args.seed, augment=aug)
              for aug in (True, False)}
    for arg in args.models:
        name, path = arg.split("=", 1)
        network = keras.models.load_model(path, compile=False)
        model = tf.function(lambda x, net=network: net(x, training=False), reduce_retracing=True)
        row: dict[str, Any] = {"model": name}
        for aug, maker in makers.items():
            row["augmented" if aug else "plain"] = read_batches(model, maker, range(args.batches))
        row["validation"] = validate(network, val_sets, spec, charset)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
