"""Average the weights of several checkpoints of one network (a "uniform soup", Wortsman et al. 2022).

``python -m training average A.keras B.keras ... --out SOUP.keras``. Checkpoints fine-tuned from one ancestor lie
in one basin, and their mean often reads better than any of them, with less of the noise of picking one checkpoint
by a validation score. Every weight (BatchNorm statistics included) is the plain mean; the output is the first
checkpoint's network with the mean weights and no optimizer state, which ``export`` and ``init_from`` read as they
read any checkpoint.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def mean_weights(weight_lists: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Element-wise mean of several models' weight lists (same shapes, same order)."""
    if not weight_lists:
        raise ValueError("no checkpoints to average")
    shapes = [[w.shape for w in ws] for ws in weight_lists]
    if any(s != shapes[0] for s in shapes[1:]):
        raise ValueError("the checkpoints are not the same network")
    return [np.mean(np.stack(ws), axis=0).astype(ws[0].dtype) for ws in zip(*weight_lists)]


def load(path: Path) -> Any:
    """A checkpoint's network, weights only (as ``export`` and ``init_from`` read it)."""
    import keras

    return keras.models.load_model(path, compile=False)


def average(paths: list[Path], out: Path) -> Path:
    """Write the mean of ``paths``' weights to ``out`` (a .keras file) and return it."""
    models = [load(p) for p in paths]
    soup = models[0]
    soup.set_weights(mean_weights([m.get_weights() for m in models]))
    out.parent.mkdir(parents=True, exist_ok=True)
    soup.save(out)
    log.info("averaged %d checkpoints into %s", len(paths), out)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    p = argparse.ArgumentParser(prog="python -m training average")
    p.add_argument("checkpoints", type=Path, nargs="+", help=".keras checkpoints of one network")
    p.add_argument("--out", type=Path, required=True, help="the averaged .keras file")
    args = p.parse_args(argv)
    missing = [str(c) for c in args.checkpoints if not c.is_file()]
    if missing:
        raise SystemExit(f"no such checkpoint: {', '.join(missing)}")
    try:
        print(average(args.checkpoints, args.out))
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    return 0
