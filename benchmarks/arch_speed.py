"""Recognition time per IAM line of several model bundles, in process, interleaved so that load hits all alike.

Usage: python -m benchmarks.arch_speed MODEL_DIR [MODEL_DIR ...] [--lines 100] [--repeats 3] [--decoder D]

For each held-back IAM line (groups d05 g04 m03 n03 p01, first N by name) every bundle reads it in turn
(``load_image`` + ``Recognizer.recognize``: preprocess, network, default decoder), one thread each, so a busy
machine slows all bundles alike. Prints the median per line for each bundle and its ratio to the first.
Used to choose the architecture (docs/architecture.md): a network may not cost more than today's per line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import cv2

from benchmarks.data import held_back_lines
from model.imageio import load_image
from model.recognizer import Recognizer


def main() -> None:
    """Time each bundle on the same lines and print a JSON summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--lines", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--decoder", help="the same decoder for every bundle (default: each bundle's own)")
    args = p.parse_args()
    cv2.setNumThreads(1)
    recognizers = [Recognizer.load(m, decoder=args.decoder, threads=1) for m in args.models]
    images = [load_image(path) for path, _ in held_back_lines(args.lines)]
    for r in recognizers:  # warm up: interpreters allocated, LM loaded
        r.recognize(images[:2])
    times: list[list[float]] = [[] for _ in recognizers]
    for image in images:
        for i, r in enumerate(recognizers):
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                r.recognize([image])
                best = min(best, time.perf_counter() - start)
            times[i].append(best)
    base = statistics.median(times[0])
    out = [{"model": m, "version": r.version, "ms_per_line": round(1000 * statistics.median(t), 2),
            "ratio_to_first": round(statistics.median(t) / base, 2)}
           for m, r, t in zip(args.models, recognizers, times, strict=True)]
    print(json.dumps({"lines": len(images), "repeats": args.repeats, "results": out}, indent=1))


if __name__ == "__main__":
    main()
