"""Compare two model bundles line by line on the validation sets: is the difference more than noise?

Both bundles read the same lines as the app reads them (``Recognizer.recognize``, as ``evaluate`` does; the names
case-insensitive). A paired bootstrap over the lines (each set resampled on its own, the same lines for both
bundles) gives a 95 % interval for each set's CER difference and for the difference of the mean over the sets, the
figure the ship rule compares (docs/training.md).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

import numpy as np

from model.bundle import ModelError
from model.decoder_config import CHOICES
from model.recognizer import Recognizer
from training.datasets import Sample
from training.metrics import char_errors, ref_length
from training.validation import SETS, readable


@dataclass(frozen=True)
class LineErrors:
    """Per line of one set: the character errors of bundles A and B, and the truth's length."""

    a: np.ndarray
    b: np.ndarray
    length: np.ndarray


@dataclass(frozen=True)
class Difference:
    """CER of A and B on a set (or the mean over the sets), B - A, its 95 % interval and the share of resamplings
    in which B reads better."""

    name: str
    cer_a: float
    cer_b: float
    diff: float
    low: float
    high: float
    b_better: float


def cer(errors: np.ndarray, length: np.ndarray) -> float:
    """Corpus CER: errors summed over the lines over their summed length."""
    return float(errors.sum() / max(1, int(length.sum())))


def resampled_diffs(lines: LineErrors, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """CER(B) - CER(A) over ``rounds`` resamplings of the lines with replacement, the same lines for A and B."""
    n = len(lines.length)
    idx = rng.integers(0, n, size=(rounds, n))
    total = np.maximum(lines.length[idx].sum(axis=1), 1)
    return (lines.b[idx].sum(axis=1) - lines.a[idx].sum(axis=1)) / total


def compare(sets: dict[str, LineErrors], rounds: int = 2000, seed: int = 0) -> list[Difference]:
    """A ``Difference`` per set, then one for the mean of the sets' CERs (resampled together, round by round)."""
    rng = np.random.default_rng(seed)
    rows: list[Difference] = []
    all_diffs: list[np.ndarray] = []
    for name, lines in sets.items():
        diffs = resampled_diffs(lines, rounds, rng)
        all_diffs.append(diffs)
        rows.append(_difference(name, cer(lines.a, lines.length), cer(lines.b, lines.length), diffs))
    if len(sets) > 1:
        rows.append(_difference("mean", float(np.mean([r.cer_a for r in rows])),
                                float(np.mean([r.cer_b for r in rows])), np.mean(np.stack(all_diffs), axis=0)))
    return rows


def _difference(name: str, cer_a: float, cer_b: float, diffs: np.ndarray) -> Difference:
    low, high = np.percentile(diffs, [2.5, 97.5])
    return Difference(name, round(cer_a, 5), round(cer_b, 5), round(cer_b - cer_a, 5), round(float(low), 5),
                      round(float(high), 5), round(float((diffs < 0).mean()), 3))


def line_errors(a: Recognizer, b: Recognizer, samples: list[Sample], case_sensitive: bool) -> LineErrors:
    """Both bundles read the samples whose image loads; their character errors and the truths' lengths per line.
    The truths are filtered to the bundles' character set, so both must have the same one."""
    if a.info.charset != b.info.charset:
        raise ValueError("the two bundles read different character sets: their truths would not be the same")
    loaded = readable(samples)
    if not loaded:
        raise ValueError("no readable image in the set (is its data under ~/.cache/htr-desktop? docs/data.md)")
    images = [img for _, img in loaded]

    def fold(text: str) -> str:
        return text if case_sensitive else text.upper()

    truths = [fold(a.info.charset.filter(s.text)) for s, _ in loaded]
    errors = []
    for rec in (a, b):
        preds = [fold(p.text) for p in rec.recognize(images)]
        errors.append(np.array([char_errors(t, p) for t, p in zip(truths, preds)], dtype=np.int64))
    return LineErrors(errors[0], errors[1], np.array([ref_length(t) for t in truths], dtype=np.int64))


def compare_bundles(a: Recognizer, b: Recognizer, names: list[str], rounds: int = 2000, seed: int = 0
                    ) -> list[Difference]:
    """``compare`` of the two bundles' readings of the validation sets ``names`` (``training.validation.SETS``);
    ValueError, naming the set, for one with no readable image."""
    sets = {}
    for n in names:
        try:
            sets[n] = line_errors(a, b, SETS[n].samples(), SETS[n].case_sensitive)
        except ValueError as exc:
            raise ValueError(f"{n}: {exc}") from None
    return compare(sets, rounds=rounds, seed=seed)


#: The ship rule (docs/training.md, session 19): a candidate B ships when the mean CER over the sets is lower, no set
#: reads worse by more than ``SHIP_WORST_SET`` (0.3 points), and B reads better in at least ``SHIP_SHARE`` of the
#: paired resamplings of the mean.
SHIP_WORST_SET = 0.003
SHIP_SHARE = 0.9


def ship_verdict(rows: list[Difference]) -> list[str]:
    """Why candidate B does not ship by the ship rule, given ``compare``'s rows; empty: it ships."""
    per_set = [r for r in rows if r.name != "mean"]
    mean = next((r for r in rows if r.name == "mean"), per_set[0])
    reasons = []
    if mean.diff >= 0:
        reasons.append(f"the mean CER is not lower ({100 * mean.diff:+.2f} points)")
    reasons += [f"{r.name} reads {100 * r.diff:.2f} points worse (at most {100 * SHIP_WORST_SET:.1f} allowed)"
                for r in per_set if r.diff > SHIP_WORST_SET + 1e-12]
    if mean.b_better < SHIP_SHARE:
        reasons.append(f"better in {100 * mean.b_better:.0f} % of the resamplings of the mean "
                       f"(at least {100 * SHIP_SHARE:.0f} % asked)")
    return reasons


def verdict_line(reasons: list[str]) -> str:
    """The ship rule's verdict as one line."""
    return "Ship rule: B ships." if not reasons else "Ship rule: B does not ship: " + "; ".join(reasons) + "."


def table(rows: list[Difference]) -> str:
    """A Markdown table of the differences, in percentage points."""
    out = ["| set | CER A | CER B | B - A | 95 % interval | B better in |", "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r.name} | {100 * r.cer_a:.2f} % | {100 * r.cer_b:.2f} % | {100 * r.diff:+.2f} | "
                   f"{100 * r.low:+.2f} .. {100 * r.high:+.2f} | {100 * r.b_better:.0f} % |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """``python -m training compare --model A --model B [--sets iam,names,fonts] [--decoder D] [--rounds N]``."""
    p = argparse.ArgumentParser(prog="python -m training compare", description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", required=True, help="bundle folder; give it twice: A, then B")
    p.add_argument("--sets", default="iam,names,fonts", help="comma-separated validation sets (iam, names, fonts)")
    p.add_argument("--decoder", choices=CHOICES, default="beam+lm+words")
    p.add_argument("--rounds", type=int, default=2000, help="bootstrap resamplings")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if len(args.model) != 2:
        p.error("give --model twice: the bundle to compare against (A), then the candidate (B)")
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in names if s not in SETS]
    if unknown or not names:
        p.error(f"unknown set(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(SETS)}")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    try:
        a, b = (Recognizer.load(m, decoder=args.decoder) for m in args.model)
    except ModelError as exc:
        p.error(str(exc))
    try:
        rows = compare_bundles(a, b, names, rounds=args.rounds, seed=args.seed)
    except ValueError as exc:
        p.error(str(exc))
    print(f"A = {args.model[0]} (model {a.info.version}), B = {args.model[1]} (model {b.info.version}), "
          f"decoder {args.decoder}, {args.rounds} paired resamplings of the lines")
    print(table(rows))
    reasons = ship_verdict(rows)
    print(verdict_line(reasons))
    print(json.dumps({"a": args.model[0], "b": args.model[1], "rows": [asdict(r) for r in rows],
                      "ships": not reasons, "reasons": reasons}))
    return 0
