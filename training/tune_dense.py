"""Choose when a densely written line is read again wider (``python -m training tune-dense --model DIR``).

The network emits one frame per 4 input columns; a line whose first reading has fewer than ``dense_below``
frames a character is read again stretched to ``dense_target`` frames a character, at most ``dense_max_stretch``
times wider (``Recognizer._read_lines``). This measures every setting of the grid on the validation sets (held-back
IAM lines, held-back names, held-out fonts) with the bundle's own decoder and keeps the one with the lowest mean CER
(within ``TIE`` of it, the one that reads the fewest lines again: the second reading costs time).
Stretches are rounded to ``STEP`` so that each crop is read only at a few widths.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from model.bundle import read_info, write_info
from model.decode import greedy_length
from model.decoder_config import DecoderConfig
from model.recognizer import Recognizer
from training.metrics import char_errors
from training.validation import font_samples, iam_samples, name_samples, readable

log = logging.getLogger(__name__)

BELOW = (2.0, 2.25, 2.5, 2.75, 3.0)
TARGET = (2.5, 3.0, 3.5)
MAX_STRETCH = (1.25, 1.5, 1.75)
STEP = 0.05
TIE = 0.0005  # mean CERs closer than 0.05 points count as equal: the cheaper setting wins


@dataclass
class DenseSet:
    """One validation set: its crops, truths, and each crop's reading (text) at each stretch tried so far."""

    name: str
    images: list[np.ndarray]
    truths: list[str]
    case_sensitive: bool
    first: list[tuple[int, int]] = field(default_factory=list)  # (frames, greedy length) of the plain reading
    texts: dict[float, list[str | None]] = field(default_factory=dict)

    def cer(self, texts: list[str]) -> float:
        """Character error rate of ``texts`` against the truths (upper-cased for a case-insensitive set)."""

        def fold(s: str) -> str:
            return s if self.case_sensitive else s.upper()

        errors = sum(char_errors(fold(t), fold(p)) for t, p in zip(self.truths, texts))
        return errors / max(1, sum(len(t) for t in self.truths))


def read_at(rec: Recognizer, dense: DenseSet, stretch: float, which: list[int]) -> None:
    """Read the crops ``which`` at ``stretch`` (those not read at it yet) and keep their texts."""
    texts = dense.texts.setdefault(stretch, [None] * len(dense.images))
    todo = [i for i in which if texts[i] is None]
    if not todo:
        return
    for i, out in zip(todo, rec.outputs([dense.images[i] for i in todo], stretch=stretch)):
        texts[i] = "" if out is None else rec.decode(out).text
        if stretch == 1.0:
            dense.first[i] = (0, 0) if out is None else (out.shape[0], greedy_length(out))


def policy_texts(rec: Recognizer, dense: DenseSet, config: DecoderConfig) -> tuple[list[str], int]:
    """Each crop's text under ``config``'s dense-line settings, and how many crops were read again."""
    stretches = [round(config.stretch_for(f, n) / STEP) * STEP if n else 1.0 for f, n in dense.first]
    for s in sorted(set(stretches) - {1.0}):
        read_at(rec, dense, s, [i for i, x in enumerate(stretches) if x == s])
    texts = [dense.texts[s][i] or "" for i, s in enumerate(stretches)]
    return texts, sum(s > 1.0 for s in stretches)


def tune(rec: Recognizer, sets: list[DenseSet]) -> list[dict[str, Any]]:
    """Every setting of the grid (and 'off'), best mean CER first."""
    for dense in sets:
        dense.first = [(0, 0)] * len(dense.images)
        read_at(rec, dense, 1.0, list(range(len(dense.images))))
    grid = [replace(rec.config, dense_below=0.0)] + [
        replace(rec.config, dense_below=b, dense_target=t, dense_max_stretch=m)
        for b, t, m in itertools.product(BELOW, TARGET, MAX_STRETCH) if t >= b]
    rows: list[dict[str, Any]] = []
    for config in grid:
        cer, again = {}, {}
        for dense in sets:
            texts, again[dense.name] = policy_texts(rec, dense, config)
            cer[dense.name] = round(dense.cer(texts), 4)
        rows.append({"dense_below": config.dense_below, "dense_target": config.dense_target,
                     "dense_max_stretch": config.dense_max_stretch, "cer": cer, "read_again": again,
                     "mean": round(float(np.mean(list(cer.values()))), 4)})
        log.info("%s", rows[-1])
    rows.sort(key=lambda r: (r["mean"], r["dense_below"]))
    # within TIE of the lowest mean CER (noise on ~1,000 crops), the setting that reads the fewest lines again first
    near = [r for r in rows if r["mean"] <= rows[0]["mean"] + TIE]
    near.sort(key=lambda r: (sum(r["read_again"].values()), r["mean"]))
    return near + [r for r in rows if r not in near]


def load(rec: Recognizer) -> list[DenseSet]:
    """The validation sets whose data is on disk."""
    sets = []
    for name, samples, case_sensitive in (("iam", iam_samples, True), ("names", name_samples, False),
                                          ("fonts", font_samples, True)):
        try:
            loaded = readable(samples())
        except OSError as exc:  # a missing cache: tune on the others
            log.warning("%s: %s", name, exc)
            continue
        if loaded:
            sets.append(DenseSet(name, [img for _, img in loaded],
                                 [rec.info.charset.filter(s.text) for s, _ in loaded], case_sensitive))
    return sets


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    p = argparse.ArgumentParser(prog="python -m training tune-dense")
    p.add_argument("--model", type=Path, default=Path("resources/model"), help="bundle folder")
    p.add_argument("--apply", action="store_true", help="write the best setting into the bundle's model.json")
    args = p.parse_args(argv)
    rec = Recognizer.load(args.model)
    sets = load(rec)
    if not sets:
        raise SystemExit("no validation data found (see training/validation.py)")
    rows = tune(rec, sets)
    off = next(r for r in rows if r["dense_below"] == 0.0)
    print(json.dumps({"best": rows[0], "off": off, "next": rows[1:6]}, indent=1))
    if args.apply:
        info = read_info(args.model)
        best = rows[0]
        info.decoder = replace(info.decoder, dense_below=float(best["dense_below"]),
                               dense_target=float(best["dense_target"]),
                               dense_max_stretch=float(best["dense_max_stretch"]))
        info.figures["dense_lines_val_cer"] = {"off": off["cer"], "on": best["cer"], "read_again": best["read_again"]}
        write_info(args.model, info)
    return 0
