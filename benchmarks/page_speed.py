"""Page speed: a ~200-word page, segmentation alone and segmentation + recognition (``read_page``), and a
12-megapixel phone-sized photo. Writes the "pages" section of docs/benchmarks.md.

Usage: python -m benchmarks.page_speed [--model DIR] [--words 200]
The page is composed from lines of the held-back IAM groups (d05 g04 m03 n03 p01) when the IAM files are
present, else from lines drawn with OpenCV's script font.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.data import iam_gt
from benchmarks.report import load_note, machine, write_section
from model.page import clear_cache, read_page, segment_page
from model.pool import RecognizerPool
from training.page_eval import HELD_BACK_GROUPS
from training.pages import EVAL_STYLE, LineSource, compose_page, iam_source, text_source

IAM_GT = iam_gt() or Path("~/.cache/htr-desktop/data/iam-lines/IAM/gt_test.txt").expanduser()


def words_page(source: LineSource, words: int, seed: int = 0) -> tuple[np.ndarray, int, int]:
    """A page with about ``words`` words: the image, its word count and line count."""
    n = 1
    while True:
        style = EVAL_STYLE.__class__(**{**EVAL_STYLE.__dict__, "lines": (n, n), "line_height": (60, 60)})
        page = compose_page(source, style, seed=seed)
        count = sum(len(t.split()) for t in page.texts)
        if count >= words:
            return page.image, count, len(page.texts)
        n += 1


def median_s(fn, repeats: int = 5) -> float:
    """Median wall time in seconds."""
    runs = []
    for _ in range(repeats):
        clear_cache()
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", help="model bundle folder (default: the bundled model)")
    p.add_argument("--words", type=int, default=200)
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    source_name = "held-back IAM lines" if IAM_GT.exists() else "OpenCV script-font lines"
    source = iam_source(IAM_GT, list(HELD_BACK_GROUPS)) if IAM_GT.exists() else text_source(0)
    image, n_words, n_lines = words_page(source, args.words)
    rec = RecognizerPool(args.model)  # one recognizer process per core, as the window and the CLI use it
    rec.start()
    read_page(image, rec)  # warm up
    seg_s = median_s(lambda: segment_page(image))
    read_s = median_s(lambda: read_page(image, rec))
    photo = cv2.resize(image, (4000, int(4000 * image.shape[0] / image.shape[1])), interpolation=cv2.INTER_LINEAR)
    photo = photo[:3000] if photo.shape[0] > 3000 else photo
    photo_s = median_s(lambda: read_page(photo, rec), repeats=3)
    rec.close()
    size = f"{image.shape[1]}x{image.shape[0]} px"
    body = f"""## Pages (segmentation + recognition)

`python -m benchmarks.page_speed` on {machine()}; model `{rec.version}` ({rec.decoder} decoder),
{rec.workers} recognizer process(es) (one per core, `model/pool.py`). A page of {n_words} words in {n_lines} lines
({size}, {source_name}, +-3 degrees, uneven light, JPEG); median of 5 runs; {load_note()}.

| Step | Seconds |
|---|---|
| Segmentation only (prepare + lines + words) | {seg_s:.2f} |
| Segmentation + recognition (`read_page`) | {read_s:.2f} |
| Same page as a {photo.shape[1]}x{photo.shape[0]} photo (`read_page`, median of 3) | {photo_s:.2f} |

Target: a 200-word page (segment + recognize) in at most 0.5 s on this 2-core machine.
"""
    print(body)
    if not args.no_write:
        write_section("pages", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
