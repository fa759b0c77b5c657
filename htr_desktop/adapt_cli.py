"""The headless ``adapt`` command: a personal model bundle from a folder of corrected lines of one writer."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from htr_desktop.arguments import positive_float

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="htr-desktop adapt",
        description="Fine-tune the model to one person's handwriting. In each of three rounds a third of the "
                    "lines is held aside while the others train; the personal model (then trained on every line) is "
                    "written to --out only if the rounds read the lines they held aside better.")
    p.add_argument("--lines", required=True, type=Path, help="folder of line images with .txt sidecars (one writer)")
    p.add_argument("--out", required=True, type=Path, help="folder to write the personal model bundle to")
    p.add_argument("--model", help="the model to start from (default: the bundled model)")
    p.add_argument("--minutes", type=positive_float, default=5.0, help="time budget (default 5)")
    return p


def _progress(fraction: float, message: str) -> None:
    print(f"[{100 * fraction:3.0f}%] {message}", file=sys.stderr, flush=True)


def run_adapt(argv: list[str]) -> int:
    """Run the command: 0 if a better model was written, 1 if not (nothing written), 2 on bad input."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    from model.adapt import AdaptError, AdaptOptions, adapt
    from model.bundle import ModelError
    from model.lines import read_lines_folder

    problems: list[str] = []
    try:
        samples = read_lines_folder(args.lines, problems)
        for problem in problems:
            print(f"skipped {problem}", file=sys.stderr)
        result = adapt(samples, args.out, model=args.model, opts=AdaptOptions(minutes=args.minutes),
                       progress=_progress)
    except (AdaptError, ModelError, FileNotFoundError, OSError) as exc:
        print(json.dumps({"error": str(exc), "installed": False}), flush=True)
        return 2
    if not result.installed:
        print(result.reason, file=sys.stderr)
    print(json.dumps(result.to_json()), flush=True)
    return 0 if result.installed else 1
