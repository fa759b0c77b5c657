"""The headless ``recognize`` command: one result per input, JSON lines with ``--json``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from functools import partial
from pathlib import Path
from typing import Any

from htr_desktop import __version__

log = logging.getLogger(__name__)

LAYOUTS = ("auto", "page", "line", "word")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="htr-desktop recognize", description="Recognize handwriting in images.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files")
    p.add_argument("--layout", choices=LAYOUTS, default="auto",
                   help="page: segment into lines and words; line/word: the image is one line/word; "
                        "auto (default): choose from the image")
    p.add_argument("--json", action="store_true", help="one JSON object per input on its own line")
    p.add_argument("--model", help="a model bundle folder (default: the bundled model)")
    p.add_argument("--decoder", choices=["greedy", "beam", "beam+lexicon"], help="override the model's decoder")
    p.add_argument("--threads", type=int, help="CPU threads for the network (per worker)")
    p.add_argument("--workers", type=int, help="worker processes for several inputs (default: one per core)")
    return p


def print_version() -> int:
    """Print the app and the bundled model versions."""
    from model.bundle import ModelError, bundled_model_dir, read_info

    try:
        model = read_info(bundled_model_dir()).version
    except ModelError as exc:
        model = f"unavailable ({exc})"
    print(f"htr-desktop {__version__}, model {model}")
    return 0


def _emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False), flush=True)
    elif "error" in result:
        print(f"{result['path']}: error: {result['error']}", file=sys.stderr, flush=True)
    else:
        print(f"{result['path']}\t{result['text']}", flush=True)


def recognize_path(recognizer: Any, path: str, layout: str) -> dict[str, Any]:
    """Recognize one file as the given layout; returns the JSON-ready result (or an error)."""
    from model.imageio import ImageError, read_bytes

    try:
        data = read_bytes(path)
    except ImageError as exc:
        return {"path": path, "error": str(exc)}
    return recognize_bytes(recognizer, (path, data), layout)


def recognize_bytes(recognizer: Any, item: tuple[str, bytes], layout: str) -> dict[str, Any]:
    """Recognize one encoded image ``(path or name, bytes)``; the same JSON-ready result as for a file."""
    from model.imageio import ImageError, decode_image
    from model.page import read_image

    path, data = item
    try:
        layout, page = read_image(decode_image(data, Path(path).name), recognizer, layout)
        return {"path": path, "text": page.text, "confidence": round(page.confidence, 4), "layout": layout,
                "lines": [line.to_json() for line in page.lines]}
    except ImageError as exc:
        return {"path": path, "error": str(exc)}
    except MemoryError:
        return {"path": path, "error": f"{Path(path).name}: not enough memory to process this image"}


def run_recognize(argv: list[str]) -> int:
    """Run the command; exit code 0 if every input was recognized, 1 if any failed, 2 if no model."""
    try:
        return _recognize_all(argv)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _recognize_all(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    from model.bundle import ModelError
    from model.pool import RecognizerPool, default_workers

    workers = 1 if len(args.paths) == 1 else min(args.workers or default_workers(), len(args.paths))
    done = 0
    failures = 0
    try:
        with RecognizerPool(args.model, decoder=args.decoder, threads=args.threads, workers=workers) as pool:
            pool.start()
            for result in pool.map(partial(recognize_path, layout=args.layout), args.paths):
                done += 1
                failures += "error" in result
                _emit(result, args.json)
    except (ModelError, ValueError) as exc:
        for path in args.paths[done:]:
            _emit({"path": path, "error": f"model unavailable: {exc}"}, args.json)
        return 2
    except RuntimeError as exc:  # a worker process died (e.g. killed for memory): report, never a traceback
        for path in args.paths[done:]:
            _emit({"path": path, "error": str(exc)}, args.json)
        return 1
    return 1 if failures else 0
