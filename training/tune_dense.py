"""Choose when a densely written line is read wider (``python -m training tune-dense --model DIR``).

The network emits one frame per 4 input columns; a line whose reading has fewer than ``dense_below`` frames a
character is read again stretched to ``dense_target`` frames a character, at most ``dense_max_stretch`` times wider
(``Recognizer._read_lines``). This measures every setting of the grid on the validation sets (held-back IAM lines,
held-back names, held-out fonts) with the bundle's own decoder and keeps the one with the lowest mean CER (within
``TIE`` of it, the one that reads the fewest lines again: the second reading costs time). Then, for that setting,
it tries guessing a dense line from its ink (``dense_guess`` characters per stroke) and reading it at that stretch
at once, read again only if its reading asks for a stretch more than ``dense_tolerance`` away, and keeps the guess
that costs the network least among those no worse than not guessing (the mean CER and every set's).
Every reading is the recognizer's own (the exact stretches it would use; before session 8 they were rounded to 0.05
here, which moved the figures by up to 0.1 points from what the recognizer read), and a line read twice is both
readings merged word by word, as the recognizer merges them (since session 17; before, the second reading was kept).
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
from model.preprocess import prepare_line_parts
from model.recognizer import Prediction, Recognizer, merged, prediction_of
from training.metrics import char_errors
from training.validation import font_samples, iam_samples, name_samples, readable

log = logging.getLogger(__name__)

BELOW = (2.0, 2.25, 2.5, 2.75, 3.0)
TARGET = (2.5, 3.0, 3.5)
MAX_STRETCH = (1.25, 1.5, 1.75)
GUESS = (0.6, 0.65, 0.7, 0.75, 0.8)
TOLERANCE = (0.1, 0.15, 0.2, 0.3)
TIE = 0.0005  # mean CERs closer than 0.05 points count as equal: the cheaper setting wins


@dataclass
class DenseSet:
    """One validation set: its crops, truths, each crop's ``Recognizer.density`` and its reading (prediction,
    frames, greedy length; None for a blank crop) at each stretch tried so far."""

    name: str
    images: list[np.ndarray]
    truths: list[str]
    case_sensitive: bool
    density: list[tuple[int, float]] = field(default_factory=list)
    reads: dict[float, list[tuple[Prediction, int, int] | None]] = field(default_factory=dict)

    def cer(self, texts: list[str]) -> float:
        """Character error rate of ``texts`` against the truths (upper-cased for a case-insensitive set)."""

        def fold(s: str) -> str:
            return s if self.case_sensitive else s.upper()

        errors = sum(char_errors(fold(t), fold(p)) for t, p in zip(self.truths, texts))
        return errors / max(1, sum(len(t) for t in self.truths))


def read_at(rec: Recognizer, dense: DenseSet, stretch: float, which: list[int]) -> None:
    """Read the crops ``which`` at ``stretch`` (those not read at it yet) and keep their readings."""
    if stretch not in dense.reads:
        dense.reads[stretch] = [None] * len(dense.images)
    done = dense.reads[stretch]
    todo = [i for i in which if done[i] is None]
    if todo:
        for i, out in zip(todo, rec.outputs([dense.images[i] for i in todo], stretch=stretch)):
            done[i] = BLANK if out is None else (prediction_of(rec.decode(out)), out.shape[0], greedy_length(out))


BLANK = (Prediction("", 0.0), 0, 0)


def policy_texts(rec: Recognizer, dense: DenseSet, config: DecoderConfig) -> tuple[list[str], int, int]:
    """Each crop's text under ``config``'s dense-line settings, how many crops were read twice, and the frames
    the network ran in all (as ``Recognizer._read_lines`` reads them)."""
    firsts = [config.guess_stretch(*d) for d in dense.density]
    for s in sorted(set(firsts)):
        read_at(rec, dense, s, [i for i, x in enumerate(firsts) if x == s])
    again: dict[int, float] = {}
    for i, first in enumerate(firsts):
        _, frames, length = dense.reads[first][i] or BLANK
        stretch = config.again_stretch(first, frames, length) if frames else None
        if stretch is not None:
            again[i] = stretch
    for s in sorted(set(again.values())):
        read_at(rec, dense, s, [i for i, x in again.items() if x == s])
    texts, frames = [], 0
    for i, first in enumerate(firsts):
        reading = dense.reads[first][i] or BLANK
        frames += reading[1]
        pred = reading[0]
        if i in again:
            second = dense.reads[again[i]][i] or BLANK
            frames += second[1]
            if second[1]:  # both readings merged word by word; a blank second one keeps the first (as the recognizer)
                pred = merged(pred, second[0])
        texts.append(pred.text)
    return texts, len(again), frames


def measure(rec: Recognizer, sets: list[DenseSet], config: DecoderConfig) -> dict[str, Any]:
    """One row: ``config``'s dense-line settings, CER per set and their mean, lines read twice, network work."""
    cer, again, work = {}, {}, {}
    for dense in sets:
        plain = sum(r[1] for r in dense.reads[1.0] if r)
        texts, again[dense.name], frames = policy_texts(rec, dense, config)
        cer[dense.name] = round(dense.cer(texts), 4)
        work[dense.name] = round(frames / max(1, plain), 3)  # network frames against reading every crop once
    row = {"dense_below": config.dense_below, "dense_target": config.dense_target,
           "dense_max_stretch": config.dense_max_stretch, "dense_guess": config.dense_guess,
           "dense_tolerance": config.dense_tolerance, "cer": cer, "read_again": again, "work": work,
           "mean": round(float(np.mean(list(cer.values()))), 4)}
    log.info("%s", row)
    return row


def tune(rec: Recognizer, sets: list[DenseSet]) -> list[dict[str, Any]]:
    """Every setting of the grid (and 'off') read plain first, best mean CER first."""
    for dense in sets:
        if not dense.density:
            dense.density = [rec.density(prepare_line_parts(img, rec.info.input_spec)) for img in dense.images]
        read_at(rec, dense, 1.0, list(range(len(dense.images))))
    plain = replace(rec.config, dense_guess=0.0)
    grid = [replace(plain, dense_below=0.0)] + [
        replace(plain, dense_below=b, dense_target=t, dense_max_stretch=m)
        for b, t, m in itertools.product(BELOW, TARGET, MAX_STRETCH) if t >= b]
    rows = [measure(rec, sets, config) for config in grid]
    rows.sort(key=lambda r: (r["mean"], r["dense_below"]))
    # within TIE of the lowest mean CER (noise on ~1,000 crops), the setting that reads the fewest lines again first
    near = [r for r in rows if r["mean"] <= rows[0]["mean"] + TIE]
    near.sort(key=lambda r: (sum(r["read_again"].values()), r["mean"]))
    return near + [r for r in rows if r not in near]


def tune_guess(rec: Recognizer, sets: list[DenseSet], base: dict[str, Any]) -> list[dict[str, Any]]:
    """``base``'s setting with every guess of the grid: those no worse than ``base`` first, least work first."""
    config = replace(rec.config, dense_below=base["dense_below"], dense_target=base["dense_target"],
                     dense_max_stretch=base["dense_max_stretch"])
    rows = [measure(rec, sets, replace(config, dense_guess=g, dense_tolerance=t))
            for g, t in itertools.product(GUESS, TOLERANCE)]

    def no_worse(r: dict[str, Any]) -> bool:
        return r["mean"] <= base["mean"] and all(r["cer"][k] <= base["cer"][k] for k in base["cer"])

    def work(r: dict[str, Any]) -> float:
        return sum(r["work"].values())

    good = sorted([r for r in rows if no_worse(r)] + [base], key=lambda r: (work(r), r["mean"]))
    return good + sorted([r for r in rows if r not in good], key=lambda r: r["mean"])


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
    guessed = tune_guess(rec, sets, rows[0])
    print(json.dumps({"best": guessed[0], "read_plain_first": rows[0], "off": off, "next": rows[1:6],
                      "guesses": guessed[1:6]}, indent=1))
    if args.apply:
        info = read_info(args.model)
        best = guessed[0]
        info.decoder = replace(info.decoder, dense_below=float(best["dense_below"]),
                               dense_target=float(best["dense_target"]),
                               dense_max_stretch=float(best["dense_max_stretch"]),
                               dense_guess=float(best["dense_guess"]), dense_tolerance=float(best["dense_tolerance"]))
        info.figures["dense_lines_val_cer"] = {"off": off["cer"], "on": best["cer"], "read_again": best["read_again"],
                                               "work": best["work"]}
        write_info(args.model, info)
    return 0
