"""A checkpoint made a candidate bundle and judged against a shipped one by the ship rule.

``python -m training candidate CHECKPOINT --out DIR [--like resources/model] [--version V] [--data data.json]``:

1. exports the checkpoint into DIR (a new folder) with the ``--like`` bundle's decoder settings: beam, language
   model, word list and dense-line reading (``export`` keeps the settings of a model.json already in its folder);
2. fits its word confidences and flag threshold again (``tune-decoder --sets iam,names,fonts --no-grid --apply``);
3. compares both bundles' readings of the validation sets (``compare``) and applies the ship rule
   (``training.compare.ship_verdict``; docs/training.md, session 19).

It prints the table and the verdict and writes them to DIR/candidate.json. The evaluation-only sets (the Debian
fonts, the pages) are left to ``evaluate`` and ``page-eval``: a candidate is never chosen on them.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from model.bundle import ModelError, read_info
from model.recognizer import Recognizer
from training.compare import compare_bundles, ship_verdict, table, verdict_line
from training.export import export
from training.tune_decoder import main as tune_decoder
from training.validation import SETS


def make_candidate(checkpoint: Path, out: Path, like: Path, version: str, data: Path | None = None) -> None:
    """Export ``checkpoint`` into the new folder ``out`` with ``like``'s decoder settings and training description,
    then fit its word confidences on the validation sets (as the shipped bundle's were)."""
    reference = read_info(like)
    out.mkdir(parents=True)
    shutil.copyfile(like / "model.json", out / "model.json")  # export keeps the decoder settings it finds there
    lm = like / reference.decoder.lm if reference.decoder.lm else None
    export(checkpoint, out, version, trained_on=list(reference.trained_on), figures={}, lm=lm,
           data_counts=json.loads(data.read_text()) if data else None)
    if tune_decoder(["--model", str(out), "--sets", ",".join(SETS), "--no-grid", "--apply", "--docs", ""]) != 0:
        raise RuntimeError("tune-decoder failed")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    p = argparse.ArgumentParser(prog="python -m training candidate", description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", type=Path, help=".keras weights (a run's epoch, or `average`'s mean of epochs)")
    p.add_argument("--out", type=Path, required=True, help="a new folder for the candidate bundle")
    p.add_argument("--like", type=Path, default=Path("resources/model"), help="the bundle to compare against")
    p.add_argument("--version", help="the candidate's version (default: the --like bundle's, '+candidate')")
    p.add_argument("--data", type=Path, help="the run's data.json, recorded in model.json")
    p.add_argument("--rounds", type=int, default=2000, help="bootstrap resamplings")
    args = p.parse_args(argv)
    if not args.checkpoint.is_file():
        p.error(f"no checkpoint at {args.checkpoint}")
    if args.out.exists():
        p.error(f"{args.out} exists: give a new folder (nothing is overwritten)")
    try:
        reference = Recognizer.load(args.like)
    except ModelError as exc:
        p.error(str(exc))
    make_candidate(args.checkpoint, args.out, args.like, args.version or f"{reference.info.version}+candidate",
                   args.data)
    rows = compare_bundles(reference, Recognizer.load(args.out), list(SETS), rounds=args.rounds)
    reasons = ship_verdict(rows)
    print(f"A = {args.like} (model {reference.info.version}), B = {args.out}, {args.rounds} paired resamplings")
    print(table(rows))
    print(verdict_line(reasons))
    (args.out / "candidate.json").write_text(json.dumps(
        {"checkpoint": str(args.checkpoint), "like": str(args.like), "rows": [asdict(r) for r in rows],
         "ships": not reasons, "reasons": reasons}, indent=1) + "\n", encoding="utf-8")
    return 0
