"""Greedy validation figures of checkpoints, as a training run reports its epochs (``history.csv``'s ``val_*``).

``python -m training validate A.keras [B.keras ...] [--config C]``: for checkpoints no run has scored, such as the
mean of a run's epochs that ``average`` writes (a teacher, or a candidate before ``candidate`` exports it), all read
from the same prepared tensors. The validation sets, the input spec and the widths are the config's (default: run
bundled-0.28's, the bundled model's shape; a teacher's config for a teacher, whose input is the same).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from model.charset import Charset
from model.preprocess import InputSpec
from training.config import TrainConfig
from training.data_sources import validation_tensors
from training.train import validate

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "bundled-0.28.toml"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: one JSON line per checkpoint."""
    p = argparse.ArgumentParser(prog="python -m training validate", description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", type=Path, nargs="+", help=".keras checkpoints")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="the TOML config whose validation sets to use")
    args = p.parse_args(argv)
    missing = [str(c) for c in args.checkpoints if not c.is_file()]
    if missing:
        p.error(f"no such checkpoint: {', '.join(missing)}")
    import keras

    cfg = TrainConfig.load(args.config)
    charset, spec = Charset(), InputSpec(height=cfg.height, max_width=cfg.max_width)
    sets = validation_tensors(cfg, charset, spec)
    if not sets:
        p.error("no validation data found (docs/data.md: restore it under ~/.cache/htr-desktop)")
    for path in args.checkpoints:
        model = keras.models.load_model(path, compile=False)
        figures = validate(model, sets, spec, charset, app_widths=cfg.val_app_widths)
        print(json.dumps({"checkpoint": str(path), **{k: round(v, 4) for k, v in figures.items()}}), flush=True)
    return 0
