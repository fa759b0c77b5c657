"""Score the page pipeline on generated pages: line detection P/R at IoU >= 0.5, reading order, page CER/WER.

``python -m training.page_eval --source iam --pages 40`` composes pages from the held-back IAM groups
(d05 g04 m03 n03 p01) and reports segmentation figures; with ``--recognize`` it also reads every page and
the same lines from their perfect crops, and reports both CERs and their ratio. ``--source synth`` uses
the handwriting fonts, ``--source text`` OpenCV's script font (no data needed).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from model.decoder_config import CHOICES
from model.page import clear_cache, read_page, segment_page
from training.metrics import score
from training.pages import EVAL_STYLE, PHOTO_STYLE, GeneratedPage, LineSource, compose_page

log = logging.getLogger(__name__)

HELD_BACK_GROUPS = ("d05", "g04", "m03", "n03", "p01")
Box = tuple[int, int, int, int]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def match_boxes(truth: list[Box], pred: list[Box], threshold: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one matches (truth index, predicted index) with IoU >= threshold, best pairs first."""
    pairs = sorted(((iou(t, p), i, j) for i, t in enumerate(truth) for j, p in enumerate(pred)), reverse=True)
    used_t, used_p, matches = set(), set(), []
    for v, i, j in pairs:
        if v < threshold:
            break
        if i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
            matches.append((i, j))
    return sorted(matches)


@dataclass
class SegScores:
    """Line detection totals over pages."""

    truth: int = 0
    predicted: int = 0
    matched: int = 0
    pages_in_order: int = 0
    pages: int = 0
    seconds: float = 0.0

    def add(self, truth: list[Box], pred: list[Box], seconds: float) -> None:
        """Add one page's boxes."""
        matches = match_boxes(truth, pred)
        self.truth += len(truth)
        self.predicted += len(pred)
        self.matched += len(matches)
        order = [j for _, j in matches]
        self.pages_in_order += order == sorted(order)
        self.pages += 1
        self.seconds += seconds

    def as_dict(self) -> dict[str, float]:
        """Recall, precision, reading-order rate and mean seconds per page."""
        return {
            "line_recall": round(self.matched / max(1, self.truth), 4),
            "line_precision": round(self.matched / max(1, self.predicted), 4),
            "reading_order_ok": round(self.pages_in_order / max(1, self.pages), 4),
            "seconds_per_page": round(self.seconds / max(1, self.pages), 3),
            "pages": self.pages,
            "lines": self.truth,
        }


def make_source(kind: str, seed: int, iam_gt: Path, groups: list[str], fonts: Path | None) -> LineSource:
    """The line source named ``kind``: iam | synth | text."""
    from training import pages

    if kind == "iam":
        return pages.iam_source(iam_gt, groups)
    if kind == "synth":
        from training.fonts import font_dir
        from training.pipeline import font_paths

        return pages.synth_source(font_paths(str(fonts or font_dir())), seed=seed)
    return pages.text_source(seed)


def generate(source: LineSource, count: int, seed: int, style: str = "eval", **overrides: object
             ) -> list[GeneratedPage]:
    """``count`` pages with the evaluation (scan-like) or photo style, fields optionally overridden."""
    st = PHOTO_STYLE if style == "photo" else EVAL_STYLE
    st = replace(st, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    return [compose_page(source, st, seed=seed * 100_003 + i) for i in range(count)]


def evaluate_segmentation(pages: list[GeneratedPage]) -> dict[str, float]:
    """Line detection and reading-order figures."""
    scores = SegScores()
    for page in pages:
        t0 = time.perf_counter()
        pred = [ln.box for ln in segment_page(page.image)]
        scores.add(page.boxes, pred, time.perf_counter() - t0)
    return scores.as_dict()


def evaluate_reading(pages: list[GeneratedPage], recognizer: object) -> dict[str, float]:
    """Page CER/WER of read pages vs the CER of the same lines from perfect crops, and their ratio."""
    truths, page_preds, crop_preds = [], [], []
    seconds = 0.0
    for page in pages:
        clear_cache()
        t0 = time.perf_counter()
        result = read_page(page.image, recognizer)
        seconds += time.perf_counter() - t0
        truths.append(page.text)
        page_preds.append(result.text)
        crops = recognizer.recognize(page.crops)  # type: ignore[attr-defined]
        crop_preds.append("\n".join(p.text for p in crops))
    flat = [t.replace("\n", " ") for t in truths]
    on_page = score(flat, [p.replace("\n", " ") for p in page_preds])
    on_crops = score(flat, [p.replace("\n", " ") for p in crop_preds])
    return {
        "page_cer": round(on_page.cer, 4), "page_wer": round(on_page.wer, 4),
        "crop_cer": round(on_crops.cer, 4), "crop_wer": round(on_crops.wer, 4),
        "cer_ratio": round(on_page.cer / max(on_crops.cer, 1e-9), 3),
        "read_seconds_per_page": round(seconds / max(1, len(pages)), 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: print one JSON object with the figures."""
    p = argparse.ArgumentParser(prog="python -m training.page_eval", description=__doc__.split("\n")[0])
    p.add_argument("--source", choices=["iam", "synth", "text"], default="iam")
    p.add_argument("--iam-gt", type=Path,
                   default=Path("~/.cache/htr-desktop/data/iam-lines/IAM/gt_test.txt").expanduser())
    p.add_argument("--groups", nargs="+", default=list(HELD_BACK_GROUPS), help="IAM groups (held-back by default)")
    p.add_argument("--fonts", type=Path, help="font folder for --source synth")
    p.add_argument("--style", choices=["eval", "photo"], default="eval")
    p.add_argument("--pages", type=int, default=40)
    p.add_argument("--line-height", type=int, nargs=2, metavar=("MIN", "MAX"), help="px of a line on the page")
    p.add_argument("--spacing", type=float, nargs=2, metavar=("MIN", "MAX"), help="line pitch / line height")
    p.add_argument("--width", type=int, help="page width in px")
    p.add_argument("--size-jitter", type=float, help="line heights vary by this fraction within a page")
    p.add_argument("--rotation", type=float, help="max page rotation in degrees")
    p.add_argument("--jpeg", type=int, nargs=2, metavar=("MIN", "MAX"), help="JPEG quality range")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--recognize", action="store_true", help="also read the pages and compare with perfect crops")
    p.add_argument("--model", help="model bundle folder (default: the bundled model)")
    p.add_argument("--decoder", choices=CHOICES)
    p.add_argument("--save", type=Path, help="write the generated pages and ground truth here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    random.seed(args.seed)
    np.random.seed(args.seed)
    source = make_source(args.source, args.seed, args.iam_gt, args.groups, args.fonts)
    overrides = {"line_height": args.line_height and tuple(args.line_height),
                 "spacing": args.spacing and tuple(args.spacing), "width": args.width,
                 "size_jitter": args.size_jitter,
                 "rotation": args.rotation, "jpeg": args.jpeg and tuple(args.jpeg)}
    pages = generate(source, args.pages, args.seed, args.style, **overrides)
    if args.save:
        from training.pages import write_pages

        write_pages(pages, args.save)
    figures: dict[str, object] = {"source": args.source, "style": args.style, **evaluate_segmentation(pages)}
    if args.recognize:
        from model.recognizer import Recognizer

        recognizer = Recognizer.load(args.model, decoder=args.decoder)
        figures.update({"model": recognizer.version, "decoder": recognizer.decoder,
                        **evaluate_reading(pages, recognizer)})
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
