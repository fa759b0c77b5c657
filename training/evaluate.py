"""Evaluate a model bundle on labelled images: scores, a per-sample TSV and a PNG grid to look at."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import cv2
import numpy as np

from model.decoder_config import CHOICES
from model.preprocess import prepare_line
from model.recognizer import Recognizer
from training.confidence import flag_counts
from training.datasets import Sample, read_folder, read_iam_gt, read_kaggle_csv, split_by_groups
from training.metrics import char_errors, score
from training.render_eval import read_fonts
from training.validation import SETS, readable

log = logging.getLogger(__name__)


def load_samples(args: argparse.Namespace) -> list[Sample]:
    """The evaluation samples the arguments name (IAM gt restricted to groups, Kaggle CSV, or folder)."""
    if args.set:
        samples = SETS[args.set].samples()
    elif args.iam_gt:
        samples = read_iam_gt(Path(args.iam_gt).expanduser())
        if not args.groups:
            raise SystemExit("--groups is required with --iam-gt (only allowed groups may be used)")
        samples = split_by_groups(samples, args.groups.split(","))
    elif args.kaggle_csv:
        samples = read_kaggle_csv(Path(args.kaggle_csv), Path(args.images or Path(args.kaggle_csv).parent))
    elif args.folder:
        samples = read_folder(Path(args.folder))
    else:
        raise SystemExit("give --set, --iam-gt, --kaggle-csv or --folder")
    return samples[: args.limit] if args.limit else samples


def save_grid(path: Path, images: list[np.ndarray], truths: list[str], preds: list[str], spec_height: int) -> None:
    """A PNG of prepared inputs with truth and prediction under each (errors in red)."""
    rows = []
    width = 900
    for img, t, p in zip(images, truths, preds):
        strip = (255 - np.clip(img, 0, 1) * 255).astype(np.uint8)
        strip = cv2.cvtColor(strip[:, :width], cv2.COLOR_GRAY2BGR)
        canvas = np.full((spec_height + 44, width, 3), 255, np.uint8)
        canvas[:spec_height, : strip.shape[1]] = strip
        cv2.putText(canvas, f"T: {t}"[:110], (2, spec_height + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 110, 0), 1)
        colour = (0, 110, 0) if t == p else (0, 0, 200)
        cv2.putText(canvas, f"P: {p}"[:110], (2, spec_height + 36), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1)
        rows.append(canvas)
    if rows:
        cv2.imwrite(str(path), np.vstack(rows))


def by_font(names: list[str], truths: list[str], preds: list[str], fonts: dict[str, str]) -> dict[str, float]:
    """CER per font of a rendered set (``fonts``: image name -> font file), fonts in name order."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for name, t, p in zip(names, truths, preds):
        if name in fonts:
            group = groups.setdefault(fonts[name], ([], []))
            group[0].append(t)
            group[1].append(p)
    return {f: round(score(*groups[f]).cer, 4) for f in sorted(groups)}


def evaluate(recognizer: Recognizer, samples: list[Sample], out: Path | None, grid: int = 24,
             case_sensitive: bool = True, fonts: dict[str, str] | None = None) -> dict[str, object]:
    """Recognize every sample, write the TSV and grid into ``out``; return the scores (and the CER per font when
    ``fonts`` names each image's font)."""
    loaded = readable(samples)
    images = [img for _, img in loaded]
    truths = [recognizer.info.charset.filter(s.text) for s, _ in loaded]
    paths = [s.path for s, _ in loaded]
    start = time.perf_counter()
    predictions = recognizer.recognize(images)
    seconds = time.perf_counter() - start
    preds = [p.text for p in predictions]

    def fold(text: str) -> str:
        return text if case_sensitive else text.upper()

    folded_truths, folded_preds = [fold(t) for t in truths], [fold(p) for p in preds]
    result: dict[str, object] = dict(score(folded_truths, folded_preds).as_dict())
    result["case_sensitive"] = case_sensitive
    result["word_flags"] = flag_counts(folded_truths,
                                       [[(fold(w.text), w.confidence) for w in p.words] for p in predictions],
                                       recognizer.low_confidence)  # the app's own reading, at the app's threshold
    if fonts:
        result["cer_by_font"] = by_font([p.name for p in paths], folded_truths, folded_preds, fonts)
    result["ms_per_sample"] = round(1000 * seconds / max(1, len(images)), 1)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        with (out / "samples.tsv").open("w", encoding="utf-8") as fh:
            fh.write("path\ttruth\tprediction\tchar_errors\n")
            for p, t, q in zip(paths, truths, preds):
                fh.write(f"{p.name}\t{t}\t{q}\t{char_errors(t, q)}\n")
        spec = recognizer.info.input_spec
        save_grid(out / "grid.png", [prepare_line(i, spec) for i in images[:grid]], truths[:grid], preds[:grid],
                  spec.height)
        (out / "scores.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m training evaluate [--model DIR] (--iam-gt F --groups a,b | --kaggle-csv F | --folder D)``."""
    p = argparse.ArgumentParser(prog="python -m training evaluate")
    p.add_argument("--model", help="bundle folder (default: the bundled model)")
    p.add_argument("--decoder", action="append", choices=CHOICES, help="decoders to compare (repeatable)")
    p.add_argument("--set", choices=tuple(SETS),
                   help="a held-back set (training/validation.py); names: case-insensitive; fonts: held-out fonts")
    p.add_argument("--iam-gt")
    p.add_argument("--groups", help="comma-separated IAM groups (only allowed ones)")
    p.add_argument("--kaggle-csv")
    p.add_argument("--images", help="image folder for --kaggle-csv")
    p.add_argument("--folder")
    p.add_argument("--limit", type=int)
    p.add_argument("--out", type=Path, help="folder for samples.tsv, grid.png, scores.json")
    p.add_argument("--ignore-case", action="store_true", help="score upper-cased texts (always so for --set names)")
    args = p.parse_args(argv)
    samples = load_samples(args)
    fonts = read_fonts(Path(args.folder)) if args.folder else {}
    case_sensitive = (SETS[args.set].case_sensitive if args.set else True) and not args.ignore_case
    results = {}
    for decoder in args.decoder or ["greedy"]:
        rec = Recognizer.load(args.model, decoder=decoder)
        out = args.out / decoder.replace("+", "_") if args.out else None
        results[decoder] = evaluate(rec, samples, out, case_sensitive=case_sensitive,
                                    fonts=fonts)
        print(json.dumps({"decoder": decoder, **results[decoder]}), flush=True)
    return 0
